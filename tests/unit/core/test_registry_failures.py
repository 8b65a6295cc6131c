"""Provides tests of registry failures: all are DATABASE_UNAVAILABLE and nothing is half-written."""
from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from kiosk.domain import ECardState
from kiosk.errors import KioskError
from kiosk.ports import ManualClock
from kiosk.registry import Registry, load_demo
from kiosk.registry.database import Database

from .conftest import DEMO_FILE, KIOSK_ID, sqlite_url

ZHANG_WEI = "430102198803150016"
ZHANG_XIAOYU = "430102201906010029"


@pytest.fixture
def sqlite_registry(tmp_path: Path, clock: ManualClock) -> Iterator[Registry]:
    registry = Registry.open(sqlite_url(tmp_path), clock, kiosk_id=KIOSK_ID, busy_timeout_ms=0)
    registry.create_all()
    load_demo(registry, DEMO_FILE)
    yield registry
    registry.close()


def database_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "registry.sqlite3"


def unavailable(call: object, *args: object) -> KioskError:
    with pytest.raises(KioskError) as caught:
        call(*args)  # type: ignore[operator]
    assert caught.value.code == "DATABASE_UNAVAILABLE"
    return caught.value


def test_the_sqlite_file_is_in_wal_mode_with_its_folder_created(sqlite_registry: Registry, tmp_path: Path) -> None:
    with sqlite3.connect(database_file(tmp_path)) as connection:
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"


def test_foreign_keys_are_enforced(sqlite_registry: Registry) -> None:
    with sqlite_registry.database.engine.connect() as connection:
        assert connection.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1


def test_a_database_folder_that_vanishes_is_unavailable_and_recovers_when_back(
    sqlite_registry: Registry, tmp_path: Path
) -> None:
    shutil.move(tmp_path / "data", tmp_path / "moved")
    error = unavailable(sqlite_registry.card_status, "L43000001")
    assert "card_status" in error.detail
    unavailable(sqlite_registry.register_ecard, ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    shutil.move(tmp_path / "moved", tmp_path / "data")
    assert sqlite_registry.find_person(ZHANG_WEI) is not None


def test_a_database_file_that_vanishes_is_not_silently_recreated_empty(sqlite_registry: Registry, tmp_path: Path) -> None:
    for path in database_file(tmp_path).parent.iterdir():
        path.unlink()
    unavailable(sqlite_registry.is_empty)
    assert not database_file(tmp_path).exists()


def test_a_database_folder_that_cannot_be_made_is_unavailable(tmp_path: Path, clock: ManualClock) -> None:
    (tmp_path / "occupied").write_text("a file where the folder should be")
    unavailable(Registry.open, f"sqlite:///{tmp_path / 'occupied' / 'registry.sqlite3'}", clock)


def test_a_file_that_is_no_database_is_unavailable(sqlite_registry: Registry, tmp_path: Path) -> None:
    for path in database_file(tmp_path).parent.iterdir():
        path.unlink()
    database_file(tmp_path).write_bytes(b"this is not a database" * 100)
    unavailable(sqlite_registry.find_person, ZHANG_WEI)


def test_a_database_locked_by_another_writer_is_unavailable(sqlite_registry: Registry, tmp_path: Path) -> None:
    other = sqlite3.connect(database_file(tmp_path), isolation_level=None)
    try:
        other.execute("BEGIN IMMEDIATE")
        unavailable(sqlite_registry.audit, "test", "while locked")
        assert sqlite_registry.find_person(ZHANG_WEI) is not None  # WAL: readers are not blocked
    finally:
        other.execute("ROLLBACK")
        other.close()
    sqlite_registry.audit("test", "after the lock")


def test_a_broken_engine_is_unavailable(clock: ManualClock) -> None:
    def broken() -> sqlite3.Connection:
        raise sqlite3.OperationalError("disk I/O error")

    registry = Registry(Database(sa.create_engine("sqlite://", creator=broken, poolclass=NullPool), "sqlite://"), clock)
    error = unavailable(registry.is_empty)
    assert "disk I/O error" in error.detail


def test_an_unreachable_postgresql_server_is_unavailable(clock: ManualClock) -> None:
    registry = Registry.open("postgresql://kiosk@127.0.0.1:1/registry", clock)
    unavailable(registry.card_status, "L43000001")


@pytest.mark.parametrize("url", ["nonsense", "mysql://kiosk:secret@db/registry"])
def test_an_unusable_database_url_is_unavailable_without_showing_the_password(clock: ManualClock, url: str) -> None:
    assert "secret" not in unavailable(Registry.open, url, clock).detail


def test_a_registration_whose_audit_write_fails_leaves_no_e_card(sqlite_registry: Registry, tmp_path: Path) -> None:
    with sqlite3.connect(database_file(tmp_path)) as connection:
        connection.execute(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_event BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    unavailable(sqlite_registry.register_ecard, ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    assert sqlite_registry.child_ecard(ZHANG_XIAOYU) is None


def test_an_activation_whose_audit_write_fails_changes_nothing(sqlite_registry: Registry, tmp_path: Path) -> None:
    ecard_id = sqlite_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    ticket = sqlite_registry.issue_ticket(ecard_id, "https://ecard.example/activate", 300)
    with sqlite3.connect(database_file(tmp_path)) as connection:
        connection.execute(
            "CREATE TRIGGER refuse_audit BEFORE INSERT ON audit_event BEGIN SELECT RAISE(ABORT, 'disk full'); END"
        )
    unavailable(sqlite_registry.activate, ticket.url)
    assert sqlite_registry.ticket_state(ticket.ticket_id) == "pending"
    found = sqlite_registry.child_ecard(ZHANG_XIAOYU)
    assert found is not None and found.state is ECardState.PENDING
