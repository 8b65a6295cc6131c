"""Provides the core tests' fixtures: a manual clock, throwaway registries (SQLite and PostgreSQL), demo data.

Every registry test runs on both backends. PostgreSQL is a real server: a private one that the
test session starts (and stops) itself from the Debian package `postgresql` (`bash .ci/setup`),
or, when KIOSK_TEST_POSTGRES_URL is set, the database it names.
"""
from __future__ import annotations

import os
import shutil
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from kiosk import CONFIG_DIR
from kiosk.ports import ManualClock
from kiosk.registry import Registry, load_demo, schema, tallies
from kiosk.registry.database import Database
from kiosk.registry.models import TABLE_NAMES
from tests.postgres_server import PostgresNotInstalled, PostgresServer, PostgresServerError

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
TODAY = date(2026, 6, 1)
DEMO_FILE = CONFIG_DIR / "demo" / "registry.toml"
REGIONS = CONFIG_DIR / "regions"
KIOSK_ID = "TEST-KIOSK"
POSTGRES_URL = os.environ.get("KIOSK_TEST_POSTGRES_URL", "")
"""A throwaway PostgreSQL database of your own to use instead of the private server; its schema `public` is
dropped and made afresh for every test."""
TEST_DATABASE = "kiosk_test"
"""The database the tests use on the private server."""

BACKENDS = ["sqlite", "postgresql"]
_SERVER_STARTED = pytest.StashKey[PostgresServer]()


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'data' / 'registry.sqlite3'}"


@pytest.fixture(scope="session")
def postgres_server(request: pytest.FixtureRequest) -> Iterator[PostgresServer]:
    """A private PostgreSQL server for the whole test session, stopped and removed after it."""
    problem = ""
    try:
        server = PostgresServer().start()
    except PostgresNotInstalled as exc:  # a failure, never a skip: PostgreSQL support is claimed
        problem = str(exc)
    except PostgresServerError as exc:
        problem = f"the test PostgreSQL server did not start: {exc}"
    if problem:
        pytest.fail(problem, pytrace=False)
    request.config.stash[_SERVER_STARTED] = server
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(request: pytest.FixtureRequest) -> str:
    """A throwaway PostgreSQL database: KIOSK_TEST_POSTGRES_URL's, or a new one on the private server."""
    if POSTGRES_URL:
        return POSTGRES_URL
    server: PostgresServer = request.getfixturevalue("postgres_server")
    return server.create_database(TEST_DATABASE)


@pytest.fixture
def postgres_test_url(request: pytest.FixtureRequest, postgres_url: str) -> str:
    """postgres_url for one test; on the private server, with no connection an earlier test left open
    (its locks would hold up the DROP TABLEs of the next registry)."""
    if not POSTGRES_URL:
        server: PostgresServer = request.getfixturevalue("postgres_server")
        server.end_connections(TEST_DATABASE)
    return postgres_url


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A SQLite registry file the migrations brought to head once; each test gets a copy (tens of DDL saved)."""
    path = tmp_path_factory.mktemp("template") / "registry.sqlite3"
    database = Database.open(f"sqlite:///{path}")
    schema.upgrade(database)
    database.dispose()
    return path


@pytest.fixture(params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Iterator[Registry]:
    """An empty registry at the schema's head on each backend."""
    if request.param == "sqlite":
        url = sqlite_url(tmp_path)
        (tmp_path / "data").mkdir()
        shutil.copyfile(request.getfixturevalue("sqlite_template"), tmp_path / "data" / "registry.sqlite3")
    else:
        url = request.getfixturevalue("postgres_test_url")  # so the server starts only when a test needs it
    opened = Registry.open(url, clock, kiosk_id=KIOSK_ID)
    if request.param == "postgresql" and not empty_at_head(opened.database):
        empty_postgresql(opened.database.engine)
        opened.upgrade_schema()
    yield opened
    opened.close()


def empty_at_head(database: Database) -> bool:
    """Empty the registry's tables of a database whose schema is at head (quicker than migrating again).

    Returns:
        False when the schema is not at head (a test changed it, or nothing is there yet): migrate instead.
    """
    if not schema.schema_status(database).current:
        return False
    tables = ", ".join(sorted(TABLE_NAMES))
    with database.connection("empty", writes=True) as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        tallies.recount(connection)  # the tallies' rows, at zero
    return True


def empty_postgresql(engine: sa.Engine) -> None:
    """Drop everything in the database's schema `public`: tables, the migrations' version, triggers, functions."""
    with engine.begin() as connection:
        connection.execute(sa.text("DROP SCHEMA public CASCADE"))
        connection.execute(sa.text("CREATE SCHEMA public"))


@pytest.fixture
def demo_registry(registry: Registry) -> Registry:
    assert load_demo(registry, DEMO_FILE)
    return registry


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, config: pytest.Config) -> None:
    server = config.stash.get(_SERVER_STARTED, None)
    if server is not None:
        terminalreporter.write_line(
            f"PostgreSQL test server ({server.bindir}): initdb and start took {server.start_seconds:.2f} s"
        )
