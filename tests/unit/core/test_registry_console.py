"""The maintenance console's queries at scale: what they read (no table scans), and that tallies and flags stay true."""
from __future__ import annotations

import os
import random
import sqlite3
from datetime import datetime, timedelta
from typing import Callable

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from kiosk.eligibility import load_region
from kiosk.errors import KioskError
from kiosk.ports import ManualClock
from kiosk.registry import Registry
from kiosk.registry.activation import TicketPolicy
from kiosk.registry.local import LocalRegistry
from kiosk.registry.models import BREACHES, UtcDateTime
from kiosk.registry.upkeep import CONSISTENCY_RULES

from .conftest import NOW, REGIONS
from .families import Family, add_families

URL = "https://ecard.example.gov.cn/activate"
MIDNIGHT = NOW.replace(hour=0)
ORACLE_SEED = 20260601
ORACLE_STEPS = int(os.environ.get("KIOSK_ORACLE_STEPS", "300"))
"""Operations the oracle test makes per backend, checking after every fifteenth (KIOSK_ORACLE_STEPS for a long run)."""


def run(registry: Registry, sql: str, **params: object) -> list[tuple]:
    """Raw SQL, as a technician's edit would be; times bound as the registry stores them (UTC, same text format)."""
    statement = sa.text(sql).bindparams(*(sa.bindparam(name, type_=UtcDateTime()) for name, value in params.items()
                                          if isinstance(value, datetime)))
    with registry.database.connection("raw", writes=True) as connection:
        result = connection.execute(statement, params)
        return [tuple(row) for row in result] if result.returns_rows else []


def truth(registry: Registry) -> dict[str, object]:
    """Everything the console shows, counted the slow way, straight from the rows."""
    now = registry.clock.now()
    one = lambda sql, **p: run(registry, sql, **p)[0][0]  # noqa: E731
    rules = {
        code: one(f"SELECT count(*) FROM {b.table} WHERE {b.where}") for code, b in BREACHES.items()
        if code not in ("APPLICANT_NOT_GUARDIAN", "USED_TICKET_NOT_ACTIVE")
    }
    rules["APPLICANT_NOT_GUARDIAN"] = one(
        "SELECT count(*) FROM ecard e WHERE NOT EXISTS (SELECT 1 FROM guardianship g"
        " WHERE g.guardian_id = e.applicant_id AND g.child_id = e.child_id)")
    rules["USED_TICKET_NOT_ACTIVE"] = one(
        "SELECT count(*) FROM activation_ticket t JOIN ecard e ON e.id = t.ecard_id"
        " WHERE t.used_at IS NOT NULL AND e.state != 'active'")
    return {
        "pending": one("SELECT count(*) FROM ecard WHERE state = 'pending'"),
        "activated": one("SELECT count(*) FROM ecard WHERE state = 'active'"),
        "cancelled": one("SELECT count(*) FROM ecard WHERE state = 'cancelled'"),
        "people": one("SELECT count(*) FROM person"),
        "audit_events": one("SELECT count(*) FROM audit_event"),
        "expired_tickets": one("SELECT count(*) FROM activation_ticket WHERE used_at IS NULL AND expires_at <= :n", n=now),
        "rules": rules,
    }


def shown(registry: Registry) -> dict[str, object]:
    counts = registry.counts(MIDNIGHT)
    found = {f.code: f.count for f in registry.consistency()}
    return {
        "pending": counts.pending, "activated": counts.activated, "cancelled": counts.cancelled,
        "people": counts.people, "audit_events": counts.audit_events, "expired_tickets": counts.expired_tickets,
        "rules": {code: found[code] for code in BREACHES},
    }


# ------------------------------------------------------------------------------------------ breaches
def test_every_consistency_rule_is_found_when_broken_behind_the_registrys_back(demo_registry: Registry) -> None:
    port = LocalRegistry(demo_registry, load_region(REGIONS / "default.toml"), TicketPolicy(URL, 300))
    family, other, third = add_families(demo_registry, 3)
    first = port.register(family.card, family.child, "breach-key-1")
    second = port.register(other.card, other.child, "breach-key-2")
    activated = port.register(third.card, third.child, "breach-key-3")
    demo_registry.activate(activated.ticket.url)
    e1, e2, e3 = first.ecard_id, second.ecard_id, activated.ecard_id
    run(demo_registry, "UPDATE ecard SET state = 'active' WHERE id = :e", e=e1)  # ACTIVE_WITHOUT_TIME, live ticket
    run(demo_registry, "UPDATE ecard SET state = 'pending' WHERE id = :e", e=e3)  # activation time, used ticket
    run(demo_registry, "DELETE FROM guardianship WHERE child_id = (SELECT child_id FROM ecard WHERE id = :e)", e=e2)
    run(demo_registry, "INSERT INTO guardianship (guardian_id, child_id, relationship) SELECT id, id, 'father'"
                       " FROM person WHERE resident_id = :g", g=family.guardian)
    run(demo_registry, "UPDATE activation_ticket SET expires_at = created_at WHERE id = :t", t=second.ticket.ticket_id)
    run(demo_registry, "UPDATE ecard SET tickets_issued = 0 WHERE id = :e", e=e2)
    found = {f.code: f for f in demo_registry.consistency()}
    self_link = run(demo_registry, "SELECT id FROM guardianship WHERE guardian_id = child_id")[0][0]
    assert {code: (f.count, f.examples) for code, f in found.items() if f.count} == {
        "ACTIVE_WITHOUT_TIME": (1, (e1,)),
        "ACTIVATION_TIME_NOT_ACTIVE": (1, (e3,)),
        "APPLICANT_NOT_GUARDIAN": (1, (e2,)),
        "SELF_GUARDIANSHIP": (1, (self_link,)),
        "USED_TICKET_NOT_ACTIVE": (1, (activated.ticket.ticket_id,)),
        "LIVE_TICKET_NOT_PENDING": (1, (first.ticket.ticket_id,)),
        "TICKET_ENDS_BEFORE_START": (1, (second.ticket.ticket_id,)),
        "PENDING_WITHOUT_TICKET": (1, (e2,)),
    }
    assert found["SEVERAL_LIVE_ECARDS"].enforced_by == "uq_ecard_live_child"
    # Repaired, the flags the triggers keep say so too.
    run(demo_registry, "INSERT INTO guardianship (guardian_id, child_id, relationship) SELECT g.id, c.id, 'father'"
                       " FROM person g, person c WHERE g.resident_id = :g AND c.resident_id = :c",
        g=other.guardian, c=other.child)
    run(demo_registry, "UPDATE ecard SET state = 'active' WHERE id = :e", e=e3)
    found = {f.code: f.count for f in demo_registry.consistency()}
    assert found["APPLICANT_NOT_GUARDIAN"] == 0 and found["USED_TICKET_NOT_ACTIVE"] == 0


def test_a_rule_the_database_no_longer_enforces_is_counted_the_hard_way(demo_registry: Registry) -> None:
    family, = add_families(demo_registry, 1)
    child = run(demo_registry, "SELECT id FROM person WHERE resident_id = :c", c=family.child)[0][0]
    guardian = run(demo_registry, "SELECT id FROM person WHERE resident_id = :g", g=family.guardian)[0][0]
    run(demo_registry, "DROP INDEX uq_ecard_live_child")
    try:
        for _ in range(2):
            run(demo_registry, "INSERT INTO ecard (child_id, applicant_id, state, level, created_at, kiosk_id,"
                               " tickets_issued) VALUES (:c, :g, 'pending', 1, :t, 'X', 1)",
                c=child, g=guardian, t=NOW)
        several = next(f for f in demo_registry.consistency() if f.code == "SEVERAL_LIVE_ECARDS")
        assert (several.count, several.examples, several.enforced_by) == (1, (child,), "")
    finally:
        run(demo_registry, "DELETE FROM ecard WHERE child_id = :c", c=child)
        run(demo_registry, "CREATE UNIQUE INDEX uq_ecard_live_child ON ecard (child_id) WHERE state != 'cancelled'")


# ------------------------------------------------------------------------------------------ plans
_SMALL = ("registry_tally", "sqlite_master", "CONSTANT ROW", "kinds", "k0", "k1")
_BOUNDED = ("INDEX ix_breach_", "INDEX ix_ecard_pending_since")  # empty while consistent / LIMIT-bounded


def test_console_queries_on_sqlite_read_through_indexes_never_a_whole_table(registry: Registry, tmp_path) -> None:
    if registry.database.dialect != "sqlite":
        pytest.skip("SQLite's plans do not depend on statistics; PostgreSQL's are shown by bench/registry.py")
    statements: list[tuple[str, object]] = []

    @event.listens_for(registry.database.engine, "before_cursor_execute")
    def seen(connection, cursor, statement, parameters, context, executemany) -> None:  # noqa: ANN001
        if not statement.startswith("BEGIN"):
            statements.append((statement, parameters))

    registry.counts(MIDNIGHT)
    registry.consistency()
    registry.pending_activations()
    registry.audit_kinds()
    registry.audit_events(limit=50)
    registry.audit_events(["ecard_registered", "ticket_issued"], limit=50)
    event.remove(registry.database.engine, "before_cursor_execute", seen)
    with sqlite3.connect(tmp_path / "data" / "registry.sqlite3") as connection:
        for statement, parameters in statements:
            plan = [row[3] for row in connection.execute(f"EXPLAIN QUERY PLAN {statement}", parameters)]
            for step in plan:
                if not step.startswith("SCAN "):
                    continue
                newest_events = step == "SCAN audit_event" and "ORDER BY audit_event.id DESC" in statement
                assert (step.split()[1] in _SMALL or step[5:] in _SMALL or any(b in step for b in _BOUNDED)
                        or newest_events), f"{step} in {statement[:160]}"
    connection.close()


# ------------------------------------------------------------------------------------------ oracle
def test_the_tallies_and_flags_agree_with_a_full_count_after_any_mix_of_operations(
    demo_registry: Registry, clock: ManualClock
) -> None:
    """A seeded random mix of everything that writes; after every fifteenth step the console must say what a
    full count says (ORACLE_STEPS steps per backend, seed ORACLE_SEED)."""
    rng = random.Random(ORACLE_SEED)
    port = LocalRegistry(demo_registry, load_region(REGIONS / "default.toml"), TicketPolicy(URL, 120))
    families: list[Family] = add_families(demo_registry, 40)
    tickets: list[tuple[int, str]] = []
    counter = iter(range(10**6))

    def register() -> None:
        family = rng.choice(families)
        answer = port.register(family.card, family.child, f"oracle-{next(counter):06d}")
        if answer.ticket:
            tickets.append((answer.ticket.ecard_id, rng.choice([answer.ticket.url, answer.ticket.user_code])))

    def resume() -> None:
        family = rng.choice(families)
        facts = port.child_facts(family.guardian, family.child)
        if facts.ecard_id is not None:
            answer = port.issue_ticket(facts.ecard_id, family.card)
            if answer.ticket:
                tickets.append((answer.ticket.ecard_id, answer.ticket.url))

    def activate() -> None:
        if tickets:
            try:
                demo_registry.activate(rng.choice(tickets)[1])
            except KioskError:
                pass

    def cancel() -> None:
        family = rng.choice(families)
        facts = port.child_facts(family.guardian, family.child)
        if facts.ecard_id is not None:
            port.cancel(facts.ecard_id, family.card)

    def withdraw() -> None:
        if tickets:
            with demo_registry.database.connection("ids") as connection:
                ids = [row[0] for row in connection.execute(sa.text("SELECT id FROM activation_ticket"))]
            if ids:
                port.withdraw_ticket(rng.choice(ids))

    def unlink_or_link() -> None:
        family = rng.choice(families)
        params = {"g": family.guardian, "c": family.child}
        if rng.random() < 0.5:
            run(demo_registry, "DELETE FROM guardianship WHERE guardian_id = (SELECT id FROM person WHERE resident_id"
                               " = :g) AND child_id = (SELECT id FROM person WHERE resident_id = :c)", **params)
        elif not run(demo_registry, "SELECT 1 FROM guardianship g JOIN person p ON p.id = g.guardian_id"
                                    " JOIN person c ON c.id = g.child_id WHERE p.resident_id = :g AND c.resident_id = :c",
                     **params):
            run(demo_registry, "INSERT INTO guardianship (guardian_id, child_id, relationship) SELECT g.id, c.id,"
                               " 'mother' FROM person g, person c WHERE g.resident_id = :g AND c.resident_id = :c",
                **params)

    def purge() -> None:
        demo_registry.purge_expired(grace_seconds=rng.choice([0, 60]), batch_size=rng.choice([1, 3, 500]))

    def time_passes() -> None:
        clock.advance(rng.choice([10, 60, 200]))

    def audit() -> None:
        port.audit(rng.choice(["card_read", "child_checked", "maintenance_login"]), "oracle")

    def more_people() -> None:
        families.extend(add_families(demo_registry, 2, start=1000 + len(families)))

    steps: list[tuple[float, Callable[[], None]]] = [
        (0.25, register), (0.1, resume), (0.15, activate), (0.1, cancel), (0.05, withdraw), (0.07, unlink_or_link),
        (0.05, purge), (0.13, time_passes), (0.08, audit), (0.02, more_people),
    ]
    operations, weights = zip(*((op, weight) for weight, op in steps))
    for step in range(ORACLE_STEPS):
        rng.choices(operations, weights)[0]()
        if step % 15 == 14:
            assert shown(demo_registry) == truth(demo_registry), f"after step {step}"
    assert [f.code for f in demo_registry.consistency()] == list(CONSISTENCY_RULES)
    clock.advance(timedelta(days=1).total_seconds())
    assert shown(demo_registry) == truth(demo_registry)
