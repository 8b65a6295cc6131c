"""The registry port's `guardian_children`: the children on record with their e-card's state, masked, in one query."""
from __future__ import annotations

import pydantic
import pytest
import sqlalchemy as sa

from kiosk.domain import ECardState
from kiosk.eligibility import load_region
from kiosk.registry import Registry
from kiosk.registry.activation import TicketPolicy
from kiosk.registry.local import LocalRegistry
from kiosk.registry.port import ChildSummary

from .conftest import REGIONS

LI_NA = "43010219900708004X"
ZHANG_WEI = "430102198803150016"


@pytest.fixture
def port(demo_registry: Registry) -> LocalRegistry:
    return LocalRegistry(demo_registry, load_region(REGIONS / "default.toml"), TicketPolicy("https://e.example/a", 300))


def test_the_children_eldest_first_with_their_e_cards_state_masked(port: LocalRegistry) -> None:
    children = port.guardian_children(LI_NA)
    assert [(c.masked_name, c.birth_year, c.ecard_state) for c in children] == [
        ("李*怡", 2016, ECardState.PENDING), ("李*远", 2018, ECardState.ACTIVE), ("李*涵", 2021, None)]
    assert all(c.relationship == "mother" and "*" in c.masked_id for c in children)
    assert all(c.resident_id not in repr(c) for c in children)  # the full number never in a log line
    assert [c.masked_name for c in port.guardian_children(ZHANG_WEI)] == ["张*轩", "张*雨"]
    assert port.guardian_children("430102201803030019") == ()  # nobody's guardian


def test_the_summary_goes_to_json_and_back(port: LocalRegistry) -> None:
    adapter = pydantic.TypeAdapter(tuple[ChildSummary, ...])
    children = port.guardian_children(LI_NA)
    assert adapter.validate_json(adapter.dump_json(children)) == children


def test_one_query_however_many_children(port: LocalRegistry, demo_registry: Registry) -> None:
    statements: list[str] = []

    def seen(conn, cursor, statement, *args) -> None:
        if statement.lstrip().upper().startswith("SELECT"):
            statements.append(statement)

    engine = demo_registry.database.engine
    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        port.guardian_children(LI_NA)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert len(statements) == 1, statements
