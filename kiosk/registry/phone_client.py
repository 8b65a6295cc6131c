"""Provides the phone's call to the registry service: activate a ticket for the app's user over HTTP (httpx)."""
from __future__ import annotations

# What `kiosk.py activate --as <resident ID> --service <URL>` and the benchmark's simulated phones
# send: POST /v1/phone/activations. The answer is the same PhoneAnswer the in-process PhoneDesk gives.

import httpx

from kiosk.errors import KioskError
from kiosk.registry.phone import PhoneAnswer

ACTIVATIONS_PATH = "/v1/phone/activations"
_FIELDS = ("outcome", "ticket_id", "ecard_id", "child_masked_id", "retry_after_seconds", "tries_left")


def activate_over_http(
    base_url: str, presented: str, phone_user_rid: str, *, client: httpx.Client | None = None, timeout: float = 10.0,
) -> PhoneAnswer:
    """Present a ticket to the service for the app's user.

    Raises:
        KioskError: SERVICE_UNREACHABLE (no answer), SERVICE_BAD_ANSWER (an answer that is not the service's).
    """
    body = {"presented": presented, "phone_user_rid": phone_user_rid}
    try:
        if client is None:
            with httpx.Client(base_url=base_url, timeout=timeout) as own:
                response = own.post(ACTIVATIONS_PATH, json=body)
        else:
            response = client.post(ACTIVATIONS_PATH, json=body)
    except httpx.HTTPError as exc:
        raise KioskError("SERVICE_UNREACHABLE", f"{base_url}: {type(exc).__name__}") from None
    try:
        data = response.json()
        return PhoneAnswer(**{key: data[key] for key in _FIELDS})
    except (ValueError, KeyError, TypeError):
        raise KioskError("SERVICE_BAD_ANSWER", f"{ACTIVATIONS_PATH}: HTTP {response.status_code}") from None
