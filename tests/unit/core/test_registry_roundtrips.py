"""Database round trips of one registration (decide, register, first ticket): counted by a SQLAlchemy listener."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from typing import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy import event

from kiosk.eligibility import load_region
from kiosk.registry import Registry
from kiosk.registry.activation import TicketPolicy
from kiosk.registry import registration
from kiosk.registry.local import LocalRegistry
from kiosk.registry.models import ActivationTicket, AuditEvent, Person, RegistrationRequest

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
    # lock the people (PostgreSQL), the look, e-card, ticket, idempotency key, audit events (one INSERT);
    # on PostgreSQL the four INSERTs are one statement: BEGIN, lock, look, the writes, COMMIT
    limit = 5 if demo_registry.database.dialect == "postgresql" else 9
    assert registration.round_trips <= limit, registration.statements


def test_a_ticket_code_taken_writes_only_the_ecard_in_the_one_statement(demo_registry: Registry) -> None:
    """PostgreSQL: when the drawn user code is a live ticket's, the one-statement registration writes the e-card only
    (no idempotency key nor audit events for a ticket that is not there), and register goes on drawing codes."""
    if demo_registry.database.dialect != "postgresql":
        pytest.skip("the one-statement registration is PostgreSQL's")
    first, second = add_families(demo_registry, 2)
    port = LocalRegistry(demo_registry, load_region(REGIONS / "default.toml"), TicketPolicy(URL, 300))
    taken = port.register(first.card, first.child, "first-family-key")
    assert taken.outcome == "registered" and taken.ticket is not None
    tickets = ActivationTicket.__table__  # type: ignore[attr-defined]
    with demo_registry.database.connection("test", writes=True, rollback=True) as connection:
        held = connection.execute(sa.select(tickets.c.user_code_hash).where(tickets.c.id == taken.ticket.ticket_id)).scalar_one()
        child_id, guardian_id = (connection.execute(sa.select(Person.id).where(Person.resident_id == rid)).scalar_one()
                                 for rid in (second.child, second.guardian))
        row = connection.execute(registration._one_trip_writes(), {
            "w_child_id": child_id, "w_guardian_id": guardian_id, "w_now": taken.ticket.expires_at,
            "w_kiosk_id": "TEST", "w_token_hash": "not-a-real-hash", "w_user_code_hash": held,
            "w_expires_at": taken.ticket.expires_at, "w_key": "second-family-key", "w_registered_tail": " child=x"}).one()
        assert row.ecard_id is not None and row.ticket_id is None
        requests = RegistrationRequest.__table__  # type: ignore[attr-defined]
        audits = AuditEvent.__table__  # type: ignore[attr-defined]
        assert connection.execute(sa.select(sa.func.count()).select_from(requests)
                                  .where(requests.c.idempotency_key == "second-family-key")).scalar_one() == 0
        assert connection.execute(sa.select(sa.func.count()).select_from(audits)
                                  .where(audits.c.detail.like(f"ecard={row.ecard_id} %"))).scalar_one() == 0


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
