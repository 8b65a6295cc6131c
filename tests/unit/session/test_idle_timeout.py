"""Idle timeout on a manual clock: nothing before the limit, the visit ends at it, never while the kiosk is busy.

Time passes for the session when it is told so (`tick()`, as the app does every second)."""
from __future__ import annotations

import pytest

from kiosk.domain import ECardState
from kiosk.session import Step

from .conftest import DEADLINE, IDLE_TIMEOUT, WRONG_PIN, ZHANG_XIAOYU, Guardian, ecards_of

# Steps where the guardian is expected to act; idle time counts there.
GUARDIAN_STEPS = [
    Step.HOLDER, Step.PIN, Step.CHILD_ID, Step.CHILD_CONFIRM, Step.ELIGIBLE, Step.NOT_ELIGIBLE,
    Step.ACTIVATED, Step.ERROR,
]


@pytest.mark.parametrize("step", GUARDIAN_STEPS, ids=lambda step: step.value)
def test_idle_guardian_keeps_the_visit_until_the_limit(guardian: Guardian, clock, step: Step) -> None:
    guardian.to_step(step)
    guardian.session.touch()
    clock.advance(IDLE_TIMEOUT - 1)

    assert guardian.session.idle_seconds_left() == pytest.approx(1)
    guardian.session.tick()
    view = guardian.expect(step)
    assert view.holder is not None and view.notice is None
    assert guardian.session.visit_under_way


@pytest.mark.parametrize("step", GUARDIAN_STEPS, ids=lambda step: step.value)
def test_idle_timeout_with_the_card_still_in_asks_for_the_card_and_wipes_the_visit(
    guardian: Guardian, clock, step: Step
) -> None:
    guardian.to_step(step)
    guardian.session.touch()
    clock.advance(IDLE_TIMEOUT)

    assert guardian.session.idle_seconds_left() == 0
    guardian.session.tick()
    view = guardian.expect(Step.TAKE_CARD)
    assert view.notice == "SESSION_TIMEOUT"
    assert not guardian.session.visit_under_way
    assert view.holder is None and view.child is None and view.ticket is None and view.error is None
    assert guardian.session.idle_seconds_left() is None
    guardian.session.tick()  # it ends a visit once
    assert guardian.expect(Step.TAKE_CARD).notice == "SESSION_TIMEOUT"

    guardian.remove()
    assert guardian.expect(Step.WELCOME).notice is None


def test_idle_timeout_while_waiting_for_a_card_goes_back_to_welcome(guardian: Guardian, clock) -> None:
    guardian.to_insert_card()
    clock.advance(IDLE_TIMEOUT)

    guardian.session.tick()
    view = guardian.expect(Step.WELCOME)
    assert view.notice == "SESSION_TIMEOUT"
    assert not guardian.session.visit_under_way


def test_no_idle_timeout_at_welcome_or_take_card(guardian: Guardian, clock) -> None:
    assert guardian.session.idle_seconds_left() is None
    clock.advance(IDLE_TIMEOUT * 10)
    guardian.session.tick()
    assert guardian.expect(Step.WELCOME).notice is None

    guardian.to_child_id()
    guardian.session.finish()
    guardian.expect(Step.TAKE_CARD)
    assert guardian.session.idle_seconds_left() is None
    clock.advance(IDLE_TIMEOUT * 2)  # past the closing screen's time too: it asks the reader, and the card is in
    guardian.session.tick()
    assert guardian.expect(Step.TAKE_CARD).notice is None


def test_guardian_activity_restarts_the_idle_clock(guardian: Guardian, clock) -> None:
    guardian.to_pin()
    clock.advance(IDLE_TIMEOUT - 10)
    guardian.session.submit_pin(WRONG_PIN)  # doing something, even wrong, is activity
    clock.advance(IDLE_TIMEOUT - 10)
    guardian.session.tick()
    guardian.expect(Step.PIN)

    guardian.session.touch()  # a key press anywhere
    clock.advance(IDLE_TIMEOUT - 1)
    guardian.session.tick()
    guardian.expect(Step.PIN)
    clock.advance(1)
    guardian.session.tick()
    assert guardian.expect(Step.TAKE_CARD).notice == "SESSION_TIMEOUT"


def test_no_idle_timeout_while_the_card_is_being_read(guardian: Guardian, clock) -> None:
    guardian.to_reading()
    clock.advance(DEADLINE - 1)  # a slow card, still within the step's deadline (test_deadlines.py: past it)

    assert guardian.session.idle_seconds_left() is None
    guardian.session.tick()
    view = guardian.expect(Step.READING)
    assert view.notice is None
    guardian.work()
    guardian.expect(Step.HOLDER)


def test_no_idle_timeout_while_the_activation_code_is_shown(guardian: Guardian, clock) -> None:
    guardian.to_activation()
    clock.advance(IDLE_TIMEOUT + 1)  # still well inside the ticket's life

    assert guardian.session.idle_seconds_left() is None
    guardian.session.tick()
    guardian.expect(Step.ACTIVATION)
    guardian.session.check_activation()
    view = guardian.expect(Step.ACTIVATION)
    assert view.ticket is not None and view.ticket.renewals == 0
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.PENDING.value]


def test_activation_landing_after_a_long_wait_at_the_qr_code_is_not_an_idle_timeout(guardian: Guardian, clock) -> None:
    # The guardian stands at the QR code while the phone app does its work: that wait is exempt
    # from the idle timeout, so it must not count against the "activated" step that follows.
    guardian.to_activation()
    clock.advance(IDLE_TIMEOUT + 30)
    assert clock.now() < guardian.session.view.ticket.expires_at
    guardian.activate_on_phone()
    guardian.session.check_activation()
    guardian.expect(Step.ACTIVATED)

    guardian.session.tick()
    guardian.expect(Step.ACTIVATED)
    assert guardian.session.idle_seconds_left() == pytest.approx(IDLE_TIMEOUT)


def test_idle_timeout_ends_an_abandoned_activated_screen_like_any_other_step(guardian: Guardian, clock) -> None:
    guardian.to_activated()
    guardian.session.touch()
    clock.advance(IDLE_TIMEOUT)
    guardian.session.tick()
    assert guardian.expect(Step.TAKE_CARD).notice == "SESSION_TIMEOUT"
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.ACTIVE.value]
