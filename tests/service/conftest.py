"""Provides the service tests' fixtures: the registry service on a real uvicorn (127.0.0.1, a free port), on SQLite and PostgreSQL.

`running_service` (parametrised over both backends) is the fixture other service tests reuse: one
uvicorn per backend and test process (session-scoped, started when first asked for), its registry
emptied and the demo data loaded afresh for each test, the service's clock set back to NOW.
"""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import sqlalchemy as sa

from kiosk.registry import load_demo, tallies
from kiosk.registry.models import TABLES
from kiosk.registry.schema import upgrade
from kiosk.registry.database import Database
from registry_service.app import create_app
from registry_service.service import Service
from registry_service.settings import ServiceSettings, load_service_settings
from tests.service.uvicorn_thread import ServiceThread
from tests.unit.core.conftest import (  # noqa: F401 - fixtures, shared with the core's registry tests
    BACKENDS,
    DEMO_FILE,
    NOW,
    empty_postgresql,
    postgres_server,
    postgres_url,
)

URL_BASE = "https://ecard.example.gov.cn/a"
SERVICE_DATABASE = "kiosk_service"
"""The database of the service tests on the private PostgreSQL server (the core's tests use their own)."""


class ServiceClock:
    """The service's clock in the tests: it moves only when a test says so."""

    def __init__(self, start: datetime) -> None:
        self.current = start

    def now(self) -> datetime:
        return self.current

    def advance(self, seconds: float) -> None:
        self.current += timedelta(seconds=seconds)


@dataclass
class RunningService:
    """The registry service a test talks to over HTTP, and its insides for setting up and checking."""

    backend: str
    base_url: str
    service: Service
    clock: ServiceClock
    settings: ServiceSettings

    def kiosk(self, kiosk_id: str) -> str:
        """A fresh credential for `kiosk_id` (as `ecard-registry kiosk add` makes it)."""
        return self.service.credentials.add(kiosk_id)

    def client(self, credential: str | None = None, **options) -> httpx.Client:
        """An HTTP client of the service, sending `Authorization: Bearer <credential>` when given."""
        headers = {"Authorization": f"Bearer {credential}"} if credential else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=options.pop("timeout", 10), **options)


def service_settings(database_url: str, data_dir: Path) -> ServiceSettings:
    return load_service_settings(environ={}, overrides={
        "database_url": database_url, "data_dir": str(data_dir), "port": 0, "credential_cache_seconds": 0,
        "activation_url_base": URL_BASE, "pool_size": 10, "console_refresh_seconds": 0.3,
    })


class StoppableService:
    """The registry service on SQLite, on one port for the module: stopped and started again as an operator would."""

    def __init__(self, folder: Path) -> None:
        url = f"sqlite:///{folder / 'registry.sqlite3'}"
        database = Database.open(url)
        try:
            upgrade(database)
        finally:
            database.dispose()
        self.settings = service_settings(url, folder)
        self.clock = ServiceClock(NOW)
        self.service = Service.open(self.settings, self.clock)
        self.thread: ServiceThread | None = ServiceThread(create_app(self.settings, service=self.service)).start()
        self.port = self.thread.port
        self.base_url = self.thread.base_url

    def stop(self) -> None:
        assert self.thread is not None
        self.thread.stop()
        self.thread = None

    def start(self) -> None:
        self.thread = ServiceThread(create_app(self.settings, service=self.service), port=self.port).start()

    def close(self) -> None:
        if self.thread is not None:
            self.thread.stop()
        self.service.close()


@dataclass
class _Started:
    thread: ServiceThread
    service: Service
    clock: ServiceClock
    settings: ServiceSettings


def _start(database_url: str, data_dir: Path) -> _Started:
    settings = service_settings(database_url, data_dir)
    database = Database.open(database_url)
    try:
        upgrade(database)
    finally:
        database.dispose()
    clock = ServiceClock(NOW)
    service = Service.open(settings, clock)
    thread = ServiceThread(create_app(settings, service=service)).start()
    return _Started(thread, service, clock, settings)


@pytest.fixture(scope="session")
def service_on_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Started]:
    folder = tmp_path_factory.mktemp("service-sqlite")
    started = _start(f"sqlite:///{folder / 'registry.sqlite3'}", folder)
    yield started
    started.thread.stop()
    started.service.close()


@pytest.fixture(scope="session")
def service_on_postgresql(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[_Started]:
    from tests.unit.core.conftest import POSTGRES_URL

    if POSTGRES_URL:
        url = POSTGRES_URL
        engine = sa.create_engine(url)
        empty_postgresql(engine)
        engine.dispose()
    else:
        url = request.getfixturevalue("postgres_server").create_database(SERVICE_DATABASE)
    started = _start(url, tmp_path_factory.mktemp("service-postgresql"))
    yield started
    started.thread.stop()
    started.service.close()


def reset_registry(service: Service) -> None:
    """Empty every registry table (children first), zero the tallies, load the demo data."""
    with service.database.connection("empty the registry", writes=True) as connection:
        for table in reversed(TABLES):
            connection.execute(table.delete())
        tallies.recount(connection)
    assert load_demo(service.registry, DEMO_FILE)


# One xdist group per backend: under `-n 2 --dist loadgroup` the SQLite tests run in one worker and the
# PostgreSQL ones in the other, each worker starting one uvicorn (and one PostgreSQL server) only.
BACKEND_PARAMS = [pytest.param(backend, marks=pytest.mark.xdist_group(f"service-{backend}")) for backend in BACKENDS]


@pytest.fixture(params=BACKEND_PARAMS)
def running_service(request: pytest.FixtureRequest) -> RunningService:
    """The registry service on a real uvicorn, its registry holding the demo data only, its clock at NOW."""
    started: _Started = request.getfixturevalue(f"service_on_{request.param}")
    started.clock.current = NOW
    reset_registry(started.service)
    return RunningService(request.param, started.thread.base_url, started.service, started.clock, started.settings)


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    """Debian's chromium, headless, driven by selenium through /usr/bin/chromedriver: the tester's phone (one per module)."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service as DriverService

    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=390,844"):
        options.add_argument(argument)
    driver = webdriver.Chrome(options=options, service=DriverService("/usr/bin/chromedriver"))
    driver.set_page_load_timeout(20)
    yield driver
    driver.quit()


SERVICE_KIOSK_ID = "HALL-9"
"""The kiosk `service_kiosk` is, by its credential."""


@pytest.fixture
def service_kiosk(settings_for, running_service: RunningService, tmp_path: Path):
    """`async with service_kiosk(**settings) as journey`: the kiosk's app (Pilot, Chinese, the tester panel on, a
    ManualClock at NOW) over the running service, with its own credential; the service answered its first check."""
    from ecard_kiosk import build_app, build_kiosk
    from kiosk.ports import ManualClock
    from tests.functional.harness import Journey

    @contextlib.asynccontextmanager
    async def start(**overrides):
        file = tmp_path / "kiosk.credential"
        file.write_text(running_service.kiosk(SERVICE_KIOSK_ID) + "\n", encoding="ascii")
        values = {"registry": running_service.base_url, "registry_credential_file": str(file), "language": "zh",
                  "activation_poll_seconds": 0.2, "idle_timeout_seconds": 900, **overrides}
        kiosk = build_kiosk(settings_for(**values), clock=ManualClock(NOW))
        app = build_app(kiosk)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                assert kiosk.monitor.check() == ()
                yield Journey(pilot, kiosk)
        finally:
            kiosk.close_registry()

    return start
