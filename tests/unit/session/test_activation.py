"""Activation: the poll sees the app's activation; expired QR codes are renewed, up to a limit."""
from __future__ import annotations

import pytest

from kiosk.domain import ECardState
from kiosk.errors import KioskError
from kiosk.session import Step

from .conftest import MAX_RENEWALS, TICKET_TTL, ZHANG_XIAOYU, Guardian, ecards_of


def refused(guardian: Guardian, code: str) -> str:
    with pytest.raises(KioskError) as caught:
        guardian.activate_on_phone(code)
    return caught.value.code


def test_consent_registers_a_pending_e_card_and_shows_its_activation_code(guardian: Guardian, clock) -> None:
    view = guardian.to_activation()

    ticket = view.ticket
    assert ticket is not None and ticket.renewals == 0
    assert len(ticket.user_code) == 9 and ticket.user_code[4] == "-"
    assert ticket.url.startswith(guardian.kiosk.settings.activation_url_base)
    assert (ticket.expires_at - clock.now()).total_seconds() == TICKET_TTL
    assert view.stage == 4 and view.resumed is False
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.PENDING.value]


def test_poll_before_the_activation_changes_nothing(guardian: Guardian, clock, views) -> None:
    ticket = guardian.to_activation().ticket
    published = len(views)
    clock.advance(TICKET_TTL - 1)

    guardian.session.check_activation()

    view = guardian.expect(Step.ACTIVATION)
    assert view.ticket == ticket
    assert len(views) == published


def test_poll_sees_the_activation_by_user_code_and_shows_activated(guardian: Guardian) -> None:
    ticket = guardian.to_activation().ticket
    result = guardian.activate_on_phone(ticket.user_code)
    assert result.child_resident_id == ZHANG_XIAOYU

    guardian.session.check_activation()

    guardian.expect(Step.ACTIVATED)
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.ACTIVE.value]
    assert refused(guardian, ticket.user_code) == "ACTIVATION_USED"


def test_poll_sees_the_activation_by_the_scanned_url(guardian: Guardian) -> None:
    ticket = guardian.to_activation().ticket
    guardian.activate_on_phone(ticket.url)
    guardian.session.check_activation()
    guardian.expect(Step.ACTIVATED)


def test_an_expired_code_is_renewed_with_a_different_code_and_the_old_one_is_refused(guardian: Guardian, clock) -> None:
    old = guardian.to_activation().ticket
    clock.advance(TICKET_TTL + 1)

    guardian.session.check_activation()

    view = guardian.expect(Step.ACTIVATION)
    new = view.ticket
    assert new.renewals == 1
    assert new.user_code != old.user_code and new.url != old.url
    assert (new.expires_at - clock.now()).total_seconds() == TICKET_TTL
    assert refused(guardian, old.user_code) == "ACTIVATION_EXPIRED"
    assert refused(guardian, old.url) == "ACTIVATION_EXPIRED"

    guardian.activate_on_phone(new.user_code)
    guardian.session.check_activation()
    guardian.expect(Step.ACTIVATED)
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.ACTIVE.value]


def test_the_code_is_renewed_up_to_the_limit_then_the_visit_ends_and_the_e_card_stays_pending(
    guardian: Guardian, clock
) -> None:
    codes = [guardian.to_activation().ticket.user_code]
    for renewal in range(1, MAX_RENEWALS + 1):
        clock.advance(TICKET_TTL)
        guardian.session.check_activation()
        view = guardian.expect(Step.ACTIVATION)
        assert view.ticket.renewals == renewal
        codes.append(view.ticket.user_code)
    assert len(set(codes)) == MAX_RENEWALS + 1

    clock.advance(TICKET_TTL)
    guardian.session.check_activation()

    view = guardian.expect(Step.TAKE_CARD)  # the card is still in
    assert view.notice == "SESSION_TIMEOUT"
    assert view.ticket is None
    assert not guardian.session.visit_under_way
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.PENDING.value]
    for code in codes:
        assert refused(guardian, code) == "ACTIVATION_EXPIRED"

    guardian.remove()
    guardian.expect(Step.WELCOME)
    resumed = guardian.come_back_and_resume()
    assert resumed.ticket.renewals == 0 and resumed.ticket.user_code not in codes


def test_poll_outside_the_activation_step_does_nothing(guardian: Guardian, views) -> None:
    guardian.to_eligible()
    published = len(views)
    guardian.session.check_activation()
    guardian.expect(Step.ELIGIBLE)
    assert len(views) == published


def test_another_child_after_an_activation_starts_afresh_at_the_child_id(guardian: Guardian) -> None:
    guardian.to_activated()
    guardian.session.another_child()
    view = guardian.expect(Step.CHILD_ID)
    assert view.child is None and view.decision is None and view.ticket is None
    assert view.holder is not None
