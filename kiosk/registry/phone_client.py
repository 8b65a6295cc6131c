"""Provides the phone's call to the registry service: activate a ticket for the app's user over HTTP (httpx), and the
tester panel's phone on a service kiosk."""
from __future__ import annotations

# What `kiosk.py activate --as <resident ID> --service <URL>` and the benchmark's simulated phones
# send: POST /v1/phone/activations. The answer is the same PhoneAnswer the in-process PhoneDesk gives.

from typing import TYPE_CHECKING, Callable

from kiosk.errors import KioskError

if TYPE_CHECKING:
    import httpx

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
    # httpx, and the answer's type with the registry's phone code (SQL), load at the first call: a service kiosk's
    # tester panel makes a ServicePhone before its first screen, which loads neither.
    import httpx

    from kiosk.registry.phone import PhoneAnswer

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


REFUSAL_CODES = {"invalid_code": "ACTIVATION_UNKNOWN", "already_used": "ACTIVATION_USED",
                 "expired_token": "ACTIVATION_EXPIRED", "access_denied": "ACTIVATION_DENIED",
                 "slow_down": "ACTIVATION_SLOW_DOWN"}
"""The phone route's refusals as the catalogue names them (the tester panel shows these)."""


class ServicePhone:
    """The guardian's app as the tester panel plays it on a service kiosk: the phone route, as the card holder.

    `phone_user` names the app's signed-in user when called (the holder of the card in the reader: the
    guardian at the kiosk); None (no card) presents for nobody, which the service refuses.
    """

    def __init__(self, base_url: str, phone_user: Callable[[], str | None], *, timeout: float = 10.0) -> None:
        self._base_url = base_url
        self._phone_user = phone_user
        self._timeout = timeout

    def __call__(self, presented: str) -> PhoneAnswer:
        """Present what the phone scanned; the e-card activated, or why not.

        Raises:
            KioskError: a refusal's catalogue code (REFUSAL_CODES), SERVICE_UNREACHABLE, SERVICE_BAD_ANSWER.
        """
        user = self._phone_user()
        if not user:
            raise KioskError("ACTIVATION_DENIED", "no card in the reader: no guardian whose phone to play")
        answer = activate_over_http(self._base_url, presented, user, timeout=self._timeout)
        if not answer.ok:
            raise KioskError(REFUSAL_CODES[answer.outcome], f"the phone route answered {answer.outcome}")
        return answer
