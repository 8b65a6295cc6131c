"""Database round trips of one registration (decide, register, first ticket): counted by a SQLAlchemy listener."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Iterator

from sqlalchemy import event

from kiosk.eligibility import load_region
from kiosk.registry import Registry
from kiosk.registry.activation import TicketPolicy
from kiosk.registry.local import LocalRegistry

from .conftest import REGIONS
from .families import add_families

URL = "https://ecard.example.gov.cn/activate"


@dataclass
class Trips:
    statements: list[str] = field(default_factory=list)
    commits: int = 0

    @property
    def transactions(self) -> int:
        return self.commits

    @property
    def round_trips(self) -> int:
        """Statements, plus BEGIN and COMMIT of each transaction (SQLite's BEGIN is one of the statements)."""
        begins = sum(1 for s in self.statements if s.startswith("BEGIN"))
        return len(self.statements) + self.commits + (self.commits - begins)


@contextlib.contextmanager
def counted(registry: Registry) -> Iterator[Trips]:
    trips = Trips()
    engine = registry.database.engine

    def statement(connection, cursor, text, parameters, context, executemany) -> None:  # noqa: ANN001
        trips.statements.append(text.split(None, 3)[0] + " " + " ".join(text.split()[1:3]))

    def commit(connection) -> None:  # noqa: ANN001
        trips.commits += 1

    event.listen(engine, "before_cursor_execute", statement)
    event.listen(engine, "commit", commit)
    try:
        yield trips
    finally:
        event.remove(engine, "before_cursor_execute", statement)
        event.remove(engine, "commit", commit)


def test_a_registration_through_the_port_is_two_questions_and_one_transaction(demo_registry: Registry) -> None:
    family, = add_families(demo_registry, 1)
    port = LocalRegistry(demo_registry, load_region(REGIONS / "default.toml"), TicketPolicy(URL, 300))
    with counted(demo_registry) as facts:
        port.child_facts(family.guardian, family.child)
    with counted(demo_registry) as registration:
        answer = port.register(family.card, family.child, "round-trip-key")
    assert answer.outcome == "registered"
    assert [s for s in facts.statements if not s.startswith("BEGIN")] == ["SELECT child.id, child.resident_id,"]
    assert registration.transactions == 1
    # lock the people (PostgreSQL), the look, e-card, ticket, idempotency key, audit events (one INSERT)
    assert registration.round_trips <= 9, registration.statements


def test_the_sessions_way_on_main_took_many_more(demo_registry: Registry) -> None:
    """What the kiosk session does today with the old methods, for the figures in the report."""
    family, = add_families(demo_registry, 1)
    with counted(demo_registry) as old:
        demo_registry.card_status(family.card_number)
        demo_registry.find_person(family.child)
        demo_registry.relationship(family.guardian, family.child)
        demo_registry.child_ecard(family.child)
        demo_registry.guardian_children_with_ecards(family.guardian, family.child)
        ecard_id = demo_registry.register_ecard(family.guardian, family.child, "OLD-WAY")
        demo_registry.issue_ticket(ecard_id, URL, 300)
    assert old.transactions == 7 and old.round_trips >= 21
