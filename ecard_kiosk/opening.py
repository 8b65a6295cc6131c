"""Provides what lets the kiosk's first screen come up before its database: the opening done after it.

Importing SQLAlchemy and opening the database (a server that may not answer at all) is most of a
start-up, and the welcome screen does not need the registry (the rules it does need, for the age
limit it states, are read before it: a few milliseconds). So `build_kiosk(..., deferred=True)`
hands the session a PendingRegistry, and the app starts a BackgroundOpening once its first screen
is on the terminal: it opens the registry, and only then connects the card reader to the session
and starts the service monitor. Until then no card reaches the session (a card already in is seen
as soon as the reader is connected), so no visit can need the registry before it is there; the
monitor keeps the kiosk out of service while the database cannot be used, as it does for a kiosk
that loses it later.
"""
from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING, Callable

from ecard_kiosk.errors import StartupError
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from ecard_kiosk.build import Kiosk
    from kiosk.ports import Clock
    from kiosk.registry import Registry

log = logging.getLogger(__name__)

WAIT_SECONDS = 30.0
"""How long a call on the registry waits for it to be opened before it is told the database is unavailable."""


class PendingRegistry:
    """Stands in for the registry while a BackgroundOpening opens it: every attribute is the registry's.

    Reading one waits (at most `wait_seconds`, on the caller's thread: a worker's, or the monitor's)
    until the registry is open; a registry that could not be opened answers as one whose database
    is down (KioskError DATABASE_UNAVAILABLE). Reading one before the opening has started is a bug
    in the composition (it would wait for nothing), and says so.
    """

    def __init__(self, url: str, wait_seconds: float = WAIT_SECONDS) -> None:
        self._url = url
        self._wait_seconds = wait_seconds
        self._started = threading.Event()
        self._opened = threading.Event()
        self._registry: Registry | None = None
        self._failure = ""

    @property
    def opened(self) -> bool:
        """True once the registry is open (its database may still not answer: that is the monitor's)."""
        return self._registry is not None

    def opening_started(self) -> None:
        self._started.set()

    def resolve(self, registry: "Registry") -> None:
        """The registry is open: from now on every attribute is its own."""
        self._registry = registry
        self._opened.set()

    def fail(self, detail: str) -> None:
        """The registry cannot be opened: every call from now on is DATABASE_UNAVAILABLE."""
        self._failure = detail
        self._opened.set()

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        registry = self._registry
        if registry is None:
            if not self._started.is_set():
                raise RuntimeError(f"registry.{name} was read before the registry began to open (after the first screen)")
            if not self._opened.wait(self._wait_seconds):
                raise KioskError("DATABASE_UNAVAILABLE", f"the registry at {self._url} is still being opened")
            registry = self._registry
            if registry is None:
                raise KioskError("DATABASE_UNAVAILABLE", self._failure)
        return getattr(registry, name)


class DeferredPort:
    """A registry port made at its first call: the LocalRegistry over a registry still being opened, or the
    registry service's HTTP adapter.

    Making it loads the registry's code (SQLAlchemy; httpx and pydantic for the service), which the
    first screen must not wait for; the first call comes from a worker or the monitor, after the first
    screen, like every call on the PendingRegistry under it. Rules given before then (`set_region`)
    are the ones it starts with.
    """

    def __init__(self, make: Callable[[], object]) -> None:
        self._make = make
        self._port: object | None = None
        self._region: object | None = None
        self._lock = threading.Lock()

    def set_region(self, region: object) -> None:
        with self._lock:
            self._region = region
            port = self._port
        forward = getattr(port, "set_region", None)  # the service's adapter has none: the service judges
        if forward is not None:
            forward(region)

    def close(self) -> None:
        """Let go of the port's connections, if it was made (closing one never made makes nothing)."""
        with self._lock:
            port = self._port
        close = getattr(port, "close", None)
        if close is not None:
            close()

    def _opened(self) -> object:
        with self._lock:
            if self._port is None:
                port = self._make()
                forward = getattr(port, "set_region", None)
                if self._region is not None and forward is not None:
                    forward(self._region)
                self._port = port
            return self._port

    def __getattr__(self, name: str) -> object:
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(self._opened(), name)


class BackgroundOpening:
    """The registry, then the reader and the service monitor, opened on a thread after the first screen."""

    def __init__(self, kiosk: "Kiosk", pending: PendingRegistry, clock: "Clock") -> None:
        self._kiosk = kiosk
        self._pending = pending
        self._clock = clock
        self._thread: threading.Thread | None = None
        self._stopping = False
        self._lock = threading.Lock()  # stop() and starting the monitor: one or the other comes first
        self._done = threading.Event()
        self.failure: StartupError | None = None
        """A setting that can never work (an unusable database URL): the kiosk must stop and say it."""

    @property
    def done(self) -> bool:
        return self._done.is_set()

    def start(self, on_failure: Callable[[StartupError], None] | None = None) -> None:
        """Open in the background (once); `on_failure` is called on that thread for a setting that can never work."""
        if self._thread is not None:
            return
        self._pending.opening_started()
        self._thread = threading.Thread(target=self._run, args=(on_failure,), name="kiosk-opening", daemon=True)
        self._thread.start()

    def wait(self, timeout: float | None = None) -> bool:
        """Wait until the opening is over (opened, or failed); True when it is."""
        return self._done.wait(timeout)

    def stop(self) -> None:
        """Shutdown: start nothing more; after it, kiosk.monitor is the monitor to stop, if one was started."""
        with self._lock:
            self._stopping = True

    def _run(self, on_failure: Callable[[StartupError], None] | None) -> None:
        try:
            self._open()
        except StartupError as exc:
            log.error("start-up: %s", exc)
            self.failure = exc
            self._pending.fail(str(exc))
            if on_failure is not None:
                on_failure(exc)
        except Exception:  # noqa: BLE001 - the kiosk stays up, out of service, and the log says why
            log.exception("start-up: opening the registry failed")
            self._pending.fail("the registry could not be opened (see the log)")
            from kiosk.health import DATABASE

            self._kiosk.session.out_of_service(DATABASE)
        finally:
            self._done.set()

    def _open(self) -> None:
        from ecard_kiosk.services import connect_opened, open_registry_unprepared, prepare_registry, start_reader

        from ecard_kiosk.card_side import load_bench
        from kiosk.session import load_event_code

        kiosk = self._kiosk
        # First what the guardian's first key or card needs (the session's events and work, the tester's
        # cards), then the registry. A card profile that does not load stops the kiosk (StartupError).
        load_event_code()
        load_bench(kiosk.bench)
        registry = open_registry_unprepared(kiosk.settings, self._clock)
        # From now on calls go to the registry itself: while its database server does not answer
        # (making the tables below waits for it), they fail as calls to a database that is down do.
        self._pending.resolve(registry)
        prepare = prepare_registry(registry, kiosk.settings)
        log.info("start-up: registry open%s", "" if prepare is None else "; the database does not answer yet")
        with self._lock:
            if self._stopping:
                return
            connect_opened(kiosk, registry, prepare)
            if getattr(kiosk.reader, "start_monitoring", None) is not None:
                start_reader(kiosk)
            elif kiosk.reader.card_present():
                kiosk.session.card_inserted()  # put in before the kiosk could see it (--card, the tester panel)
            assert kiosk.monitor is not None
            kiosk.monitor.start()
