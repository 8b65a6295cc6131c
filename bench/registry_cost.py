"""Provides the registry benchmark's cost of one registration: statements, transactions, round trips, client CPU."""
from __future__ import annotations

# "main" is what the kiosk session asks of the registry on main for one registration: the card's
# status at the card read, the four questions about the child, the audit events of the card read and
# of the child's check, register_ecard, issue_ticket. "port" is the same visit through the port:
# card_status, child_facts (one query), the two audit events, register (e-card and first ticket in one
# transaction). Counted by SQLAlchemy listeners; a round trip is a statement, or a BEGIN or COMMIT the
# driver sends on its own (PostgreSQL; SQLite's BEGIN is one of the statements). CPU is this process's.

import time
from datetime import date

from sqlalchemy import event

from bench.registry_fill import NOW, Shape, card_number, child_rid, fill, guardian_rid


def registration_cost(url: str, registrations: int) -> dict:
    from kiosk import CONFIG_DIR
    from kiosk.eligibility import load_region
    from kiosk.ports import ManualClock
    from kiosk.registry import LocalRegistry, PresentedCard, Registry, TicketPolicy

    shape = Shape(max(2000, registrations * 25))
    registry = Registry.open(url, ManualClock(NOW), kiosk_id="BENCH")
    try:
        registry.upgrade_schema()
        fill(registry.database, shape.people)
        port = LocalRegistry(registry, load_region(CONFIG_DIR / "regions" / "default.toml"),
                             TicketPolicy("https://ecard.example.gov.cn/a", 300))
        free = list(range(shape.ecards, shape.children))  # children with no e-card yet

        def visit(way: str, n: int) -> None:
            child = free[n if way == "main" else len(free) - 1 - n]
            guardian = child % shape.guardians
            child_id, guardian_id = child_rid(child), guardian_rid(guardian)
            if way == "main":
                registry.card_status(card_number(guardian))
                registry.audit("card_read", "card=B*****001 version=3.00")
                registry.find_person(child_id)
                registry.relationship(guardian_id, child_id)
                registry.child_ecard(child_id)
                registry.guardian_children_with_ecards(guardian_id, child_id)
                registry.audit("child_checked", "decision=eligible")
                ecard = registry.register_ecard(guardian_id, child_id, "BENCH")
                registry.issue_ticket(ecard, "https://ecard.example.gov.cn/a", 300)
            else:
                card = PresentedCard(card_number(guardian), "3.00", date(2035, 1, 1), guardian_id, True)
                port.card_status(card.card_number)
                port.audit("card_read", "card=B*****001 version=3.00")
                port.child_facts(guardian_id, child_id)
                port.audit("child_checked", "decision=eligible")
                answer = port.register(card, child_id, f"cost-{n:06d}")
                assert answer.outcome == "registered", answer

        return {way: _measure(registry, lambda n, w=way: visit(w, n), registrations) for way in ("main", "port")}
    finally:
        registry.close()


def _measure(registry, visit, count: int) -> dict:  # noqa: ANN001
    statements = commits = begins = 0

    def on_statement(connection, cursor, text, parameters, context, executemany) -> None:  # noqa: ANN001
        nonlocal statements, begins
        statements += 1
        begins += text.startswith("BEGIN")

    def on_commit(connection) -> None:  # noqa: ANN001
        nonlocal commits
        commits += 1

    visit(0)  # warm
    event.listen(registry.database.engine, "before_cursor_execute", on_statement)
    event.listen(registry.database.engine, "commit", on_commit)
    cpu, wall = time.process_time(), time.perf_counter()
    for n in range(1, count + 1):
        visit(n)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    event.remove(registry.database.engine, "before_cursor_execute", on_statement)
    event.remove(registry.database.engine, "commit", on_commit)
    return {
        "registrations": count,
        "statements": statements / count,
        "transactions": commits / count,
        "round_trips": (statements + commits + (commits - begins)) / count,
        "cpu_ms": round(cpu / count * 1000, 3),
        "wall_ms": round(wall / count * 1000, 3),
    }
