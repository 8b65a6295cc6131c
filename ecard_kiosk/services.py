"""Provides what a kiosk opens and runs beside its screens: the registry, the reader's watcher, the service monitor."""
from __future__ import annotations

from typing import TYPE_CHECKING, Callable

from ecard_kiosk.errors import StartupError
from kiosk.errors import KioskError
from kiosk.settings import Settings

if TYPE_CHECKING:
    from ecard_kiosk.build import Kiosk
    from ecard_kiosk.errors import StartupError as _StartupError
    from kiosk.ports import Clock
    from kiosk.registry import Registry
    from kiosk.registry.port import RegistryPort


def open_registry(settings: Settings, clock: "Clock") -> "Registry":
    """Open (and on first run create and fill) the registry, now or never (for one-shot commands)."""
    registry, prepare = open_registry_lazily(settings, clock)
    if prepare is not None:
        try:
            prepare()
        except KioskError as exc:
            registry.close()
            raise StartupError(f"the database at {settings.resolved_database_url} cannot be used: {exc.detail}") from None
    return registry


def open_registry_lazily(settings: Settings, clock: "Clock") -> "tuple[Registry, Callable[[], None] | None]":
    """Open the registry; when the database does not answer yet, also return what makes it ready later.

    Raises:
        StartupError: for a database URL or SQLite file that can never work (a setting to fix).
    """
    registry = open_registry_unprepared(settings, clock)
    return registry, prepare_registry(registry, settings)


def open_registry_unprepared(settings: Settings, clock: "Clock") -> "Registry":
    """The registry at the database the settings name, not yet asked anything (a server is not waited for).

    Raises:
        StartupError: for a database URL or SQLite file that can never work (a setting to fix).
    """
    from kiosk.registry import Registry

    try:
        return Registry.open(settings.resolved_database_url, clock, kiosk_id=settings.kiosk_id)
    except KioskError as exc:
        raise StartupError(f"the database at {settings.resolved_database_url} cannot be used: {exc.detail}") from None


def prepare_registry(registry: "Registry", settings: Settings) -> "Callable[[], None] | None":
    """Make the tables (and on first run the demo data) now; None when done, else what does it later.

    The callable raises KioskError DATABASE_UNAVAILABLE while the database does not answer.
    """
    from kiosk.embedded import DEMO_REGISTRY_FILE
    from kiosk.registry import load_demo

    def prepare() -> None:
        registry.upgrade_schema()
        if settings.demo_data and registry.is_empty():
            load_demo(registry, DEMO_REGISTRY_FILE)

    try:
        prepare()
    except KioskError:
        return prepare
    return None


def connect_opened(kiosk: "Kiosk", registry: "Registry", prepare: "Callable[[], None] | None") -> None:
    """The registry is open: connect the reader to the session and make the monitor (kiosk.monitor).

    A database that does not answer yet (`prepare` still to run) leaves the kiosk out of service
    until the monitor finds it usable.
    """
    from ecard_kiosk.card_side import wire_reader
    from kiosk.health import DATABASE, ServiceMonitor

    session = kiosk.session
    if prepare is not None:
        session.out_of_service(DATABASE)
    wire_reader(kiosk.reader, session)
    # The embedded registry judges registrations with the rules the session shows: a rule file loaded anew goes to both.
    on_rules = getattr(kiosk.port, "set_region", None)
    kiosk.monitor = ServiceMonitor(session, registry, kiosk.settings.region_file, prepare=prepare, on_rules=on_rules)


def connect_service(kiosk: "Kiosk", port: "RegistryPort") -> None:
    """The registry is the registry service: connect the reader and make the monitor, which probes the service.

    Until the monitor's first check (start_services) has found the service answering and taking this kiosk's
    credential, the kiosk is out of service: no guardian starts a visit the registry cannot finish.
    """
    from ecard_kiosk.card_side import wire_reader
    from kiosk.health import SERVICE_UNREACHABLE, PortProbe, ServiceMonitor

    session = kiosk.session
    if SERVICE_UNREACHABLE not in session.out_of_service_reasons:  # a session made for a service kiosk starts so
        session.out_of_service(SERVICE_UNREACHABLE)
    wire_reader(kiosk.reader, session)
    kiosk.monitor = ServiceMonitor(session, PortProbe(port), kiosk.settings.region_file)


def start_reader(kiosk: "Kiosk") -> None:
    """Start watching the reader (PC/SC); out of service until a usable reader shows up."""
    start = getattr(kiosk.reader, "start_monitoring", None)
    if start is None:
        return
    start()
    if not kiosk.reader.available:
        kiosk.session.out_of_service("READER_UNAVAILABLE")
    elif kiosk.reader.card_present():
        kiosk.session.card_inserted()


def start_services(kiosk: "Kiosk", on_failure: "Callable[[_StartupError], None] | None" = None) -> None:
    """Start the reader's watcher and the database and rule-file monitor.

    A kiosk built with deferred=True opens its registry first, on a thread (see
    ecard_kiosk.opening), and starts them after; `on_failure` hears of a setting found there
    to be unusable (on that thread).
    """
    if kiosk.opening is not None:
        kiosk.opening.start(on_failure)
        return
    start_reader(kiosk)
    if kiosk.monitor is not None:
        kiosk.monitor.start()
    if kiosk.heartbeat is not None:
        kiosk.heartbeat.start()


def stop_services(kiosk: "Kiosk") -> None:
    """Stop what start_services started and let go of the card (shutdown)."""
    if kiosk.opening is not None:
        kiosk.opening.stop()
    if kiosk.monitor is not None:
        kiosk.monitor.stop()
    if kiosk.heartbeat is not None:
        kiosk.heartbeat.stop()
    stop_reader(kiosk)


def stop_reader(kiosk: "Kiosk") -> None:
    """Stop watching and let go of the card and the PC/SC service (shutdown)."""
    kiosk.session.end_visit()
    close = getattr(kiosk.reader, "close", None)
    if close is not None:
        close()
