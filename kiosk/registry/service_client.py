"""Provides ServiceRegistry: the registry port over HTTP, to the registry service (httpx; timeouts, bounded retries)."""
from __future__ import annotations

# Retries: a call whose repetition cannot do anything twice is retried after a lost connection, a
# timeout or a 502/503/504, with a growing pause: the reads (GETs, and the POSTs that only carry ID
# numbers in their body) and `register`, whose Idempotency-Key makes the service answer a retry with
# the same e-card. Issuing, withdrawing, cancelling and auditing are tried once (a connection that
# could not be opened at all is tried once more by the transport: nothing was sent). The whole of a
# retried call stays within `ServiceTimeouts.total_seconds`, under the kiosk's work deadline.
#
# Failures are the catalogue's: SERVICE_UNREACHABLE (no answer), SERVICE_CREDENTIAL_REFUSED (401,
# with the service's reason for the technician), SERVICE_BAD_ANSWER (not the API's answer), and the
# codes the service itself answers with (DATABASE_UNAVAILABLE, ACTIVATION_UNKNOWN; RequestRejected).
#
# The look for the activation is the service's RFC 8628 poll (`/v1/kiosk/tickets/{id}/poll`): its
# `interval` is the least wait before the next look, and a slow_down raises it by 5 s for that ticket
# from then on (section 3.5), which this client remembers itself too, whatever the server answers.
# expired_token and access_denied (a ticket locked by strangers' tries) end the look at that ticket:
# the session then draws a fresh QR, or ends the visit once the renewals are spent.

import functools
import json as _json
import logging
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal, Mapping

import httpx
from pydantic import TypeAdapter, ValidationError

from kiosk.domain import CardStatus
from kiosk.errors import CATALOGUE, KioskError
from kiosk.registry.credential import CREDENTIAL_MIN_LENGTH, read_credential
from kiosk.registry.port import (
    ChildFacts,
    ChildSummary,
    PendingRegistration,
    PresentedCard,
    Registration,
    RegistryHealth,
    TicketStatus,
)
from kiosk.registry.records import RequestRejected
from kiosk.tickets import TicketState

__all__ = ["CREDENTIAL_MIN_LENGTH", "ServiceRegistry", "ServiceTimeouts", "read_credential"]

_LOG = logging.getLogger("kiosk.registry.service")

REJECTED_CODES = frozenset({"IDEMPOTENCY_KEY_INVALID", "IDEMPOTENCY_KEY_REUSED", "ECARD_UNKNOWN"})
"""The service's answers that are RequestRejected at the port (the kiosk's mistake, not a failure)."""
_SERVICE_CODES = frozenset({"ACTIVATION_UNKNOWN", "ACTIVATION_USED", "ACTIVATION_EXPIRED", "DATABASE_UNAVAILABLE"})
"""The catalogue's codes the service answers with and the kiosk takes as they are."""
_RETRY_STATUS = frozenset({502, 503, 504})
SLOW_DOWN_STEP_SECONDS = 5.0
"""RFC 8628 section 3.5: after a slow_down the kiosk waits this much longer, for this and every later look."""
_POLLS_REMEMBERED = 64
"""Tickets whose raised interval is kept (a kiosk shows one at a time; a few withdrawn ones linger)."""


@dataclass(frozen=True)
class PollReply:
    """The service's answer to a kiosk's poll of its ticket (registry_service.phone, kiosk.registry.phone.PollAnswer)."""

    ticket_id: int
    state: TicketState
    error: Literal["authorization_pending", "slow_down", "expired_token", "access_denied"] | None
    interval_seconds: float
    expires_at: datetime


@dataclass(frozen=True)
class ServiceTimeouts:
    """How long the kiosk waits for the service."""

    connect_seconds: float = 2.0
    read_seconds: float = 5.0
    """For one answer (a registration on a busy service takes tens of milliseconds)."""
    total_seconds: float = 12.0
    """For a call with its retries; no retry starts after this."""
    retries: int = 2
    """Further tries of an idempotent call."""
    backoff_seconds: float = 0.2
    """Pause before the first retry; each next one waits three times as long."""


@functools.lru_cache(maxsize=None)
def _adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind)


class ServiceRegistry:
    """RegistryPort over HTTP: the service's /v1/kiosk routes, this kiosk named by its credential.

    Thread-safe (one httpx client and its connection pool, shared by the kiosk's worker threads).
    """

    def __init__(self, base_url: str, credential: str, timeout: ServiceTimeouts | None = None,
                 *, transport: httpx.BaseTransport | None = None) -> None:
        self._timeouts = timeout or ServiceTimeouts()
        t = self._timeouts
        self.base_url = base_url.rstrip("/")
        self._client = httpx.Client(
            base_url=self.base_url,
            headers={"Authorization": f"Bearer {credential}", "Accept": "application/json"},
            timeout=httpx.Timeout(t.read_seconds, connect=t.connect_seconds, pool=t.connect_seconds),
            transport=transport or httpx.HTTPTransport(retries=1),  # connections that could not be opened
            follow_redirects=False,
        )
        self._poll_lock = threading.Lock()
        self._poll_intervals: dict[int, float] = {}

    def close(self) -> None:
        self._client.close()

    # ------------------------------------------------------------------ the port
    def card_status(self, card_number: str) -> CardStatus:
        answer = self._call("POST", "/v1/kiosk/card-status", json={"card_number": card_number}, retry=True)
        return self._value(dict[str, CardStatus], answer, "card-status")["status"]

    def child_facts(self, guardian_rid: str, child_rid: str) -> ChildFacts:
        answer = self._call("POST", "/v1/kiosk/child-facts", json={"guardian_rid": guardian_rid, "child_rid": child_rid},
                            retry=True)
        return self._value(ChildFacts, answer, "child-facts")

    def pending_registrations(self, guardian_rid: str) -> tuple[PendingRegistration, ...]:
        answer = self._call("POST", "/v1/kiosk/pending-registrations", json={"guardian_rid": guardian_rid}, retry=True)
        return self._value(tuple[PendingRegistration, ...], answer, "pending-registrations")

    def guardian_children(self, guardian_rid: str) -> tuple[ChildSummary, ...]:
        answer = self._call("POST", "/v1/kiosk/guardian-children", json={"guardian_rid": guardian_rid}, retry=True)
        return self._value(tuple[ChildSummary, ...], answer, "guardian-children")

    def register(self, card: PresentedCard, child_rid: str, idempotency_key: str) -> Registration:
        if not idempotency_key.isascii() or not idempotency_key.isprintable():
            raise RequestRejected("IDEMPOTENCY_KEY_INVALID", "expected 8-64 visible ASCII characters")
        answer = self._call("POST", "/v1/kiosk/registrations", json={"card": _card(card), "child_rid": child_rid},
                            headers={"Idempotency-Key": idempotency_key}, retry=True)
        return self._value(Registration, answer, "registrations")

    def issue_ticket(self, ecard_id: int, card: PresentedCard) -> Registration:
        answer = self._call("POST", f"/v1/kiosk/ecards/{int(ecard_id)}/tickets", json={"card": _card(card)})
        return self._value(Registration, answer, "tickets")

    def ticket_state(self, ticket_id: int) -> TicketStatus:
        """The service's RFC 8628 poll; `poll_interval_seconds` is the interval to keep, raised by every slow_down."""
        answer = self._call("GET", f"/v1/kiosk/tickets/{int(ticket_id)}/poll", retry=True)
        reply: PollReply = self._value(PollReply, answer, "poll")
        with self._poll_lock:
            known = self._poll_intervals.pop(ticket_id, 0.0)
            interval = max(reply.interval_seconds, known)
            if reply.error == "slow_down":
                interval = max(reply.interval_seconds, known + SLOW_DOWN_STEP_SECONDS)
                _LOG.info("ticket %d: slow_down, polling every %.1f s from now on", ticket_id, interval)
            if reply.error in ("authorization_pending", "slow_down"):
                self._poll_intervals[ticket_id] = interval
                while len(self._poll_intervals) > _POLLS_REMEMBERED:
                    self._poll_intervals.pop(next(iter(self._poll_intervals)))
        if reply.error == "access_denied":
            _LOG.warning("ticket %d locked after presentations by others than its guardian (access_denied)", ticket_id)
        return TicketStatus(reply.ticket_id, reply.state, reply.expires_at, interval)

    def withdraw_ticket(self, ticket_id: int) -> bool:
        with self._poll_lock:
            self._poll_intervals.pop(ticket_id, None)
        answer = self._call("POST", f"/v1/kiosk/tickets/{int(ticket_id)}/withdraw")
        return self._value(dict[str, bool], answer, "withdraw")["withdrawn"]

    def cancel(self, ecard_id: int, card: PresentedCard) -> Registration:
        answer = self._call("POST", f"/v1/kiosk/ecards/{int(ecard_id)}/cancel", json={"card": _card(card)})
        return self._value(Registration, answer, "cancel")

    def audit(self, kind: str, detail: str) -> None:
        self._call("POST", "/v1/kiosk/audit", json={"kind": kind, "detail": detail}, empty=True)

    def heartbeat(self, report: Mapping[str, Any]) -> Any:
        """POST /v1/kiosk/heartbeat (kiosk.fleet builds the report and reads the answer): tried once, the heartbeat's
        own schedule retries with backoff. Raises KioskError as every call (SERVICE_UNREACHABLE, ...)."""
        return self._call("POST", "/v1/kiosk/heartbeat", json=dict(report), retry=False)

    def health(self) -> RegistryHealth:
        """The service's probe of its registry; never raises: what kept it from answering is in `detail`,
        starting with the catalogue code (`SERVICE_CREDENTIAL_REFUSED: revoked: ...`)."""
        try:
            answer = self._call("GET", "/v1/kiosk/health", retry=False)
            return self._value(RegistryHealth, answer, "health")
        except KioskError as exc:
            return RegistryHealth(False, "", None, f"{exc.code}: {exc.detail}")

    # ------------------------------------------------------------------ HTTP
    def _call(self, method: str, path: str, *, json: Any = None, headers: dict[str, str] | None = None,
              retry: bool = False, empty: bool = False) -> Any:
        t = self._timeouts
        # ASCII JSON: text that is no valid Unicode (a lone surrogate) goes as an escape the service refuses
        # (422) instead of failing to encode here.
        body = None if json is None else _json.dumps(json).encode("ascii")
        headers = {**(headers or {}), **({"Content-Type": "application/json"} if body is not None else {})}
        deadline = time.monotonic() + t.total_seconds
        attempts = 1 + (t.retries if retry else 0)
        for attempt in range(attempts):
            last = attempt == attempts - 1
            try:
                response = self._client.request(method, path, content=body, headers=headers)
            except httpx.TransportError as exc:  # no connection, a timeout, a connection dropped mid-answer
                problem = f"{method} {self.base_url}{path}: {type(exc).__name__}: {exc or 'no answer'}"
                if last or not self._pause(attempt, deadline):
                    raise KioskError("SERVICE_UNREACHABLE", problem) from None
                _LOG.info("retrying after %s", problem)
                continue
            if response.status_code in _RETRY_STATUS and not last and self._pause(attempt, deadline):
                _LOG.info("retrying %s %s after %s", method, path, response.status_code)
                continue
            return self._answer(response, method, path, empty)
        raise AssertionError("unreachable")

    def _pause(self, attempt: int, deadline: float) -> bool:
        """Wait before the next try; False when the next try would start past the deadline."""
        pause = self._timeouts.backoff_seconds * (3 ** attempt)
        if time.monotonic() + pause >= deadline:
            return False
        time.sleep(pause)  # backoff between tries of a blocking call, on the kiosk's worker thread
        return True

    def _answer(self, response: httpx.Response, method: str, path: str, empty: bool) -> Any:
        where = f"{method} {path}: HTTP {response.status_code}"
        if response.is_success:
            if empty:
                return None
            try:
                return response.json()
            except ValueError:
                raise KioskError("SERVICE_BAD_ANSWER", f"{where}, not JSON") from None
        body: dict[str, Any] = {}
        try:
            parsed = response.json()
            body = parsed if isinstance(parsed, dict) else {}
        except ValueError:
            pass
        code, detail = str(body.get("code", "")), str(body.get("detail", "")) or response.text[:200]
        if response.status_code == 401:
            raise KioskError("SERVICE_CREDENTIAL_REFUSED", f"{body.get('reason', 'refused')}: {detail}")
        if code in REJECTED_CODES:
            raise RequestRejected(code, detail)
        if code in _SERVICE_CODES and code in CATALOGUE:
            raise KioskError(code, detail)
        if response.status_code in _RETRY_STATUS:
            raise KioskError("SERVICE_UNREACHABLE", f"{where} {code} {detail}".strip())
        raise KioskError("SERVICE_BAD_ANSWER", f"{where} {code} {detail}".strip())

    def _value(self, kind: Any, answer: Any, route: str) -> Any:
        try:
            return _adapter(kind).validate_python(answer)
        except ValidationError as exc:
            raise KioskError("SERVICE_BAD_ANSWER", f"{route}: {exc.error_count()} field(s) wrong, first: "
                                                   f"{exc.errors()[0].get('msg', '')}") from None


def _card(card: PresentedCard) -> dict[str, Any]:
    return {"card_number": card.card_number, "spec_version": card.spec_version,
            "expiry_date": card.expiry_date.isoformat() if card.expiry_date else None,
            "holder_resident_id": card.holder_resident_id, "pin_verified": card.pin_verified}
