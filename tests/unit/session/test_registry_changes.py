"""The registry changing under a visit (another kiosk, the guardian's app): the session decides again."""
from __future__ import annotations

from kiosk.domain import ECardState
from kiosk.registry import Registry
from kiosk.session import Step

from .conftest import LI_JIAYI, LI_NA_CARD, TICKET_TTL, ZHANG_WEI, ZHANG_XIAOYU, Guardian, ecards_of

URL_BASE = "https://ecard.example.gov.cn/activate"


def registered_and_activated_elsewhere(other: Registry, guardian_rid: str, child: str) -> None:
    ecard_id = other.register_ecard(guardian_rid, child, "OTHER-KIOSK")
    other.activate(other.issue_ticket(ecard_id, URL_BASE, TICKET_TTL).user_code)


def activated_elsewhere(other: Registry, child: str) -> None:
    ecard = other.child_ecard(child)
    assert ecard is not None and ecard.state is ECardState.PENDING
    other.activate(other.issue_ticket(ecard.ecard_id, URL_BASE, TICKET_TTL).user_code)


def expect_decided_again_has_e_card(guardian: Guardian) -> None:
    """The new decision is on screen (the child to confirm) and says the child has an e-card now."""
    view = guardian.session.view
    assert view.step in (Step.CHILD_CONFIRM, Step.NOT_ELIGIBLE), view
    assert view.error is None
    assert view.decision is not None and not view.decision.eligible
    assert "CHILD_HAS_ECARD" in view.decision.codes
    if view.step is Step.CHILD_CONFIRM:
        guardian.session.confirm_child()
    guardian.expect(Step.NOT_ELIGIBLE)


def test_child_registered_by_another_kiosk_before_consent_gets_one_e_card_and_its_code(
    guardian: Guardian, other_kiosk: Registry
) -> None:
    guardian.to_eligible()
    other_id = other_kiosk.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, "OTHER-KIOSK")

    guardian.session.consent()

    view = guardian.expect(Step.ACTIVATION)
    assert ecards_of(guardian.registry, ZHANG_XIAOYU) == [(other_id, ECardState.PENDING.value)]
    guardian.activate_on_phone(view.ticket.user_code)
    guardian.session.check_activation()
    guardian.expect(Step.ACTIVATED)


def test_child_registered_and_activated_elsewhere_before_consent_is_decided_again(
    guardian: Guardian, other_kiosk: Registry
) -> None:
    guardian.to_eligible()
    registered_and_activated_elsewhere(other_kiosk, ZHANG_WEI, ZHANG_XIAOYU)

    guardian.session.consent()

    expect_decided_again_has_e_card(guardian)
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.ACTIVE.value]


def test_child_registered_elsewhere_between_lookup_and_decision_screen_is_decided_again(
    guardian: Guardian, other_kiosk: Registry
) -> None:
    guardian.to_child_confirm()
    registered_and_activated_elsewhere(other_kiosk, ZHANG_WEI, ZHANG_XIAOYU)
    guardian.session.confirm_child()
    guardian.expect(Step.ELIGIBLE)  # the decision on screen is the old one, until the consent

    guardian.session.consent()

    expect_decided_again_has_e_card(guardian)


def test_pending_e_card_activated_elsewhere_before_resuming_is_decided_again(
    guardian: Guardian, other_kiosk: Registry
) -> None:
    view = guardian.to_child_confirm(LI_JIAYI, profile=LI_NA_CARD)
    assert view.decision.resume is True
    guardian.hold()
    guardian.session.confirm_child()
    guardian.expect(Step.REGISTERING)
    activated_elsewhere(other_kiosk, LI_JIAYI)

    guardian.work()

    expect_decided_again_has_e_card(guardian)


def test_e_card_activated_through_another_kiosks_code_while_ours_is_shown_is_decided_again(
    guardian: Guardian, other_kiosk: Registry
) -> None:
    guardian.to_activation()
    activated_elsewhere(other_kiosk, ZHANG_XIAOYU)  # revokes our ticket, then activates with its own

    guardian.session.check_activation()

    expect_decided_again_has_e_card(guardian)
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.ACTIVE.value]


def test_e_card_activated_elsewhere_while_our_code_expired_is_decided_again(
    guardian: Guardian, other_kiosk: Registry, clock
) -> None:
    guardian.to_activation()
    clock.advance(TICKET_TTL + 1)
    activated_elsewhere(other_kiosk, ZHANG_XIAOYU)

    guardian.session.check_activation()

    expect_decided_again_has_e_card(guardian)


def test_another_kiosk_renewing_the_code_only_makes_ours_renew_too(guardian: Guardian, other_kiosk: Registry) -> None:
    ours = guardian.to_activation().ticket
    ecard = other_kiosk.child_ecard(ZHANG_XIAOYU)
    other_kiosk.issue_ticket(ecard.ecard_id, URL_BASE, TICKET_TTL)  # revokes ours

    guardian.session.check_activation()

    view = guardian.expect(Step.ACTIVATION)
    assert view.ticket.user_code != ours.user_code and view.ticket.renewals == 1
    guardian.activate_on_phone(view.ticket.user_code)
    guardian.session.check_activation()
    guardian.expect(Step.ACTIVATED)
