"""The registry port in-process (LocalRegistry), on SQLite and PostgreSQL: facts, registration, tickets, cancel."""
from __future__ import annotations

import dataclasses
from datetime import date
from typing import Any

import pydantic
import pytest
import sqlalchemy as sa

from kiosk.domain import CardStatus, ECardState
from kiosk.eligibility import load_region
from kiosk.errors import KioskError
from kiosk.registry import Registry
from kiosk.registry.activation import TicketPolicy
from kiosk.registry.local import LocalRegistry
from kiosk.registry.port import (
    ChildFacts,
    IssuedTicket,
    PendingRegistration,
    PresentedCard,
    Registration,
    RegistryHealth,
    TicketStatus,
)
from kiosk.registry.records import RequestRejected

from .conftest import KIOSK_ID, REGIONS

URL = "https://ecard.example.gov.cn/activate"
ZHANG_WEI, ZHANG_XIAOYU, ZHANG_MINGXUAN = "430102198803150016", "430102201906010029", "430102200905200037"
LI_NA, LI_ZIHAN, LI_SIYUAN, LI_JIAYI = "43010219900708004X", "43010220210214005X", "430102201809090071", "430102201611300088"
HUANG_QIANG, HUANG_ZIRUI = "430105198008080097", "430105202006060075"
LIU_YANG, ZHOU_ZIHAO, YANG_LEI = "430102198505050033", "430102201704040019", "430104198707070051"
VALID_UNTIL = date(2033, 3, 1)


def card_of(holder: str, number: str, *, expiry: date | None = VALID_UNTIL, pin: bool = True) -> PresentedCard:
    return PresentedCard(number, "2.00", expiry, holder, pin)


ZHANG_CARD = card_of(ZHANG_WEI, "L43000001")
LI_CARD = card_of(LI_NA, "L43000002")


@pytest.fixture
def port(demo_registry: Registry) -> LocalRegistry:
    return LocalRegistry(demo_registry, load_region(REGIONS / "default.toml"), TicketPolicy(URL, 300, 1.5))


def json_round_trip(value: Any) -> Any:
    adapter = pydantic.TypeAdapter(type(value))
    return adapter.validate_json(adapter.dump_json(value))


def live_ecards(registry: Registry, child_rid: str) -> int:
    with registry.database.connection("count") as connection:
        return connection.execute(sa.text(
            "SELECT count(*) FROM ecard e JOIN person p ON p.id = e.child_id WHERE p.resident_id = :c"
            " AND e.state != 'cancelled'"), {"c": child_rid}).scalar_one()


# ---------------------------------------------------------------------------------------------- facts
def test_child_facts_in_one_query_say_what_the_five_old_questions_said(
    port: LocalRegistry, demo_registry: Registry
) -> None:
    for guardian, child in [(g, c) for g in (ZHANG_WEI, LI_NA, HUANG_QIANG, LIU_YANG)
                            for c in (ZHANG_XIAOYU, ZHANG_MINGXUAN, LI_SIYUAN, LI_JIAYI, HUANG_ZIRUI, ZHOU_ZIHAO,
                                      "430102201803030019")]:
        same_as_the_old_questions(port, demo_registry, guardian, child)


def same_as_the_old_questions(port: LocalRegistry, demo_registry: Registry, guardian: str, child: str) -> None:
    facts = port.child_facts(guardian, child)
    person = demo_registry.find_person(child)
    ecard = demo_registry.child_ecard(child) if person else None
    assert facts.known == (person is not None)
    assert facts.masked_name == (person.masked_name if person else None)
    assert facts.relationship == (demo_registry.relationship(guardian, child) if person else None)
    assert facts.ecard_state == (ecard.state if ecard else None)
    assert facts.ecard_id == (ecard.ecard_id if ecard else None)
    assert facts.ecard_pending_by_this_guardian == bool(
        ecard and ecard.state is ECardState.PENDING and ecard.applicant_resident_id == guardian)
    assert facts.guardian_children_with_ecards == demo_registry.guardian_children_with_ecards(guardian, child)
    assert facts.has_physical_card == bool(person and person.has_physical_card)


def test_every_answer_goes_to_json_and_back_unchanged_and_names_no_one_in_full(port: LocalRegistry) -> None:
    facts = port.child_facts(LI_NA, LI_JIAYI)
    assert facts.masked_name == "李*怡"
    registered = port.register(ZHANG_CARD, ZHANG_XIAOYU, "key-0001-zhang")
    assert registered.ticket is not None
    status = port.ticket_state(registered.ticket.ticket_id)
    pending = port.pending_registrations(LI_NA)
    assert pending == (PendingRegistration(pending[0].ecard_id, "李*怡", "4301**********0088", pending[0].created_at,
                                           True),)
    for value in (facts, registered, registered.ticket, status, pending[0], port.health(), ZHANG_CARD):
        assert json_round_trip(value) == value
        assert "李佳怡" not in str(dataclasses.asdict(value)) and LI_JIAYI not in str(dataclasses.asdict(value))


# ---------------------------------------------------------------------------------------------- register
def test_a_registration_writes_the_e_card_and_its_first_ticket_together(port: LocalRegistry,
                                                                         demo_registry: Registry) -> None:
    answer = port.register(ZHANG_CARD, ZHANG_XIAOYU, "key-0001-zhang")
    assert answer.outcome == "registered" and answer.ticket is not None
    assert answer.ticket.ecard_id == answer.ecard_id and answer.ticket.poll_interval_seconds == 1.5
    assert port.ticket_state(answer.ticket.ticket_id) == TicketStatus(
        answer.ticket.ticket_id, "pending", answer.ticket.expires_at, 1.5)
    with demo_registry.database.connection("look") as connection:
        row = connection.execute(sa.text(
            "SELECT e.tickets_issued, t.kiosk_id, g.resident_id FROM ecard e JOIN activation_ticket t ON t.ecard_id = e.id"
            " JOIN person g ON g.id = t.guardian_id WHERE e.id = :e"), {"e": answer.ecard_id}).one()
    assert tuple(row) == (1, KIOSK_ID, ZHANG_WEI)
    assert demo_registry.activate(answer.ticket.url).ecard_id == answer.ecard_id
    kinds = [event.kind for event in demo_registry.recent_audit(3)]
    assert kinds[:3] == ["ecard_activated", "ticket_issued", "ecard_registered"]


@pytest.mark.parametrize(
    ("card", "child", "codes"),
    [
        (card_of(ZHANG_WEI, "L43000001", expiry=date(2025, 1, 1)), ZHANG_XIAOYU, ("CARD_EXPIRED",)),
        (card_of(ZHANG_WEI, "L43000002"), ZHANG_XIAOYU, ("CARD_NOT_NORMAL",)),  # 李娜's card in 张伟's name
        (card_of(LIU_YANG, "L43000004"), ZHANG_XIAOYU, ("CARD_NOT_NORMAL", "NOT_GUARDIAN")),  # lost
        (card_of(ZHANG_WEI, "L43000001", pin=False), ZHANG_XIAOYU, ("PIN_NOT_VERIFIED",)),
        (ZHANG_CARD, ZHANG_MINGXUAN, ("CHILD_TOO_OLD",)),
        (ZHANG_CARD, LI_ZIHAN, ("NOT_GUARDIAN",)),
        (ZHANG_CARD, "430102201803030019", ("CHILD_UNKNOWN",)),
        (ZHANG_CARD, "430102201803030018", ("CHILD_ID_INVALID",)),
        (LI_CARD, LI_SIYUAN, ("CHILD_HAS_ECARD",)),
        (card_of(HUANG_QIANG, "L43000007"), HUANG_ZIRUI, ("CHILD_SLOTS_FULL",)),
    ],
)
def test_the_registry_checks_every_rule_again_whatever_the_kiosk_decided(
    port: LocalRegistry, demo_registry: Registry, card: PresentedCard, child: str, codes: tuple[str, ...]
) -> None:
    before = live_ecards(demo_registry, child)
    answer = port.register(card, child, "key-0002-rules")
    assert answer.outcome == "refused" and answer.codes == codes and answer.ticket is None
    assert live_ecards(demo_registry, child) == before
    assert demo_registry.recent_audit(1)[0].kind == "registration_refused"
    if "CARD_NOT_NORMAL" in codes:
        variant = dict((r.code, r.variant) for r in answer.refusals)["CARD_NOT_NORMAL"]
        assert variant == ("lost" if card.card_number == "L43000004" else "unknown")


def test_a_child_registered_meanwhile_elsewhere_is_told_not_registered_twice(port: LocalRegistry,
                                                                            demo_registry: Registry) -> None:
    answer = port.register(LI_CARD, LI_JIAYI, "key-0003-pending")
    assert answer.outcome == "already_pending" and answer.ticket is None
    assert answer.ecard_id == demo_registry.child_ecard(LI_JIAYI).ecard_id
    assert live_ecards(demo_registry, LI_JIAYI) == 1


def test_a_retry_with_the_same_key_gets_the_same_e_card_and_a_usable_ticket(port: LocalRegistry,
                                                                           demo_registry: Registry) -> None:
    first = port.register(ZHANG_CARD, ZHANG_XIAOYU, "retry-key-1")
    again = port.register(ZHANG_CARD, ZHANG_XIAOYU, "retry-key-1")
    assert again.outcome == "replayed" and again.ecard_id == first.ecard_id
    assert again.ticket is not None and first.ticket is not None and again.ticket.ticket_id != first.ticket.ticket_id
    assert port.ticket_state(first.ticket.ticket_id).state == "revoked"
    assert live_ecards(demo_registry, ZHANG_XIAOYU) == 1
    assert demo_registry.activate(again.ticket.user_code).ecard_id == first.ecard_id
    assert port.register(ZHANG_CARD, ZHANG_XIAOYU, "retry-key-1") == Registration("activated", first.ecard_id)


def test_a_key_reused_for_another_child_or_malformed_is_refused(port: LocalRegistry) -> None:
    port.register(ZHANG_CARD, ZHANG_XIAOYU, "retry-key-2")
    with pytest.raises(RequestRejected) as reused:
        port.register(LI_CARD, LI_ZIHAN, "retry-key-2")
    assert reused.value.code == "IDEMPOTENCY_KEY_REUSED"
    for bad in ("short", "x" * 65, "with space in it", "中文键中文键中文键"):
        with pytest.raises(RequestRejected) as malformed:
            port.register(ZHANG_CARD, ZHANG_XIAOYU, bad)
        assert malformed.value.code == "IDEMPOTENCY_KEY_INVALID"


def test_a_key_is_a_kiosks_own(port: LocalRegistry, demo_registry: Registry) -> None:
    other = LocalRegistry(demo_registry.for_kiosk("OTHER-KIOSK"), load_region(REGIONS / "default.toml"),
                          TicketPolicy(URL, 300))
    mine = port.register(ZHANG_CARD, ZHANG_XIAOYU, "same-key-both")
    theirs = other.register(LI_CARD, LI_ZIHAN, "same-key-both")
    assert mine.outcome == theirs.outcome == "registered" and mine.ecard_id != theirs.ecard_id


# ---------------------------------------------------------------------------------------------- tickets
def test_a_pending_registration_is_continued_by_either_guardian_with_a_ticket_of_their_own(
    port: LocalRegistry, demo_registry: Registry
) -> None:
    with demo_registry.database.connection("another guardian", writes=True) as connection:
        connection.execute(sa.text(
            "INSERT INTO guardianship (guardian_id, child_id, relationship) SELECT g.id, c.id, 'father'"
            " FROM person g, person c WHERE g.resident_id = :g AND c.resident_id = :c"), {"g": YANG_LEI, "c": LI_JIAYI})
    ecard_id = port.child_facts(LI_NA, LI_JIAYI).ecard_id
    assert ecard_id is not None
    by_mother = port.issue_ticket(ecard_id, LI_CARD)
    by_father = port.issue_ticket(ecard_id, card_of(YANG_LEI, "L43000006"))
    assert by_mother.outcome == by_father.outcome == "issued"
    assert port.ticket_state(by_mother.ticket.ticket_id).state == "revoked"  # one live ticket per e-card
    with demo_registry.database.connection("look") as connection:
        holder = connection.execute(sa.text(
            "SELECT p.resident_id FROM activation_ticket t JOIN person p ON p.id = t.guardian_id WHERE t.id = :t"),
            {"t": by_father.ticket.ticket_id}).scalar_one()
    assert holder == YANG_LEI


def test_a_ticket_goes_only_to_a_guardian_of_that_e_cards_child(port: LocalRegistry) -> None:
    ecard_id = port.child_facts(LI_NA, LI_JIAYI).ecard_id
    answer = port.issue_ticket(ecard_id, ZHANG_CARD)
    assert answer.outcome == "refused" and answer.codes == ("NOT_GUARDIAN",) and answer.ticket is None
    with pytest.raises(RequestRejected) as unknown:
        port.issue_ticket(999_999, LI_CARD)
    assert unknown.value.code == "ECARD_UNKNOWN"


def test_an_activated_or_cancelled_e_card_gets_no_new_ticket(port: LocalRegistry, demo_registry: Registry) -> None:
    answer = port.register(ZHANG_CARD, ZHANG_XIAOYU, "key-0004-done")
    demo_registry.activate(answer.ticket.url)
    assert port.issue_ticket(answer.ecard_id, ZHANG_CARD) == Registration("activated", answer.ecard_id)
    pending = port.child_facts(LI_NA, LI_JIAYI).ecard_id
    assert port.cancel(pending, LI_CARD) == Registration("cancelled", pending)
    assert port.issue_ticket(pending, LI_CARD) == Registration("cancelled", pending)


def test_the_guardian_cancels_a_pending_registration_and_its_code_dies_with_it(port: LocalRegistry,
                                                                              demo_registry: Registry) -> None:
    answer = port.register(ZHANG_CARD, ZHANG_XIAOYU, "key-0005-cancel")
    assert port.cancel(answer.ecard_id, LI_CARD).codes == ("NOT_GUARDIAN",)
    assert port.cancel(answer.ecard_id, ZHANG_CARD).outcome == "cancelled"
    assert port.ticket_state(answer.ticket.ticket_id).state == "revoked"
    with pytest.raises(KioskError) as refused:
        demo_registry.activate(answer.ticket.url)
    assert refused.value.code == "ACTIVATION_EXPIRED"
    assert port.register(ZHANG_CARD, ZHANG_XIAOYU, "key-0006-again").outcome == "registered"


def test_a_kiosk_withdraws_the_code_on_its_screen_and_only_its_own(port: LocalRegistry,
                                                                  demo_registry: Registry) -> None:
    answer = port.register(ZHANG_CARD, ZHANG_XIAOYU, "key-0007-leave")
    other = LocalRegistry(demo_registry.for_kiosk("OTHER-KIOSK"), load_region(REGIONS / "default.toml"),
                          TicketPolicy(URL, 300))
    assert not other.withdraw_ticket(answer.ticket.ticket_id)
    assert port.withdraw_ticket(answer.ticket.ticket_id)
    assert not port.withdraw_ticket(answer.ticket.ticket_id)
    assert port.ticket_state(answer.ticket.ticket_id).state == "revoked"


def test_card_status_audit_and_health_through_the_port(port: LocalRegistry, demo_registry: Registry) -> None:
    assert port.card_status("L43000004") is CardStatus.LOST
    assert port.card_status("L49999999") is CardStatus.UNKNOWN
    port.audit("test_event", f"child={ZHANG_XIAOYU}")
    assert demo_registry.recent_audit(1)[0].detail == "child=4301**********0029"
    assert port.health() == RegistryHealth(True, "current", demo_registry.schema_status().head, "")
    assert isinstance(port.child_facts(ZHANG_WEI, ZHANG_XIAOYU), ChildFacts)
    assert IssuedTicket.__dataclass_params__.frozen  # type: ignore[attr-defined]
