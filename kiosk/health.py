"""Provides ServiceMonitor: keeps an idle kiosk out of service while its database or its rules cannot be used,
and puts it back by itself as soon as they can.

The reader has its own watcher (devices/); this covers the two other things a kiosk needs:
- the database: until it has been made ready once (`prepare`: the schema upgraded to head, the demo
  data loaded if the settings say so), that first, so a kiosk started while its database server was
  down comes up when the server does; then `Registry.ping()`, the registry's health probe (the
  schema's revision read, a write rolled back: a read-only or garbage file fails it);
- the configuration: the regional rule file. It is read again when it changes on disk; a file that
  no longer loads takes the kiosk out of service (CONFIG_INVALID) rather than deciding on stale
  rules, and the corrected file brings it back with the new rules.

Checks run only while no guardian is at the kiosk (welcome or out of service): a visit in progress
reports a database failure on its own screen, and is never cut short by a check.
"""
from __future__ import annotations

import logging
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Callable

from kiosk.eligibility import Region, RegionFileError, load_region
from kiosk.errors import KioskError
from kiosk.session import KioskSession, Step

if TYPE_CHECKING:
    from kiosk.registry import Registry
    from kiosk.registry.port import RegistryPort

log = logging.getLogger(__name__)

DATABASE = "DATABASE_UNAVAILABLE"
CONFIGURATION = "CONFIG_INVALID"
SERVICE_UNREACHABLE = "SERVICE_UNREACHABLE"
SERVICE_REASONS = (SERVICE_UNREACHABLE, "SERVICE_CREDENTIAL_REFUSED", "SERVICE_BAD_ANSWER")
"""Why a kiosk whose registry is the registry service cannot use it (besides the service's own DATABASE_UNAVAILABLE)."""
REGISTRY_REASONS = (DATABASE, *SERVICE_REASONS)


class PortProbe:
    """The registry port's health probe as the monitor asks it (`ping`): a registry that cannot be used raises why.

    For the registry service: no answer, a refused credential (401: revoked, unknown) or a service whose
    database is down each take the kiosk out of service under its own catalogued reason, with the
    service's words for the technician in the log.
    """

    def __init__(self, port: RegistryPort) -> None:
        self._port = port

    def ping(self) -> None:
        health = self._port.health()
        if health.ok:
            return
        code, _, detail = health.detail.partition(": ")
        if code in SERVICE_REASONS:
            raise KioskError(code, detail)
        raise KioskError(DATABASE, health.detail or f"registry schema {health.schema_state}")


class ServiceMonitor:
    """Checks the database and the rule file every `interval` seconds on its own thread (`start`), or when told (`check`)."""

    def __init__(
        self,
        session: KioskSession,
        registry: Registry | PortProbe,
        region_file: Path,
        *,
        prepare: Callable[[], None] | None = None,
        interval: float = 2.0,
        on_rules: Callable[[Region], None] | None = None,
    ) -> None:
        """Args:
            registry: what `ping()` probes: the embedded registry, or the registry port's probe (PortProbe).
            prepare: makes the database ready on its first answer (tables, demo data); None when
                it already is. Raises KioskError DATABASE_UNAVAILABLE to be tried again.
            interval: seconds between checks.
            on_rules: told of every rule file loaded anew (the embedded registry judges with the session's rules).
        """
        self._session = session
        self._registry = registry
        self._region_file = region_file
        self._prepare = prepare
        self.interval = interval
        self._on_rules = on_rules
        self._region_stamp = _stamp(region_file)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def prepared(self) -> bool:
        """True once the database has been made ready."""
        return self._prepare is None

    def check(self) -> tuple[str, ...]:
        """Check now (when no visit is under way); returns the reasons the kiosk is out of service after it."""
        with self._lock:
            if self._session.step in (Step.WELCOME, Step.OUT_OF_SERVICE):
                self._check_database()
                self._check_rules()
        return self._session.out_of_service_reasons

    def _check_database(self) -> None:
        try:
            if self._prepare is not None:  # first the schema (the probe reads its revision), then the probe
                self._prepare()
                self._prepare = None
                log.info("database ready")
            self._registry.ping()
        except KioskError as exc:
            reason = exc.code if exc.code in REGISTRY_REASONS else DATABASE
            current = self._session.out_of_service_reasons
            if reason not in current:
                log.warning("out of service: the registry cannot be used: %s %s", reason, exc.detail)
            self._session.out_of_service(reason)
            for stale in (r for r in REGISTRY_REASONS if r in current and r != reason):
                self._session.back_in_service(stale)  # one registry reason at a time: the latest
            return
        for reason in (r for r in REGISTRY_REASONS if r in self._session.out_of_service_reasons):
            log.info("the registry answers again (%s is over): back in service", reason)
            self._session.back_in_service(reason)

    def _check_rules(self) -> None:
        stamp = _stamp(self._region_file)
        broken = CONFIGURATION in self._session.out_of_service_reasons
        if stamp == self._region_stamp and not broken:
            return
        try:
            region = load_region(self._region_file)
        except (RegionFileError, OSError) as exc:
            if not broken:
                log.warning("out of service: the rule file %s cannot be used: %s", self._region_file, exc)
                self._session.out_of_service(CONFIGURATION)
            self._region_stamp = stamp
            return
        self._region_stamp = stamp
        self._session.set_region(region)
        if self._on_rules is not None:
            self._on_rules(region)
        log.info("rule file %s loaded (%s)", self._region_file, region.name.en)
        if broken:
            self._session.back_in_service(CONFIGURATION)

    # ----------------------------------------------------------------- thread
    def start(self) -> None:
        """Check at once, then every `interval` seconds on a daemon thread, until `stop`."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="service-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        thread, self._thread = self._thread, None
        if thread is not None:
            thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.check()
            except Exception:  # noqa: BLE001 - the monitor must outlive anything a check does
                log.exception("service check failed")
            self._stop.wait(self.interval)


def _stamp(path: Path) -> tuple:
    """When the rule file, or any file beside it (it may `extends` one), last changed."""
    stamps = []
    for candidate in [path, *sorted(path.parent.glob("*.toml"))]:
        try:
            info = candidate.stat()
        except OSError:
            stamps.append((str(candidate), None))
            continue
        stamps.append((str(candidate), info.st_mtime_ns, info.st_size))
    return tuple(stamps)


def initial_region(region_file: Path) -> Region | None:
    """The rules to start with, or None when the file cannot be used (the monitor then keeps the kiosk out of service)."""
    try:
        return load_region(region_file)
    except (RegionFileError, OSError) as exc:
        log.error("the rule file %s cannot be used: %s", region_file, exc)
        return None
