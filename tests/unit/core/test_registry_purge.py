"""Purging expired activation codes in small batches: other kiosks keep writing while a big purge runs."""
from __future__ import annotations

import sqlite3
import threading
import time
from datetime import timedelta
from pathlib import Path
from typing import Iterator

import pytest

from kiosk.errors import KioskError
from kiosk.ports import ManualClock
from kiosk.registry import Registry, load_demo

from .conftest import DEMO_FILE, KIOSK_ID, NOW, sqlite_url

EXPIRED = 60_000
"""Enough expired codes that deleting them in one statement holds the write lock far past OTHER_BUSY_MS."""
OTHER_BUSY_MS = 1000
"""The other kiosk's busy timeout: how long it waits for the write lock before giving up."""


@pytest.fixture
def crowded(tmp_path: Path, clock: ManualClock) -> Iterator[Registry]:
    """A SQLite registry holding EXPIRED codes that ran out an hour ago (revoked ones: renewed QR codes)."""
    registry = Registry.open(sqlite_url(tmp_path), clock, kiosk_id=KIOSK_ID)
    registry.upgrade_schema()
    load_demo(registry, DEMO_FILE)
    created = (NOW - timedelta(hours=2)).strftime("%Y-%m-%d %H:%M:%S.000000")
    expired = (NOW - timedelta(hours=1)).strftime("%Y-%m-%d %H:%M:%S.000000")
    with sqlite3.connect(tmp_path / "data" / "registry.sqlite3") as connection:
        ecard_id = connection.execute("SELECT id FROM ecard WHERE state = 'pending' ORDER BY id").fetchone()[0]
        columns = [row[1] for row in connection.execute("PRAGMA table_info(activation_ticket)")]
        values = {"ecard_id": ecard_id, "created_at": created, "expires_at": expired, "used_at": None, "revoked": 1}
        rows = (
            [values.get(column, f"{i:064x}") if column not in ("id",) else None for column in columns]
            for i in range(EXPIRED)
        )
        placeholders = ", ".join("?" for _ in columns)
        connection.executemany(f"INSERT INTO activation_ticket VALUES ({placeholders})", rows)
    connection.close()
    yield registry
    registry.close()


def test_another_kiosk_is_never_blocked_past_its_busy_timeout_while_a_big_purge_runs(
    crowded: Registry, tmp_path: Path, clock: ManualClock
) -> None:
    other = Registry.open(sqlite_url(tmp_path), clock, kiosk_id="OTHER-KIOSK", busy_timeout_ms=OTHER_BUSY_MS)
    purged: list[int] = []
    purging = threading.Event()
    done = threading.Event()
    writes: list[float] = []
    failures: list[KioskError] = []

    def purge() -> None:
        purging.set()
        try:
            purged.append(crowded.purge_expired())
        finally:
            done.set()

    def write_meanwhile() -> None:
        purging.wait(10)
        while not done.is_set():
            began = time.monotonic()
            try:
                other.audit("test_write", "while the purge runs")
            except KioskError as exc:
                failures.append(exc)
                return
            writes.append(time.monotonic() - began)
            done.wait(0.02)  # a kiosk writes now and then, not back to back

    threads = [threading.Thread(target=purge), threading.Thread(target=write_meanwhile)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    other.close()
    assert not failures, f"the other kiosk gave up after {OTHER_BUSY_MS} ms: {failures[0].detail}"
    assert purged == [EXPIRED]
    assert len(writes) >= 3, "the other kiosk had no chance to write during the purge"
