"""Provides tests of the eligibility rules: each rule failing and passing on its own, phases, resume and texts."""
from __future__ import annotations

from dataclasses import replace
from datetime import date

import pytest

from kiosk.domain import CardHolder, CardIssuer, CardStatus, ECardState, GuardianCard
from kiosk.eligibility import EligibilityFacts, Phase, Region, evaluate, load_region
from kiosk.resident_id import ResidentId, check_char

from .conftest import REGIONS, TODAY

CHILD = "430102201906010029"


@pytest.fixture(scope="module")
def region() -> Region:
    return load_region(REGIONS / "default.toml")


def guardian_card(expiry: date | None = date(2030, 1, 1), holder: bool = True) -> GuardianCard:
    issuer = CardIssuer(
        card_id_code=bytes.fromhex("430100D15600000500000000000000AB"),
        card_type="3",
        spec_version="3.00",
        init_org="430100000000",
        issue_date=date(2020, 1, 1),
        expiry_date=expiry,
        card_number="L43000001",
    )
    person = CardHolder("430102198803150016", "张伟", "1", "01", "430102", date(1988, 3, 15)) if holder else None
    return GuardianCard(atr=b"\x3b", issuer=issuer, holder=person)


def eligible_facts(**changes: object) -> EligibilityFacts:
    """A visit where everything is in order; each test breaks one thing."""
    facts = EligibilityFacts(
        today=TODAY,
        card=guardian_card(),
        card_readable=True,
        is_social_security_card=True,
        card_status=CardStatus.NORMAL,
        pin_verified=True,
        child_id_text=CHILD,
        child_id=ResidentId.parse(CHILD, today=TODAY),
        child_known=True,
        relationship="father",
        child_ecard_state=None,
        child_ecard_pending_by_this_guardian=False,
        guardian_children_with_ecards=0,
        child_has_physical_card=True,
    )
    return replace(facts, **changes)


def child_born(yyyymmdd: str) -> ResidentId:
    first17 = f"430102{yyyymmdd}001"
    return ResidentId.parse(first17 + check_char(first17), today=TODAY)


def failed(facts: EligibilityFacts, region: Region, phase: str = "child") -> tuple[str, ...]:
    return evaluate(facts, region, phase).codes


def test_a_visit_in_order_is_eligible_without_resume(region: Region) -> None:
    decision = evaluate(eligible_facts(), region, "child")
    assert decision.eligible and decision.failures == () and not decision.resume


def test_card_unreadable_fails_until_the_card_is_read(region: Region) -> None:
    assert failed(eligible_facts(card=None, card_readable=False), region, "card") == ("CARD_UNREADABLE",)
    assert failed(eligible_facts(), region, "card") == ()


def test_card_unreadable_names_hidden_holder_data_of_a_third_generation_card(region: Region) -> None:
    decision = evaluate(eligible_facts(card=guardian_card(holder=False), card_readable=False), region, "card")
    assert decision.codes == ("CARD_UNREADABLE",)
    assert decision.failures[0].variant == "holder_hidden"
    assert "第三代" in decision.failures[0].reason.zh


def test_not_social_security_card_fails_for_a_card_without_the_application(region: Region) -> None:
    assert failed(eligible_facts(card=None, is_social_security_card=False), region, "card") == (
        "NOT_SOCIAL_SECURITY_CARD",
    )
    assert failed(eligible_facts(is_social_security_card=True), region, "card") == ()


def test_card_expired_fails_when_the_expiry_date_lies_before_today(region: Region) -> None:
    assert failed(eligible_facts(card=guardian_card(expiry=date(2026, 5, 31))), region, "card") == ("CARD_EXPIRED",)
    assert failed(eligible_facts(card=guardian_card(expiry=TODAY)), region, "card") == ()


@pytest.mark.parametrize(
    ("status", "word"),
    [(CardStatus.LOST, "挂失"), (CardStatus.FROZEN, "冻结"), (CardStatus.CANCELLED, "注销"), (CardStatus.UNKNOWN, "查不到")],
)
def test_card_not_normal_fails_and_names_the_status(region: Region, status: CardStatus, word: str) -> None:
    decision = evaluate(eligible_facts(card_status=status), region, "card")
    assert decision.codes == ("CARD_NOT_NORMAL",)
    assert word in decision.failures[0].reason.zh
    assert decision.failures[0].variant == status.value
    assert failed(eligible_facts(card_status=CardStatus.NORMAL), region, "card") == ()


def test_pin_not_verified_fails_from_the_pin_phase_on(region: Region) -> None:
    assert failed(eligible_facts(pin_verified=False), region, "pin") == ("PIN_NOT_VERIFIED",)
    assert failed(eligible_facts(pin_verified=True), region, "pin") == ()


@pytest.mark.parametrize(
    ("text", "variant"),
    [(None, "missing"), ("4301", "length"), ("43010219880315001A", "character"), ("360426199101010072", "checksum")],
)
def test_child_id_invalid_fails_and_says_what_is_wrong(region: Region, text: str | None, variant: str) -> None:
    decision = evaluate(eligible_facts(child_id_text=text, child_id=None), region, "child")
    assert decision.codes == ("CHILD_ID_INVALID",)
    assert decision.failures[0].variant == variant
    assert failed(eligible_facts(), region) == ()


def test_child_too_old_fails_at_the_age_limit(region: Region) -> None:
    sixteen_today = child_born("20100601")
    assert failed(eligible_facts(child_id=sixteen_today, child_id_text=sixteen_today.text), region) == ("CHILD_TOO_OLD",)
    fifteen = child_born("20100602")
    assert failed(eligible_facts(child_id=fifteen, child_id_text=fifteen.text), region) == ()


def test_child_too_old_text_names_the_region_age_limit(region: Region) -> None:
    old = ResidentId.parse("430102200905200037", today=TODAY)
    decision = evaluate(eligible_facts(child_id=old, child_id_text=old.text), region, "child")
    assert "16" in decision.failures[0].reason.zh and "{age_limit}" not in decision.failures[0].reason.zh


def test_child_unknown_fails_for_a_child_not_in_the_registry(region: Region) -> None:
    facts = eligible_facts(child_known=False, relationship=None, child_has_physical_card=False)
    assert failed(facts, region) == ("CHILD_UNKNOWN",)
    assert failed(eligible_facts(child_known=True), region) == ()


def test_not_guardian_fails_without_a_relationship_on_record(region: Region) -> None:
    assert failed(eligible_facts(relationship=None), region) == ("NOT_GUARDIAN",)
    assert failed(eligible_facts(relationship="guardian"), region) == ()


def test_child_has_ecard_fails_for_an_active_e_card(region: Region) -> None:
    assert failed(eligible_facts(child_ecard_state=ECardState.ACTIVE), region) == ("CHILD_HAS_ECARD",)
    assert failed(eligible_facts(child_ecard_state=ECardState.CANCELLED), region) == ()


@pytest.mark.parametrize("by_this_guardian", [True, False])
def test_a_pending_e_card_is_resumed_whoever_registered_it(region: Region, by_this_guardian: bool) -> None:
    facts = eligible_facts(
        child_ecard_state=ECardState.PENDING,
        child_ecard_pending_by_this_guardian=by_this_guardian,
        guardian_children_with_ecards=region.child_slots,
    )
    decision = evaluate(facts, region, "child")
    assert decision.eligible and decision.resume


def test_child_slots_full_fails_when_other_children_take_every_slot(region: Region) -> None:
    assert failed(eligible_facts(guardian_children_with_ecards=region.child_slots), region) == ("CHILD_SLOTS_FULL",)
    assert failed(eligible_facts(guardian_children_with_ecards=region.child_slots - 1), region) == ()


def test_physical_card_required_fails_only_where_the_region_requires_it(region: Region) -> None:
    strict = replace(region, physical_card_required=True)
    assert failed(eligible_facts(child_has_physical_card=False), strict) == ("PHYSICAL_CARD_REQUIRED",)
    assert failed(eligible_facts(child_has_physical_card=True), strict) == ()
    assert failed(eligible_facts(child_has_physical_card=False), region) == ()


def test_card_phase_does_not_look_at_the_pin_or_the_child(region: Region) -> None:
    facts = eligible_facts(pin_verified=False, child_id=None, child_id_text=None)
    assert evaluate(facts, region, "card").eligible
    assert failed(facts, region, "pin") == ("PIN_NOT_VERIFIED",)


def test_child_phase_checks_the_earlier_phases_again_in_rule_order(region: Region) -> None:
    facts = eligible_facts(card_status=CardStatus.LOST, pin_verified=False, relationship=None)
    assert failed(facts, region, Phase.CHILD) == ("CARD_NOT_NORMAL", "PIN_NOT_VERIFIED", "NOT_GUARDIAN")


def test_a_failing_decision_never_resumes(region: Region) -> None:
    facts = eligible_facts(child_ecard_state=ECardState.PENDING, pin_verified=False)
    decision = evaluate(facts, region, "child")
    assert not decision.eligible and not decision.resume


def test_a_rule_the_region_switches_off_is_not_applied(region: Region) -> None:
    lenient = replace(region, enabled_rules=tuple(code for code in region.enabled_rules if code != "CHILD_TOO_OLD"))
    old = ResidentId.parse("430102200905200037", today=TODAY)
    assert failed(eligible_facts(child_id=old, child_id_text=old.text), lenient) == ()


def test_every_failure_carries_reason_next_step_and_legal_basis_in_both_languages(region: Region) -> None:
    facts = eligible_facts(card=guardian_card(expiry=date(2020, 1, 1)), relationship=None)
    for failure in evaluate(facts, region, "child").failures:
        for text in (failure.reason, failure.next_step, failure.legal_basis):
            assert text.zh and text.en


def test_an_unknown_phase_is_refused(region: Region) -> None:
    with pytest.raises(ValueError):
        evaluate(eligible_facts(), region, "payment")
