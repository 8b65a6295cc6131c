"""Provides the registry benchmark's data: a registry of any size (1M people: 500k e-cards, 2M audit events), bulk-loaded."""
from __future__ import annotations

# The shape, for `people` = N: 40% guardians with a normal card, 60% children, each child linked to
# one guardian (every fifth to a second one); e-cards for the first N/2 children: 88% active (each
# with its used ticket, every third with a revoked one before it), 8% pending (an issued code long
# run out; the newest 100 with a live one), 4% cancelled (a revoked code); 2N audit events of twelve
# kinds, oldest first. Times spread over the two years before NOW. Everything deterministic.
#
# SQLite: one transaction of executemany() on the migrated schema, indexes and triggers live
# (synchronous off for the load only). PostgreSQL: COPY with session_replication_role = replica
# (triggers and foreign keys off for the load), then the tallies and flags recounted
# (kiosk.registry.tallies.recount) and the sequences moved past the ids loaded. Both: ANALYZE after.

import sqlite3
import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Iterable, Iterator

import sqlalchemy as sa

from kiosk.registry import tallies
from kiosk.registry.database import Database
from kiosk.resident_id import check_char
from kiosk.tickets import digest

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
SPAN = timedelta(days=730)
KINDS = ("card_read", "child_checked", "ticket_issued", "ecard_registered", "ecard_activated", "pin_wrong",
         "card_removed", "session_timeout", "maintenance_login", "error", "ecard_cancelled", "reader_lost")
KIND_WEIGHTS = (30, 25, 14, 10, 9, 4, 3, 2, 1, 1, 0.5, 0.5)


@dataclass(frozen=True)
class Shape:
    """How many rows of each kind a fill of `people` makes."""

    people: int

    @property
    def guardians(self) -> int:
        return int(self.people * 0.4)

    @property
    def children(self) -> int:
        return self.people - self.guardians

    @property
    def ecards(self) -> int:
        return self.people // 2

    @property
    def audit_events(self) -> int:
        return self.people * 2


def resident_id(born: date, serial: int) -> str:
    first17 = f"430102{born:%Y%m%d}{serial:03d}"
    return first17 + check_char(first17)


def guardian_rid(i: int) -> str:
    return resident_id(date(1975, 1, 1) + timedelta(days=i // 1000), i % 1000)


def child_rid(i: int) -> str:
    return resident_id(date(2019, 1, 1) + timedelta(days=i // 1000), i % 1000)


def card_number(i: int) -> str:
    return f"B{i:08d}"


def _moment(fraction: float) -> datetime:
    return NOW - SPAN + SPAN * fraction


def _state(i: int) -> str:
    return "active" if i % 100 < 88 else "pending" if i % 100 < 96 else "cancelled"


class Rows:
    """The rows of every table, generated as they are loaded (nothing is held in memory)."""

    def __init__(self, shape: Shape) -> None:
        self.shape = shape
        self.newest_pending = {i for i in range(shape.ecards - 1, -1, -1) if _state(i) == "pending"}
        self.newest_pending = set(sorted(self.newest_pending)[-100:])

    def persons(self) -> Iterator[tuple]:
        s = self.shape
        for i in range(s.guardians):
            yield (i + 1, guardian_rid(i), "王建国", date(1975, 1, 1) + timedelta(days=i // 1000), "1", True)
        for i in range(s.children):
            yield (s.guardians + i + 1, child_rid(i), "王小雨", date(2019, 1, 1) + timedelta(days=i // 1000), "2",
                   i % 3 == 0)

    def cards(self) -> Iterator[tuple]:
        for i in range(self.shape.guardians):
            yield (i + 1, card_number(i), i + 1, "normal", "3.00")

    def guardianships(self) -> Iterator[tuple]:
        s, number = self.shape, 0
        for i in range(s.children):
            for guardian in (i % s.guardians, (i + 1) % s.guardians) if i % 5 == 0 else (i % s.guardians,):
                number += 1
                yield (number, guardian + 1, s.guardians + i + 1, "father" if guardian == i % s.guardians else "mother")

    def ecards(self) -> Iterator[tuple]:
        s = self.shape
        for i in range(s.ecards):
            created = _moment(i / s.ecards)
            state = _state(i)
            activated = created + timedelta(minutes=2) if state == "active" else None
            yield (i + 1, s.guardians + i + 1, i % s.guardians + 1, state, 1, created, activated, f"KIOSK-{i % 50:02d}",
                   1 + (i % 3 == 0 and state == "active"), False)

    def tickets(self) -> Iterator[tuple]:
        s, number = self.shape, 0
        for i in range(s.ecards):
            created = _moment(i / s.ecards)
            state = _state(i)
            guardian = i % s.guardians + 1
            codes: list[tuple[datetime | None, bool, timedelta]] = []  # (used_at, revoked, life)
            if state == "active":
                if i % 3 == 0:
                    codes.append((None, True, timedelta(minutes=5)))
                codes.append((created + timedelta(minutes=2), False, timedelta(minutes=5)))
            elif state == "pending":
                live = i in self.newest_pending
                codes.append((None, False, SPAN if live else timedelta(minutes=5)))
            else:
                codes.append((None, True, timedelta(minutes=5)))
            for used_at, revoked, life in codes:
                number += 1
                yield (number, i + 1, digest(f"token-{number}"), digest(f"code-{number}"), created, created + life,
                       used_at, revoked, f"KIOSK-{i % 50:02d}", guardian, False)

    def audit_events(self) -> Iterator[tuple]:
        import random

        rng = random.Random(1)
        total = self.shape.audit_events
        kinds = rng.choices(KINDS, KIND_WEIGHTS, k=min(total, 100_000))
        for i in range(total):
            yield (i + 1, _moment(i / total), kinds[i % len(kinds)], f"n={i}", f"KIOSK-{i % 50:02d}")


TABLES = {
    "person": ("id", "resident_id", "name", "birth_date", "sex", "has_physical_card"),
    "social_security_card": ("id", "card_number", "holder_id", "status", "spec_version"),
    "guardianship": ("id", "guardian_id", "child_id", "relationship"),
    "ecard": ("id", "child_id", "applicant_id", "state", "level", "created_at", "activated_at", "kiosk_id",
              "tickets_issued", "applicant_unlinked"),
    "activation_ticket": ("id", "ecard_id", "token_hash", "user_code_hash", "created_at", "expires_at", "used_at",
                          "revoked", "kiosk_id", "guardian_id", "used_unactivated"),
    "audit_event": ("id", "at", "kind", "detail", "kiosk_id"),
}


def _streams(rows: Rows) -> dict[str, Iterable[tuple]]:
    return {"person": rows.persons(), "social_security_card": rows.cards(), "guardianship": rows.guardianships(),
            "ecard": rows.ecards(), "activation_ticket": rows.tickets(), "audit_event": rows.audit_events()}


def _sqlite_value(value: object) -> object:
    if isinstance(value, datetime):  # as the registry's UtcDateTime stores it on SQLite
        return value.astimezone(timezone.utc).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    if isinstance(value, date):
        return value.isoformat()
    return value


def _naive_utc(value: object) -> object:
    # timestamp columns without a zone hold UTC (the registry's UtcDateTime): never the server's local time
    if isinstance(value, datetime):
        return value.astimezone(timezone.utc).replace(tzinfo=None)
    return value


def fill(database: Database, people: int) -> dict[str, float]:
    """Load a registry of `people` into the migrated, empty database; returns seconds per table."""
    rows = Rows(Shape(people))
    if database.dialect == "sqlite":
        return _fill_sqlite(database, rows)
    return _fill_postgresql(database, rows)


def _fill_sqlite(database: Database, rows: Rows) -> dict[str, float]:
    assert database.sqlite_file is not None
    connection = sqlite3.connect(database.sqlite_file, isolation_level=None)
    took: dict[str, float] = {}
    try:
        connection.execute("PRAGMA synchronous = OFF")
        connection.execute("PRAGMA cache_size = -262144")  # 256 MiB for the load: index pages stay in memory
        connection.execute("BEGIN IMMEDIATE")
        for table, stream in _streams(rows).items():
            began = time.perf_counter()
            columns = TABLES[table]
            connection.executemany(
                f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})",
                ([_sqlite_value(value) for value in row] for row in stream),
            )
            took[table] = time.perf_counter() - began
        connection.execute("COMMIT")
        began = time.perf_counter()
        connection.execute("ANALYZE")
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        took["analyze"] = time.perf_counter() - began
    finally:
        connection.close()
    return took


def _fill_postgresql(database: Database, rows: Rows) -> dict[str, float]:
    took: dict[str, float] = {}
    raw = database.engine.raw_connection()
    try:
        driver = raw.driver_connection
        with driver.cursor() as cursor:
            cursor.execute("SET session_replication_role = replica")  # no triggers, no FK checks: the load only
            for table, stream in _streams(rows).items():
                began = time.perf_counter()
                with cursor.copy(f"COPY {table} ({', '.join(TABLES[table])}) FROM STDIN") as copy:
                    for row in stream:
                        copy.write_row([_naive_utc(value) for value in row])
                took[table] = time.perf_counter() - began
            cursor.execute("SET session_replication_role = DEFAULT")
            for table in TABLES:
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        driver.commit()
    finally:
        raw.close()
    began = time.perf_counter()
    with database.connection("recount", writes=True) as connection:
        tallies.recount(connection)
    took["recount"] = time.perf_counter() - began
    began = time.perf_counter()
    with database.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
        connection.execute(sa.text("VACUUM ANALYZE"))  # the test server runs no autovacuum
    took["analyze"] = time.perf_counter() - began
    return took
