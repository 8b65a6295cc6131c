"""Provides the kiosk's heartbeat to the registry service: what it reports (no personal data), when (a schedule with
capped, jittered exponential backoff), and what it does with the answer (an operator's out-of-service order, the
technician list).

The heartbeat runs on a thread of its own (`HeartbeatSender.start`): the guardian's screen and the session's lock
never wait for it. It reads the session only through its public, masked view and reasons, and counts today's
visits, registrations, activations and refusals from the views the session publishes (codes only). A kiosk whose
registry is "local" has no service to report to and sends none. Wire format: /work/coord/HEARTBEAT.md (the service's
`POST /v1/kiosk/heartbeat`).
"""
from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Callable, Mapping, Protocol

from kiosk.errors import KioskError
from kiosk.ports import Clock
from kiosk.session import KioskSession, SessionView, Step

if TYPE_CHECKING:
    from kiosk.maintenance.door import TechnicianDoor

log = logging.getLogger(__name__)

OPERATOR = "OPERATOR_OUT_OF_SERVICE"
"""The out-of-service reason the operator's order (the heartbeat's answer) sets; only the heartbeat lifts it."""
MIN_INTERVAL_SECONDS = 5
MAX_INTERVAL_SECONDS = 3600
"""Bounds on the interval the service may ask for (a wrong answer never makes the kiosk spin or fall silent)."""

_CODE = re.compile(r"^[A-Z0-9_]{1,40}$")
MAX_REFUSAL_CODES = 50
MAX_LAST_ERRORS = 10

# The kiosk's out-of-service reasons (catalogue codes) as the contract names them.
REASON_GROUPS: dict[str, str] = {
    "READER_UNAVAILABLE": "reader", "READER_LOST": "reader", "READER_BUSY": "reader",
    "PSAM_UNAVAILABLE": "psam", "CARD_NEEDS_PSAM": "psam",
    "DATABASE_UNAVAILABLE": "registry", "SERVICE_UNREACHABLE": "registry",
    "SERVICE_CREDENTIAL_REFUSED": "registry", "SERVICE_BAD_ANSWER": "registry",
    "CONFIG_INVALID": "rules",
    "MAINTENANCE": "technician", "MAINTENANCE_MODE": "technician",
    OPERATOR: "operator",
}
_FAULTS = frozenset(code for code, group in REASON_GROUPS.items() if group in ("reader", "psam", "registry", "rules"))
"""Out-of-service reasons that are failures (the last errors list them); a technician's or operator's are not."""
_VISIT_OPENINGS = (Step.INSERT_CARD, Step.READING)
_BETWEEN_VISITS = (None, Step.WELCOME, Step.OUT_OF_SERVICE, Step.TAKE_CARD)


# ----------------------------------------------------------------------------- what is reported
def settings_fingerprint(settings: Mapping[str, Any], secret_keys: tuple[str, ...] | frozenset[str]) -> str:
    """sha256 (hex) of the effective settings without the secret ones: two kiosks configured alike share it."""
    public = {key: value for key, value in settings.items() if key not in secret_keys}
    import hashlib  # here, not at the top: the kiosk's first screen needs no OpenSSL

    text = json.dumps(public, sort_keys=True, default=str, ensure_ascii=True, separators=(",", ":"))
    return hashlib.sha256(text.encode("ascii")).hexdigest()


class TodayCounts:
    """Today's visits, registrations, activations, refusals by code and the last errors, from the session's views.

    A session listener (`on_view`): quick, thread-safe, and it keeps catalogue codes and times only. The day is the
    kiosk clock's local date (as the session's "today"); the counts start again at midnight and at a restart.
    """

    def __init__(self, clock: Clock) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._day = self._today()
        self._visits = 0
        self._registrations = 0
        self._activations = 0
        self._refusals: Counter[str] = Counter()
        self._errors: deque[tuple[str, datetime]] = deque(maxlen=MAX_LAST_ERRORS)
        self._step: Step | None = None
        self._reason: str | None = None

    def _today(self) -> date:
        return self._clock.now().astimezone().date()

    def _roll_locked(self) -> None:
        today = self._today()
        if today != self._day:
            self._day = today
            self._visits = self._registrations = self._activations = 0
            self._refusals.clear()

    def on_view(self, view: SessionView) -> None:
        with self._lock:
            self._roll_locked()
            before, step = self._step, view.step
            reason, self._reason = self._reason, view.out_of_service
            if view.out_of_service != reason and view.out_of_service in _FAULTS:
                self._error_locked(view.out_of_service)
            if step is before:
                return
            self._step = step
            if step in _VISIT_OPENINGS and before in _BETWEEN_VISITS:
                self._visits += 1
            elif step is Step.ACTIVATION and before is Step.REGISTERING and not view.resumed:
                self._registrations += 1
            elif step is Step.ACTIVATED:
                self._activations += 1
            elif step is Step.NOT_ELIGIBLE:
                codes = view.decision.codes if view.decision is not None else (view.error,)
                for code in codes:
                    if code and _CODE.match(code) and (code in self._refusals or len(self._refusals) < MAX_REFUSAL_CODES):
                        self._refusals[code] += 1
            elif step is Step.ERROR and view.error:
                self._error_locked(view.error)

    def _error_locked(self, code: str) -> None:
        if _CODE.match(code):
            self._errors.appendleft((code, self._clock.now()))

    def report(self) -> tuple[dict[str, Any], list[dict[str, str]]]:
        """The heartbeat's `today` and `last_errors` (newest first)."""
        with self._lock:
            self._roll_locked()
            today = {"date": self._day.isoformat(), "visits": self._visits, "registrations": self._registrations,
                     "activations": self._activations, "refusals": dict(sorted(self._refusals.items()))}
            errors = [{"code": code, "at": _utc(at)} for code, at in self._errors]
        return today, errors


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).replace(microsecond=0).isoformat().replace("+00:00", "Z")


# ----------------------------------------------------------------------------- when
class MonotonicClock:
    """A clock that never jumps (time.monotonic as a datetime): what the heartbeat's schedule and uptime run on,
    so neither a tester's clock jump nor the wall clock set back moves them."""

    _EPOCH = datetime(2000, 1, 1, tzinfo=timezone.utc)

    def now(self) -> datetime:
        return self._EPOCH + timedelta(seconds=time.monotonic())


class HeartbeatSchedule:
    """When the next heartbeat is due: every `interval` seconds after a good one; after failures, again after a pause
    that doubles from `retry_base_seconds` up to `retry_cap_seconds`, each pause jittered (between half and all of
    it) so a hall of kiosks that lost the service together does not come back in step."""

    def __init__(self, clock: Clock, interval_seconds: float, *, retry_base_seconds: float = 2.0,
                 retry_cap_seconds: float = 60.0, rng: random.Random | None = None) -> None:
        self._clock = clock
        self.interval_seconds = float(interval_seconds)
        self.retry_base_seconds = retry_base_seconds
        self.retry_cap_seconds = retry_cap_seconds
        self._rng = rng or random.Random()
        self.failures = 0
        """Failed heartbeats in a row (0: the last one went through)."""
        self.next_at = clock.now()
        """The first heartbeat is due at once."""

    def due(self) -> bool:
        return self._clock.now() >= self.next_at

    def seconds_left(self) -> float:
        return max(0.0, (self.next_at - self._clock.now()).total_seconds())

    def succeeded(self, interval_seconds: float | None = None) -> float:
        """A heartbeat went through (`interval_seconds`: what the service asked for); returns the pause to the next."""
        if interval_seconds is not None:
            self.interval_seconds = float(min(MAX_INTERVAL_SECONDS, max(MIN_INTERVAL_SECONDS, interval_seconds)))
        self.failures = 0
        self.next_at = self._clock.now() + timedelta(seconds=self.interval_seconds)
        return self.interval_seconds

    def backoff_seconds(self, failures: int) -> float:
        """The pause before the next try after `failures` in a row, before jitter."""
        return min(self.retry_cap_seconds, self.retry_base_seconds * (2 ** min(failures - 1, 30)))

    def failed(self) -> float:
        """A heartbeat failed; returns the (jittered) pause to the next try."""
        self.failures += 1
        pause = self.backoff_seconds(self.failures) * (0.5 + 0.5 * self._rng.random())
        self.next_at = self._clock.now() + timedelta(seconds=pause)
        return pause


# ----------------------------------------------------------------------------- the answer
@dataclass(frozen=True)
class OperatorOrder:
    """The operator's out-of-service order, with the words for the guardians."""

    message_zh: str
    message_en: str
    since: str = ""


@dataclass(frozen=True)
class TechnicianList:
    """The service's technician accounts (ID -> stored PIN hash) and the etag naming this version of the list."""

    etag: str
    accounts: dict[str, str] = field(repr=False)  # hashes: kept out of logs


@dataclass(frozen=True)
class HeartbeatAnswer:
    heartbeat_seconds: float
    out_of_service: OperatorOrder | None
    technicians: TechnicianList | None


def parse_answer(answer: Any) -> HeartbeatAnswer:
    """The service's answer, checked.

    Raises:
        KioskError: SERVICE_BAD_ANSWER naming the field that is wrong.
    """
    def bad(what: str) -> KioskError:
        return KioskError("SERVICE_BAD_ANSWER", f"heartbeat: {what}")

    if not isinstance(answer, dict):
        raise bad("not a JSON object")
    seconds = answer.get("heartbeat_seconds")
    if isinstance(seconds, bool) or not isinstance(seconds, (int, float)) or seconds <= 0:
        raise bad("heartbeat_seconds is not a positive number")
    order = answer.get("out_of_service")
    if order is not None:
        if not isinstance(order, dict) or not all(isinstance(order.get(k), str) for k in ("message_zh", "message_en")):
            raise bad("out_of_service has no message_zh and message_en")
        order = OperatorOrder(order["message_zh"][:500], order["message_en"][:500], str(order.get("since") or ""))
    technicians = answer.get("technicians")
    if technicians is not None:
        accounts = technicians.get("accounts") if isinstance(technicians, dict) else None
        etag = technicians.get("etag") if isinstance(technicians, dict) else None
        if not isinstance(etag, str) or not isinstance(accounts, dict) or not all(
                isinstance(k, str) and isinstance(v, str) for k, v in accounts.items()):
            raise bad("technicians is not {etag, accounts: {ID: hash}}")
        technicians = TechnicianList(etag, dict(accounts))
    return HeartbeatAnswer(float(seconds), order, technicians)


class HeartbeatLink(Protocol):
    """The service's heartbeat route (kiosk.registry.service_client.ServiceRegistry.heartbeat)."""

    def heartbeat(self, report: Mapping[str, Any]) -> Any:
        """POST the report; returns the answer's JSON. Raises KioskError (SERVICE_UNREACHABLE, ...) on failure."""
        ...


# ----------------------------------------------------------------------------- the sender
class HeartbeatSender:
    """Reports this kiosk to the registry service every interval, on its own thread, and applies the answer.

    - An operator's out-of-service order takes the kiosk out of service (reason OPERATOR_OUT_OF_SERVICE, the
      operator's words on the screen in the kiosk's language) at the heartbeat that brings it when no visit is
      under way, else as soon as the visit in progress has ended (never in the middle of one); an answer without
      one lifts it (only that reason: the others stay). Either change is reported by a heartbeat at once.
    - A technician list replaces the settings' technicians at the maintenance door; the settings stay in force
      until the first list comes (a kiosk started while the service is unreachable). A list once received stays
      through an outage: pulling the network cable must not bring a revoked technician back. It is kept in memory
      only (hashes are not written to the kiosk's disk).
    """

    def __init__(
        self,
        session: KioskSession,
        link: HeartbeatLink,
        *,
        version: str | Callable[[], str],
        fingerprint: str | Callable[[], str],
        interval_seconds: float,
        door: TechnicianDoor | None = None,
        reader_state: Callable[[], str] = lambda: "no_card",
        psam_state: Callable[[], str] = lambda: "not_needed",
        clock: Clock | None = None,
        rng: random.Random | None = None,
    ) -> None:
        """Args:
            link: the service's heartbeat route.
            version, fingerprint: the software's version and settings_fingerprint(), or what makes them: called once,
                for the first heartbeat (reading the installed package's version is no work for the first screen).
            door: the maintenance door the technician list goes to; None: lists are not used.
            reader_state, psam_state: "ok"/"no_reader"/"no_card"/"error" and "ok"/"absent"/"not_needed"/"error"
                (called on the heartbeat's thread; may do quick reader I/O).
            clock: what the schedule and the uptime run on (MonotonicClock; tests: a ManualClock).
        """
        self._session = session
        self._link = link
        self._version_source = version
        self._fingerprint_source = fingerprint
        self._identity: tuple[str, str] | None = None
        self._door = door
        self._reader_state = reader_state
        self._psam_state = psam_state
        self._clock = clock or MonotonicClock()
        self._started = self._clock.now()
        self.schedule = HeartbeatSchedule(self._clock, interval_seconds, rng=rng)
        self.today = TodayCounts(session.clock)
        self._lock = threading.RLock()  # the answer's state; re-entered when applying the order delivers a view here
        self._order: OperatorOrder | None = None
        self._shown: OperatorOrder | None = None
        self._etag: str | None = None
        self._outage_since: datetime | None = None
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None
        self.beats = 0
        """Heartbeats sent that the service answered."""
        self.last_report: dict[str, Any] | None = None
        self.beat_listeners: list[Callable[[bool], None]] = []
        """Told after every heartbeat whether it went through (on the heartbeat's thread)."""
        session.subscribe(self._on_view)

    # ----------------------------------------------------------------- what goes out
    def _version_and_fingerprint(self) -> tuple[str, str]:
        with self._lock:
            if self._identity is None:
                version, fingerprint = self._version_source, self._fingerprint_source
                self._identity = ((version if isinstance(version, str) else version())[:40],
                                  fingerprint if isinstance(fingerprint, str) else fingerprint())
            return self._identity

    def report(self) -> dict[str, Any]:
        """The heartbeat's body as it stands now (HEARTBEAT.md): states, codes and counts, no personal data."""
        view = self._session.view
        reasons = self._session.out_of_service_reasons
        if view.step is Step.OUT_OF_SERVICE:
            state = "out_of_service"
        elif view.step is Step.WELCOME and not self._session.visit_under_way:
            state = "idle"
        else:
            state = "in_visit"
        groups: list[str] = []
        if state == "out_of_service":
            for reason in reasons:
                group = REASON_GROUPS.get(reason)
                if group is not None and group not in groups:
                    groups.append(group)
        reader = "no_reader" if "READER_UNAVAILABLE" in reasons else _safely(self._reader_state)
        today, errors = self.today.report()
        version, fingerprint = self._version_and_fingerprint()
        with self._lock:
            etag = self._etag
        return {
            "version": version,
            "settings_fingerprint": fingerprint,
            "uptime_seconds": max(0, int((self._clock.now() - self._started).total_seconds())),
            "state": state,
            "out_of_service_reasons": groups,
            "reader": reader,
            "psam": _safely(self._psam_state),
            "today": today,
            "last_errors": errors,
            "technicians_etag": etag,
        }

    # ----------------------------------------------------------------- one beat
    def beat(self) -> bool:
        """Send one heartbeat now and apply its answer (blocks: the heartbeat's thread, or a test's); True when it
        went through. Never raises: a failure is counted, logged once per outage, and tried again with backoff."""
        delivered = self._beat()
        for listener in list(self.beat_listeners):
            try:
                listener(delivered)
            except Exception:  # noqa: BLE001 - a broken listener must not stop the heartbeat
                log.exception("heartbeat listener failed")
        return delivered

    def _beat(self) -> bool:
        report = self.report()
        self.last_report = report
        try:
            answer = parse_answer(self._link.heartbeat(report))
        except KioskError as exc:
            self._failed(exc.code, exc.detail)
            return False
        except Exception as exc:  # noqa: BLE001 - the heartbeat must outlive anything the link does
            self._failed("INTERNAL", f"{type(exc).__name__}: {exc}")
            return False
        self.beats += 1
        self.schedule.succeeded(answer.heartbeat_seconds)
        if self._outage_since is not None:
            lasted = (self._clock.now() - self._outage_since).total_seconds()
            log.info("heartbeat: the service answers again (after %.0f s without)", lasted)
            self._outage_since = None
        self._apply(answer)
        return True

    def _failed(self, code: str, detail: str) -> None:
        failures = self.schedule.failures
        pause = self.schedule.failed()
        if failures == 0:  # the first failure of an outage: one line; the tries after it only at debug level
            self._outage_since = self._clock.now()
            log.warning("heartbeat: not delivered (%s: %s); trying again with backoff, up to every %.0f s",
                        code, detail, self.schedule.retry_cap_seconds)
        else:
            log.debug("heartbeat: try %d failed (%s); next in %.1f s", failures + 1, code, pause)

    def step(self) -> float:
        """Beat if one is due; returns the seconds until the next is due."""
        if self.schedule.due():
            self.beat()
        return self.schedule.seconds_left()

    # ----------------------------------------------------------------- the answer
    def _apply(self, answer: HeartbeatAnswer) -> None:
        with self._lock:
            self._order = answer.out_of_service
            etag = self._etag
        listed = answer.technicians
        if listed is not None and listed.etag != etag:
            self._take_technicians(listed)  # not under the lock: the door waits for a login's slow hash to end
        self._reconcile()

    def _take_technicians(self, listed: TechnicianList) -> None:
        """Only the heartbeat's thread calls this (one beat at a time)."""
        if self._door is not None:
            try:
                self._door.use_technicians(listed.accounts)
            except ValueError as exc:
                log.warning("heartbeat: the service's technician list (etag %s) cannot be used: %s; the list in use "
                            "stays", listed.etag, exc)
                return
        log.info("heartbeat: technician list %s in force (%d accounts)", listed.etag, len(listed.accounts))
        with self._lock:
            self._etag = listed.etag

    @property
    def technicians_etag(self) -> str | None:
        with self._lock:
            return self._etag

    @property
    def operator_order(self) -> OperatorOrder | None:
        """The operator's order the last answer carried (applied or waiting for the visit to end)."""
        with self._lock:
            return self._order

    def _on_view(self, view: SessionView) -> None:
        self.today.on_view(view)
        if view.step in (Step.WELCOME, Step.OUT_OF_SERVICE):
            with self._lock:
                waiting = self._order is not None and self._shown != self._order
            if waiting:
                self._reconcile()

    def _reconcile(self) -> None:
        """Bring the operator's reason in line with the last answer: set between visits, lifted when withdrawn."""
        with self._lock:
            order = self._order
            applied = OPERATOR in self._session.out_of_service_reasons
            if order is None:
                self._shown = None
                if applied:
                    log.info("heartbeat: the operator put the kiosk back in service")
                    self._session.back_in_service(OPERATOR)
                    self._report_soon()
                return
            if applied and self._shown == order:
                return
            if self._session.step not in (Step.WELCOME, Step.OUT_OF_SERVICE):
                return  # a visit, or its closing screens: applied when the welcome screen comes back
            self._shown = order
            if self._session.out_of_service(OPERATOR, order.message_zh, between_visits=True,
                                            message_en=order.message_en):
                log.info("heartbeat: out of service by the operator's order (since %s)", order.since or "now")
                self._report_soon()
            else:
                self._shown = None  # a visit began in between: when it has ended

    def _report_soon(self) -> None:
        """The order changed the kiosk's state: the next heartbeat at once, so the console sees it without waiting an
        interval (unless a failure's backoff is running: then at its time)."""
        if self.schedule.failures == 0:
            self.schedule.next_at = self._clock.now()
            self._wake.set()

    # ----------------------------------------------------------------- thread
    def start(self) -> None:
        """Beat at once, then as the schedule says, on a daemon thread, until `stop`."""
        if self._thread is not None:
            return
        self._stopping = False
        self._wake.clear()
        self._thread = threading.Thread(target=self._run, name="heartbeat", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stopping = True
        self._wake.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(10)

    def _run(self) -> None:
        while not self._stopping:
            try:
                pause = self.step()
            except Exception:  # noqa: BLE001 - the heartbeat must outlive anything a beat does
                log.exception("heartbeat failed")
                pause = self.schedule.failed()
            self._wake.wait(pause)
            self._wake.clear()


def _safely(state: Callable[[], str]) -> str:
    try:
        return state()
    except Exception:  # noqa: BLE001 - a reader that cannot say is in error, the heartbeat still goes
        return "error"
