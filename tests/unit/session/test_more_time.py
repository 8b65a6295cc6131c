"""Idle time per step, "more time" as often as asked, and the welcome screen forgetting a walked-away choice."""
from __future__ import annotations

import pytest

from kiosk.session import Step

from kiosk.session import InlineRunner

from .conftest import kiosk_root

PER_STEP = {"pin": 40, "child_id": 150, "not_eligible": 200}


@pytest.fixture
def timed(settings_for, clock, tmp_path):
    settings = settings_for(idle_timeout_seconds=60, step_idle_seconds=PER_STEP, idle_warning_seconds=25, language="zh")
    built = kiosk_root.build_kiosk(settings, clock=clock)
    built.session.use_runner(InlineRunner())
    yield built
    built.registry.close()


def _to_pin(kiosk) -> None:
    kiosk.bench.insert("zhang-wei-3.00")  # read at once
    kiosk.session.confirm_holder()
    assert kiosk.session.step is Step.PIN


def test_each_step_has_its_own_time_and_the_others_the_default(timed) -> None:
    policy = timed.session.policy
    assert policy.idle_warning_seconds == 25
    assert [policy.idle_timeout_for(step) for step in (Step.PIN, Step.CHILD_ID, Step.NOT_ELIGIBLE, Step.HOLDER)] == [40, 150, 200, 60]


def test_the_pin_step_ends_after_its_own_time(timed, clock) -> None:
    _to_pin(timed)
    assert timed.session.idle_seconds_left() == pytest.approx(40)
    clock.advance(39)
    timed.session.tick()
    assert timed.session.step is Step.PIN
    clock.advance(1)
    timed.session.tick()
    assert timed.session.view.notice == "SESSION_TIMEOUT"


def test_more_time_gives_the_whole_step_time_again_as_often_as_asked(timed, clock) -> None:
    _to_pin(timed)
    for _round in range(12):  # WCAG 2.2.1 asks for at least ten extensions
        clock.advance(30)  # inside the warning (the last 25 s)
        assert timed.session.idle_seconds_left() == pytest.approx(10)
        assert timed.session.more_time()
        assert timed.session.idle_seconds_left() == pytest.approx(40)
        timed.session.tick()
    assert timed.session.step is Step.PIN


def test_a_choice_made_at_the_welcome_screen_is_forgotten_when_nobody_goes_on(timed, clock) -> None:
    session = timed.session
    assert session.idle_seconds_left() is None  # nothing chosen: nothing to forget
    session.set_language("en")
    session.set_display(large_text=True, high_contrast=True)
    view = session.view
    assert (view.lang, view.large_text, view.high_contrast) == ("en", True, True)
    clock.advance(60)
    session.tick()
    view = session.view
    assert (view.step, view.lang, view.large_text, view.high_contrast) == (Step.WELCOME, "zh", False, False)


def test_display_choices_last_for_the_visit_and_end_with_it(timed, clock) -> None:
    session = timed.session
    session.set_display(large_text=True)
    _to_pin(timed)
    assert session.view.large_text and not session.view.high_contrast
    timed.bench.remove()
    session.card_removed()
    assert session.view.step is Step.WELCOME and not session.view.large_text
