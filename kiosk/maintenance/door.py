"""Provides TechnicianDoor: technician ID and PIN checked against stored hashes, with a lockout after repeated failures
that outlasts a restart (kept in the data directory) and runs on the real clock."""
from __future__ import annotations

import enum
import json
import logging
import os
import re
import tempfile
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Callable, Mapping

from kiosk.errors import KioskError
from kiosk.maintenance.passwords import PinHash, parse_pin_hash, verify_technician
from kiosk.ports import Clock, OffsetClock, SystemClock

log = logging.getLogger(__name__)

MAX_TRIES = 5
LOCK_SECONDS = 300
UNKNOWN_ID = "(unknown)"
"""What the audit trail says for an ID that is no technician's: it may be a PIN typed into the wrong field."""
STATE_FILE_NAME = "maintenance-door.json"
"""The door's state file in the kiosk's data directory."""

Audit = Callable[[str, str], None]
"""Writes one audit event (kind, detail); may raise KioskError (database down): the door then logs it."""

_TECHNICIAN_FIELD = re.compile(r"(?<![^ ])technician=(\S*)")


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


def real_clock(clock: Clock) -> Clock:
    """The clock a lockout runs on: the kiosk's, unless it is the tester panel's offset clock, whose jumps must not
    lift a lock (then the system clock). A fixed clock (tests' ManualClock) is taken as given."""
    return SystemClock() if isinstance(clock, OffsetClock) else clock


class TechnicianDoor:
    """The kiosk's maintenance door: `MAX_TRIES` failures in a row lock it for `LOCK_SECONDS` (this kiosk, any ID).

    The count and the lock live in `state_file` (written atomically), so a restart does not lift a
    lock; times come from `real_clock`. Each attempt, failure and lock is audited, an unknown ID as
    UNKNOWN_ID. Thread-safe; `try_login` is slow on purpose (the hash): call it from a worker thread.
    """

    def __init__(
        self,
        technicians: Mapping[str, str],
        clock: Clock,
        audit: Audit,
        *,
        max_tries: int = MAX_TRIES,
        lock_seconds: int = LOCK_SECONDS,
        state_file: Path | None = None,
    ) -> None:
        """Args:
            technicians: technician ID -> stored PIN hash (see kiosk.maintenance.passwords).
            clock: the kiosk's clock (see real_clock).
            state_file: where the count of failures and the lock are kept (the data directory's
                STATE_FILE_NAME); None: in memory only.
        Raises:
            ValueError: for a stored hash that cannot be read.
        """
        self._hashes: dict[str, PinHash] = {tid: parse_pin_hash(text) for tid, text in technicians.items()}
        self._fallback = self._hashes
        """The settings' technicians: the door's list until the registry service sends its own (`use_technicians`)."""
        self._clock = real_clock(clock)
        self._audit = audit
        self.max_tries = max_tries
        self.lock_seconds = lock_seconds
        self._state_file = state_file
        self._lock = threading.Lock()
        self._failures = 0
        self._locked_until: datetime | None = None
        with self._lock:
            self._load(self._clock.now())

    @property
    def has_technicians(self) -> bool:
        return bool(self._hashes)

    def use_technicians(self, technicians: Mapping[str, str] | None) -> None:
        """Check logins against `technicians` (ID -> stored hash) from now on, the registry service's list; None: the
        settings' own again. A login already under way finishes with the list it started with.

        Raises:
            ValueError: for an ID or a stored hash that cannot be used (naming the ID, never the hash); the list
                in use stays.
        """
        from kiosk.maintenance.passwords import TECHNICIAN_ID_PATTERN

        if technicians is None:
            hashes = self._fallback
        else:
            hashes = {}
            for technician, text in technicians.items():
                if not TECHNICIAN_ID_PATTERN.match(technician):
                    raise ValueError(f"technician ID {technician[:40]!r} must be 1 to 20 letters, digits, '-' or '_'")
                try:
                    hashes[technician] = parse_pin_hash(text)
                except ValueError as exc:
                    raise ValueError(f"technician {technician}: {exc}") from None
        with self._lock:
            self._hashes = hashes

    def shown_id(self, typed: str) -> str:
        """An ID as the audit trail may show it: a technician's as it is, anything else UNKNOWN_ID."""
        typed = typed.strip()
        return typed if typed in self._hashes else UNKNOWN_ID

    def shown_detail(self, detail: str) -> str:
        """An audit detail with every `technician=X` that is no technician's ID shown as UNKNOWN_ID (rows written
        before the door masked them)."""
        def shown(match: re.Match[str]) -> str:
            value = match.group(1)
            return f"technician={value if value in self._hashes or value in ('-', UNKNOWN_ID) else UNKNOWN_ID}"

        return _TECHNICIAN_FIELD.sub(shown, detail)

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
            self._save()
            return 0
        return int(left + 0.999)

    def try_login(self, technician_id: str, pin: str) -> LoginResult:
        """Check one ID and PIN. Neither is logged; on failure the audit trail gets the ID if it is a technician's."""
        technician_id = technician_id.strip()
        shown = self.shown_id(technician_id)
        with self._lock:
            now = self._clock.now()
            locked = self._locked_seconds_locked(now)
            if locked:
                self._record("maintenance_denied", f"technician={shown} reason=locked seconds_left={locked}")
                return LoginResult(LoginOutcome.LOCKED, locked_seconds=locked)
            admitted = verify_technician(self._hashes, technician_id, pin)
            if admitted:
                if self._failures:
                    self._failures = 0
                    self._save()
                return LoginResult(LoginOutcome.ADMITTED, technician=technician_id)
            self._failures += 1
            failures = self._failures
            if failures >= self.max_tries:
                self._locked_until = now + timedelta(seconds=self.lock_seconds)
            self._save()
            self._record("maintenance_denied", f"technician={shown} reason=wrong failures={failures}")
            if failures < self.max_tries:
                return LoginResult(LoginOutcome.DENIED, tries_left=self.max_tries - failures)
            log.warning("maintenance door locked for %d s after %d failed logins", self.lock_seconds, failures)
            self._record("maintenance_locked", f"after={failures} seconds={self.lock_seconds}")
            return LoginResult(LoginOutcome.LOCKED, locked_seconds=self.lock_seconds)

    # ----------------------------------------------------------------- the state file
    def _load(self, now: datetime) -> None:
        if self._state_file is None:
            return
        try:
            state = json.loads(self._state_file.read_text(encoding="utf-8"))
            failures = state["failures"]
            until = state["locked_until"]
            if not isinstance(failures, int) or isinstance(failures, bool) or failures < 0:
                raise ValueError("failures is not a count")
            locked_until = None if until is None else datetime.fromisoformat(until)
            if locked_until is not None and locked_until.tzinfo is None:
                raise ValueError("locked_until has no time zone")
        except FileNotFoundError:
            return
        except (OSError, ValueError, KeyError, TypeError) as exc:
            # Fail closed: a state file nobody can read may have been broken on purpose to lift a lock.
            log.warning("maintenance door state %s cannot be read (%s): locked for %d s", self._state_file, exc,
                        self.lock_seconds)
            self._failures, self._locked_until = self.max_tries, now + timedelta(seconds=self.lock_seconds)
            self._save()
            return
        self._failures = failures
        if locked_until is not None and locked_until - now > timedelta(seconds=self.lock_seconds):
            # Further than one lock reaches: the clock was set back, or the file edited. One lock from now.
            locked_until = now + timedelta(seconds=self.lock_seconds)
        self._locked_until = locked_until

    def _save(self) -> None:
        if self._state_file is None:
            return
        state = {"failures": self._failures,
                 "locked_until": None if self._locked_until is None else self._locked_until.isoformat()}
        directory = self._state_file.parent
        temporary: str | None = None
        try:
            directory.mkdir(parents=True, exist_ok=True)
            # Written beside the file, then renamed over it: a crash leaves the old state or the new, never half.
            handle, temporary = tempfile.mkstemp(prefix=f".{self._state_file.name}.", dir=directory)
            with os.fdopen(handle, "w", encoding="utf-8") as file:
                json.dump(state, file)
                file.flush()
                os.fsync(file.fileno())
            os.replace(temporary, self._state_file)
            temporary = None
        except OSError as exc:
            # The door still counts and locks in memory; only a restart would forget it.
            log.warning("maintenance door state not written to %s: %s", self._state_file, exc)
        finally:
            if temporary is not None:
                try:
                    os.unlink(temporary)
                except OSError:
                    pass

    def _record(self, kind: str, detail: str) -> None:
        try:
            self._audit(kind, detail)
        except KioskError as exc:
            # A door that cannot write its audit trail still keeps count and locks; the log keeps the event.
            log.warning("audit event %s not written (%s): %s", kind, exc.detail, detail)
