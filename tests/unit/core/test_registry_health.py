"""The registry's health probe: what the kiosk really needs (the schema's revision read, a write rolled back)."""
from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa

from kiosk.errors import KioskError
from kiosk.health import DATABASE
from kiosk.ports import ManualClock
from kiosk.registry import Registry, load_demo
from tests.conftest import kiosk_root

from .conftest import DEMO_FILE, KIOSK_ID, empty_postgresql, sqlite_url


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """Make the file read-only for this process, also as root (whom chmod does not stop): the immutable flag."""
    if os.geteuid() != 0:
        path.chmod(0o444)
        try:
            yield
        finally:
            path.chmod(0o644)
        return
    done = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True)
    assert done.returncode == 0, f"chattr +i {path}: {done.stderr.strip()} (the test needs a file system with it)"
    try:
        yield
    finally:
        subprocess.run(["chattr", "-i", str(path)], check=True)


@pytest.fixture
def sqlite_registry(tmp_path: Path, clock: ManualClock) -> Iterator[Registry]:
    registry = Registry.open(sqlite_url(tmp_path), clock, kiosk_id=KIOSK_ID, busy_timeout_ms=200)
    registry.upgrade_schema()
    load_demo(registry, DEMO_FILE)
    yield registry
    registry.close()


def database_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "registry.sqlite3"


def refused(registry: Registry) -> KioskError:
    with pytest.raises(KioskError) as caught:
        registry.ping()
    assert caught.value.code == "DATABASE_UNAVAILABLE"
    return caught.value


def test_the_probe_passes_on_a_registry_that_works(sqlite_registry: Registry) -> None:
    sqlite_registry.ping()
    report = sqlite_registry.health()
    assert report.ok and report.schema_state == "current" and report.detail == ""


def test_the_probe_fails_on_a_read_only_database_file(sqlite_registry: Registry, tmp_path: Path) -> None:
    with read_only(database_file(tmp_path)):
        assert sqlite_registry.find_person("430102198803150016") is not None  # reads still work: SELECT 1 did too
        error = refused(sqlite_registry)
        assert "readonly" in error.detail or "read-only" in error.detail
        assert not sqlite_registry.health().ok
    sqlite_registry.ping()


def test_the_probe_fails_on_a_garbage_database_file(sqlite_registry: Registry, tmp_path: Path) -> None:
    sqlite_registry.close()
    for path in database_file(tmp_path).parent.iterdir():
        path.unlink()
    database_file(tmp_path).write_bytes(b"\x00garbage, not a database\xff" * 200)
    assert "not a database" in refused(sqlite_registry).detail


def test_the_probe_fails_on_a_database_of_another_program(sqlite_registry: Registry, tmp_path: Path) -> None:
    sqlite_registry.close()
    for path in database_file(tmp_path).parent.iterdir():
        path.unlink()
    with sqlite3.connect(database_file(tmp_path)) as connection:
        connection.execute("CREATE TABLE notes (id INTEGER PRIMARY KEY, text TEXT)")
    connection.close()
    assert "schema" in refused(sqlite_registry).detail


def test_the_probe_fails_on_a_schema_behind_and_says_the_command(tmp_path: Path, clock: ManualClock) -> None:
    registry = Registry.open(sqlite_url(tmp_path), clock)
    try:
        from kiosk.registry import schema

        schema.upgrade(registry.database, schema.LAST_RELEASE)
        detail = refused(registry).detail
        if schema.head() != schema.LAST_RELEASE:
            assert "behind" in detail and schema.UPGRADE_COMMAND in detail
    finally:
        registry.close()


def test_the_probe_writes_nothing(sqlite_registry: Registry, tmp_path: Path) -> None:
    def snapshot() -> list[tuple]:
        with sqlite3.connect(database_file(tmp_path)) as connection:
            rows = [tuple(row) for row in connection.execute("SELECT * FROM alembic_version")]
            rows += [tuple(row) for row in connection.execute("SELECT count(*), max(id) FROM audit_event")]
        connection.close()
        return rows

    before = snapshot()
    for _ in range(3):
        sqlite_registry.ping()
    assert snapshot() == before


def test_the_probe_fails_on_a_read_only_postgresql_database(postgres_test_url: str, postgres_server, clock) -> None:
    registry = Registry.open(postgres_test_url, clock)
    try:
        empty_postgresql(registry.database.engine)
        registry.upgrade_schema()
        registry.ping()
        name = sa.engine.make_url(postgres_test_url).database
        postgres_server.execute(f'ALTER DATABASE "{name}" SET default_transaction_read_only = on')
        try:
            registry.database.dispose()  # the setting holds for new connections
            assert "read-only" in refused(registry).detail
        finally:
            postgres_server.execute(f'ALTER DATABASE "{name}" RESET default_transaction_read_only')
            registry.database.dispose()
        registry.ping()
    finally:
        registry.close()


def test_a_database_file_turned_read_only_takes_the_idle_kiosk_out_of_service(settings_for, tmp_path: Path) -> None:
    kiosk = kiosk_root.build_kiosk(settings_for())
    try:
        assert kiosk.monitor.check() == ()
        with read_only(tmp_path / "data" / "registry.sqlite3"):
            assert kiosk.monitor.check() == (DATABASE,)
        assert kiosk.monitor.check() == ()
    finally:
        kiosk.registry.close()
