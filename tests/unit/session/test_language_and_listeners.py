"""Language switches keep the visit; listeners get every view; a broken listener breaks nothing."""
from __future__ import annotations

import pytest

from kiosk.session import SessionView, Step

from .conftest import IDLE_TIMEOUT, ZHANG_XIAOYU, Guardian


@pytest.mark.parametrize("step", [Step.WELCOME, Step.HOLDER, Step.PIN, Step.CHILD_CONFIRM, Step.ELIGIBLE, Step.ACTIVATION])
def test_language_switch_keeps_the_step_and_what_was_entered(guardian: Guardian, step: Step) -> None:
    before = guardian.session.view if step is Step.WELCOME else guardian.to_step(step)

    guardian.session.set_language("en")

    after = guardian.session.view
    assert after.lang == "en"
    assert after.step is step
    assert after.holder == before.holder and after.child == before.child
    assert after.decision == before.decision and after.ticket == before.ticket
    assert after.pin_tries_left == before.pin_tries_left and after.pending == before.pending

    guardian.session.set_language("zh")
    assert guardian.session.view == before


def test_language_switch_keeps_a_wrong_pin_count_and_a_child_id_error(guardian: Guardian) -> None:
    guardian.to_pin()
    guardian.session.submit_pin("000000")
    guardian.session.set_language("en")
    view = guardian.expect(Step.PIN)
    assert view.pin_error == "PIN_WRONG" and view.pin_tries_left == 2

    guardian.session.submit_pin("123456")
    guardian.session.submit_child_id("430102201906010028")  # wrong check digit
    guardian.session.set_language("zh")
    view = guardian.expect(Step.CHILD_ID)
    assert view.child_id_error == "CHILD_ID_FORMAT" and view.child_id_error_position is not None


def test_a_language_switch_is_activity(guardian: Guardian, clock) -> None:
    guardian.to_child_id()
    clock.advance(IDLE_TIMEOUT - 1)
    guardian.session.set_language("en")
    clock.advance(IDLE_TIMEOUT - 1)
    guardian.session.tick()
    guardian.expect(Step.CHILD_ID)


def test_an_unknown_language_falls_back_to_chinese(guardian: Guardian) -> None:
    guardian.session.set_language("en")
    guardian.session.set_language("fr")
    assert guardian.session.view.lang == "zh"


def test_the_next_guardian_gets_the_configured_language_again(guardian: Guardian) -> None:
    # config/kiosk.toml: "The language the welcome screen starts in ... Every session starts again in this language."
    assert guardian.kiosk.settings.language == "zh"
    guardian.to_child_confirm()
    guardian.session.set_language("en")
    guardian.remove()
    guardian.expect(Step.WELCOME)

    assert guardian.session.view.lang == "zh"
    assert guardian.to_holder().lang == "zh"


def test_listeners_receive_a_view_after_every_change(guardian: Guardian, views: list[SessionView]) -> None:
    guardian.to_child_confirm()

    steps = [view.step for view in views]
    for step in (Step.READING, Step.HOLDER, Step.PIN, Step.CHILD_ID, Step.CHILD_CONFIRM):
        assert step in steps
    assert steps.index(Step.READING) < steps.index(Step.HOLDER) < steps.index(Step.PIN)
    assert views[-1] == guardian.session.view
    assert all(isinstance(view, SessionView) for view in views)

    guardian.session.set_language("en")
    assert views[-1].lang == "en" and views[-1].step is Step.CHILD_CONFIRM
    guardian.remove()
    assert views[-1].step is Step.WELCOME and views[-1].notice == "CARD_REMOVED"


def test_every_listener_gets_the_same_views(guardian: Guardian, views: list[SessionView]) -> None:
    second: list[SessionView] = []
    guardian.session.subscribe(second.append)
    guardian.to_activation()
    assert second == views and views


def test_a_broken_listener_does_not_break_the_session_or_the_other_listeners(
    guardian: Guardian, caplog: pytest.LogCaptureFixture
) -> None:
    calls: list[Step] = []

    def broken(view: SessionView) -> None:
        calls.append(view.step)
        raise RuntimeError("screen went away")

    guardian.session.subscribe(broken)
    after: list[SessionView] = []
    guardian.session.subscribe(after.append)

    guardian.to_activation()  # raises nothing
    guardian.activate_on_phone()
    guardian.session.check_activation()

    guardian.expect(Step.ACTIVATED)
    assert calls and [v.step for v in after] == calls
    assert after[-1].step is Step.ACTIVATED
    assert "session listener failed" in caplog.text


def test_views_hold_only_masked_personal_data(guardian: Guardian, views: list[SessionView]) -> None:
    guardian.to_activation()
    view = guardian.session.view
    assert view.holder.name == "张*" and view.holder.resident_id == "4301**********0016"
    assert view.holder.card_number == "L4*****01"
    assert view.child.name == "张*雨" and view.child.resident_id == "4301**********0029"
    text = repr(views)
    for clear in ("张伟", "张小雨", "430102198803150016", ZHANG_XIAOYU, "L43000001"):
        assert clear not in text
