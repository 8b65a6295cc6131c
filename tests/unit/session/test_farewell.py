"""Closing screens finish by themselves on the session's clock; each one's time is its own (it dies with its screen)."""
from __future__ import annotations

import pytest

from kiosk.session import InlineRunner, Step

from .conftest import Guardian, kiosk_root

FAREWELL = 20
MUTE = "mute-card"


@pytest.fixture
def guardian(settings_for, clock) -> Guardian:
    """A kiosk whose closing screens wait FAREWELL seconds (the other session tests make them wait long)."""
    kiosk = kiosk_root.build_kiosk(settings_for(farewell_seconds=FAREWELL, idle_timeout_seconds=90,
                                                step_idle_seconds={}, language="zh"), clock=clock)
    runner = InlineRunner()
    kiosk.session.use_runner(runner)
    yield Guardian(kiosk, runner)
    kiosk.registry.close()


def test_an_error_screen_finishes_by_itself_after_its_time(guardian: Guardian, clock) -> None:
    guardian.insert(MUTE)
    guardian.expect(Step.ERROR)
    clock.advance(FAREWELL - 1)
    guardian.session.tick()
    guardian.expect(Step.ERROR)
    clock.advance(1)
    guardian.session.tick()
    view = guardian.expect(Step.TAKE_CARD)  # the visit wiped, the card asked back
    assert view.error is None and not guardian.session.visit_under_way


def test_two_error_screens_in_a_row_each_get_their_whole_time(guardian: Guardian, clock) -> None:
    # The fault on main: both shared the first one's timer, so the second was cut to 7 s.
    guardian.insert(MUTE)
    guardian.expect(Step.ERROR)
    clock.advance(13)
    guardian.session.tick()
    guardian.remove()
    guardian.expect(Step.WELCOME)
    guardian.insert(MUTE)
    guardian.expect(Step.ERROR)

    clock.advance(FAREWELL - 13)  # the first error's time is up now: nothing of it is left
    guardian.session.tick()
    guardian.expect(Step.ERROR)
    clock.advance(12)
    guardian.session.tick()
    guardian.expect(Step.ERROR)
    clock.advance(1)  # the second error's own time
    guardian.session.tick()
    guardian.expect(Step.TAKE_CARD)


def test_a_timer_dies_with_its_screen_even_when_the_same_screen_comes_back_at_once(guardian: Guardian, clock) -> None:
    guardian.to_activated()
    clock.advance(FAREWELL - 5)
    guardian.session.another_child()  # the guardian goes on
    guardian.session.submit_child_id("430102201906010029")
    guardian.expect(Step.CHILD_CONFIRM)  # activated a moment ago: the child has an e-card now
    clock.advance(10)
    guardian.session.tick()
    guardian.expect(Step.CHILD_CONFIRM)  # the activated screen's time went with it


def test_the_activated_screen_asks_for_the_card_then_the_card_screen_waits_for_it(guardian: Guardian, clock) -> None:
    guardian.to_activated()
    clock.advance(FAREWELL)
    guardian.session.tick()
    guardian.expect(Step.TAKE_CARD)
    clock.advance(FAREWELL)
    guardian.session.tick()  # the card is still in: the screen stays until it leaves
    guardian.expect(Step.TAKE_CARD)
    clock.advance(FAREWELL * 5)
    guardian.session.tick()
    guardian.expect(Step.TAKE_CARD)
    guardian.remove()
    assert guardian.expect(Step.WELCOME).notice is None


def test_a_farewell_that_comes_while_the_guardian_is_busy_elsewhere_does_nothing(guardian: Guardian, clock) -> None:
    guardian.insert(MUTE)
    guardian.expect(Step.ERROR)
    guardian.session.finish()  # the guardian pressed OK first
    guardian.expect(Step.TAKE_CARD)
    guardian.remove()
    guardian.expect(Step.WELCOME)
    clock.advance(FAREWELL * 2)
    guardian.session.tick()
    assert guardian.expect(Step.WELCOME).notice is None
