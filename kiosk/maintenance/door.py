"""Provides TechnicianDoor: technician ID and PIN checked against stored hashes, with a lockout after repeated failures."""
from __future__ import annotations

import enum
import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Callable, Mapping

from kiosk.errors import KioskError
from kiosk.maintenance.passwords import PinHash, parse_pin_hash, verify_technician
from kiosk.ports import Clock

log = logging.getLogger(__name__)

MAX_TRIES = 5
LOCK_SECONDS = 300

Audit = Callable[[str, str], None]
"""Writes one audit event (kind, detail); may raise KioskError (database down): the door then logs it."""


class LoginOutcome(enum.Enum):
    ADMITTED = "admitted"
    DENIED = "denied"  # wrong ID or PIN (which of the two is never said)
    LOCKED = "locked"  # too many failures: nobody gets in until the lock ends


@dataclass(frozen=True)
class LoginResult:
    """What one login attempt came to."""

    outcome: LoginOutcome
    technician: str | None = None  # the ID, when admitted
    tries_left: int = 0  # before the lock, when denied
    locked_seconds: int = 0  # how long the door stays locked, when locked


def _printable(technician_id: str) -> str:
    # What was typed as an ID goes into the audit trail: short, one line, no PIN-looking noise.
    cleaned = "".join(ch if ch.isprintable() and not ch.isspace() else "?" for ch in technician_id)
    return cleaned[:20] or "-"


class TechnicianDoor:
    """The kiosk's maintenance door: `MAX_TRIES` failures in a row lock it for `LOCK_SECONDS` (this kiosk, any ID).

    Times come from the kiosk's clock; each attempt, failure and lock is audited. Thread-safe;
    `try_login` is slow on purpose (the hash): call it from a worker thread.
    """

    def __init__(
        self,
        technicians: Mapping[str, str],
        clock: Clock,
        audit: Audit,
        *,
        max_tries: int = MAX_TRIES,
        lock_seconds: int = LOCK_SECONDS,
    ) -> None:
        """Args:
            technicians: technician ID -> stored PIN hash (see kiosk.maintenance.passwords).
        Raises:
            ValueError: for a stored hash that cannot be read.
        """
        self._hashes: dict[str, PinHash] = {tid: parse_pin_hash(text) for tid, text in technicians.items()}
        self._clock = clock
        self._audit = audit
        self.max_tries = max_tries
        self.lock_seconds = lock_seconds
        self._lock = threading.Lock()
        self._failures = 0
        self._locked_until: datetime | None = None

    @property
    def has_technicians(self) -> bool:
        return bool(self._hashes)

    def locked_seconds(self) -> int:
        """Seconds the door stays locked (0: open)."""
        with self._lock:
            return self._locked_seconds_locked(self._clock.now())

    def _locked_seconds_locked(self, now: datetime) -> int:
        if self._locked_until is None:
            return 0
        left = (self._locked_until - now).total_seconds()
        if left <= 0:
            self._locked_until = None
            self._failures = 0
            return 0
        return int(left + 0.999)

    def try_login(self, technician_id: str, pin: str) -> LoginResult:
        """Check one ID and PIN. Neither is logged; the ID typed goes to the audit trail on failure."""
        technician_id = technician_id.strip()
        shown = _printable(technician_id)
        with self._lock:
            now = self._clock.now()
            locked = self._locked_seconds_locked(now)
            if locked:
                self._record("maintenance_denied", f"technician={shown} reason=locked seconds_left={locked}")
                return LoginResult(LoginOutcome.LOCKED, locked_seconds=locked)
            admitted = verify_technician(self._hashes, technician_id, pin)
            if admitted:
                self._failures = 0
                return LoginResult(LoginOutcome.ADMITTED, technician=technician_id)
            self._failures += 1
            failures = self._failures
            self._record("maintenance_denied", f"technician={shown} reason=wrong failures={failures}")
            if failures < self.max_tries:
                return LoginResult(LoginOutcome.DENIED, tries_left=self.max_tries - failures)
            self._locked_until = now + timedelta(seconds=self.lock_seconds)
            log.warning("maintenance door locked for %d s after %d failed logins", self.lock_seconds, failures)
            self._record("maintenance_locked", f"after={failures} seconds={self.lock_seconds}")
            return LoginResult(LoginOutcome.LOCKED, locked_seconds=self.lock_seconds)

    def _record(self, kind: str, detail: str) -> None:
        try:
            self._audit(kind, detail)
        except KioskError as exc:
            # A door that cannot write its audit trail still keeps count and locks; the log keeps the event.
            log.warning("audit event %s not written (%s): %s", kind, exc.detail, detail)
