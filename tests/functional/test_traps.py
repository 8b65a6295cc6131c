"""The traps a newcomer fell into (issue 14), each shown by the keys that showed it: refusals that would not
scroll, a waiting registration Tab could not reach, errors that outlived their fix, a step bar claiming steps
never taken, Tab then Enter opening Help, the last visit's notice left for the next guardian, Chinese lines
broken at spaces or starting with a full stop, and words that said "for now" of a final refusal."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest
from textual.containers import VerticalScroll
from textual.widgets import Static

from kiosk.ports import ManualClock
from kiosk.session import Step
from kiosk.text import NO_LINE_START
from tests.functional.screen_image import screen_text

SMALL = (80, 24)
NOBODYS_CHILD = "430102201704040019"  # 周子豪: NOT_GUARDIAN, whose reason, next step and rule run long


def _clock() -> ManualClock:
    return ManualClock(datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc))


def _lines_start_with_closing_punctuation(app) -> list[str]:
    return [row.strip() for row in screen_text(app).splitlines()
            if row.strip().strip("│ ") and row.strip().strip("│ ")[0] in NO_LINE_START]


async def _press_until(journey, key: str, condition, what: str, most: int = 40) -> None:
    for _ in range(most):
        if condition():
            return
        await journey.pilot.press(key)
    assert condition(), what


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_long_refusal_scrolls_by_keys_with_a_more_below_hint_and_the_notice_goes_after_a_while(
        start_kiosk, lang):
    clock = _clock()
    # 黄强's slots are used up and 周子豪 is nobody's child: two reasons, the second below the fold at 80x24.
    async with start_kiosk(size=SMALL, language=lang, clock=clock) as journey:
        await journey.to_child_id("huang-qiang-slots-full")
        await journey.enter_child(NOBODYS_CHILD)
        screen = await journey.reach(Step.NOT_ELIGIBLE)
        await journey.pilot.pause()
        reasons = screen.query_one("#reasons", VerticalScroll)
        more = screen.query_one("#reasons-more", Static)
        assert reasons.max_scroll_y > 0 and more.display  # there is more, and the screen says so in words
        assert ("下面还有内容" if lang == "zh" else "More below") in screen_text(journey.app)
        await journey.pilot.press("down")
        await journey.pilot.pause()
        assert reasons.scroll_y == 1
        await journey.pilot.press("pagedown")
        await journey.pilot.pause()
        assert reasons.scroll_y > 1
        await journey.pilot.press("end")
        await journey.pilot.pause()
        assert reasons.scroll_y == reasons.max_scroll_y and not more.display
        assert len(screen.view.decision.failures) == 2
        assert screen.view.decision.failures[-1].code in screen_text(journey.app)  # the very end of the last reason is on screen
        await journey.pilot.press("home")
        await journey.pilot.pause()
        assert reasons.scroll_y == 0 and more.display
        await _press_until(journey, "tab", lambda: journey.app.focused is reasons, "Tab reaches the reasons")
        await journey.pilot.press("end")
        await journey.pilot.pause()
        assert reasons.scroll_y == reasons.max_scroll_y
        assert not _lines_start_with_closing_punctuation(journey.app)
        if lang == "zh":
            assert "暂时" not in screen_text(journey.app)  # no guardianship on record is not a "for now"
        await journey.remove()  # the guardian pulls the card and walks away
        welcome = await journey.reach(Step.WELCOME)
        notice = journey.session.view.notice
        assert notice == "CARD_REMOVED" and welcome.notice_text() in screen_text(journey.app).replace("\n", "")
        clock.advance(16)
        journey.app.check_time()
        await journey.pilot.pause()
        assert journey.session.view.notice is None
        assert journey.app.screen.notice_text() == ""
        assert ("卡已取出" if lang == "zh" else "card was taken out") not in screen_text(journey.app)


async def test_tab_then_enter_reaches_the_waiting_registration_and_help_says_where_it_is(start_kiosk):
    async with start_kiosk(size=SMALL) as journey:
        await journey.to_child_id("li-na-2.00")
        await journey.pilot.pause()
        await journey.pilot.press("f1")
        await journey.pilot.press("3")
        await journey.pilot.pause()
        help_text = "".join(str(w.render()) for w in journey.app.screen.query(Static))
        assert "号码输入框上方" in help_text and "下方" not in help_text
        await journey.pilot.press("escape")
        await journey.reach(Step.CHILD_ID)
        await journey.pilot.press("tab")
        assert journey.app.focused is not None and journey.app.focused.id == "resume-0"
        await journey.pilot.press("enter")
        screen = await journey.reach(Step.ACTIVATION)
        assert screen.view.resumed


async def test_an_error_goes_once_the_entry_is_changed(start_kiosk):
    async with start_kiosk(size=SMALL) as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        pin = await journey.reach(Step.PIN)
        await journey.type("123")
        await journey.pilot.press("enter")  # too short
        await journey.pilot.pause()
        assert str(pin.query_one("#pin-error", Static).render()).strip()
        await journey.type("123456")
        assert "●" * 1 in str(pin.query_one("#pin-dots", Static).render())
        assert not str(pin.query_one("#pin-error", Static).render()).strip()  # not beside six filled dots
        await journey.pilot.press("enter")
        child = await journey.open_typed_entry()  # past the list of children on record: the typed entry
        feedback = child.query_one("#child-feedback", Static)
        await journey.type("430102201906010028")  # wrong check digit
        assert "校验" in str(feedback.render()) or str(feedback.render()).strip()
        await journey.pilot.press("enter")  # sent as it is: the session's answer is shown
        await journey.pilot.pause()
        assert str(feedback.render()).strip()
        await journey.pilot.press("backspace")
        await journey.type("9")
        await journey.pilot.pause()
        assert not str(feedback.render()).strip()  # fixed: no error left on screen
        await journey.pilot.press("enter")
        await journey.reach(Step.CHILD_CONFIRM)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_card_refusal_shows_only_the_card_step_reached_and_tab_enter_starts(start_kiosk, lang):
    async with start_kiosk(size=SMALL, language=lang) as journey:
        await journey.reach(Step.WELCOME)
        await journey.pilot.pause()
        await journey.pilot.press("tab")
        await journey.pilot.press("enter")
        await journey.reach(Step.INSERT_CARD)  # started, not Help
        await journey.insert("wang-fang-expired")
        screen = await journey.reach(Step.NOT_ELIGIBLE)
        await journey.pilot.pause()
        bar = screen_text(journey.app).splitlines()[1]
        assert "✓" not in bar  # neither the PIN nor the child step was done
        assert ("▶ 1" in bar) and ("2 密码" in bar if lang == "zh" else "2 PIN" in bar)
        assert not _lines_start_with_closing_punctuation(journey.app)


@pytest.mark.parametrize("lang", ["zh", "en"])
async def test_a_blocked_pin_a_mute_card_and_a_bank_card_give_the_rule_and_name_where_to_go(start_kiosk, lang):
    basis, place = ("依据", "社保卡服务网点") if lang == "zh" else ("Rule", "social security card service point")
    async with start_kiosk(size=SMALL, language=lang) as journey:
        for profile, code in (("chen-jing-blocked", "PIN_BLOCKED"), ("mute-card", "CARD_MUTE"),
                              ("bank-card", "CARD_NOT_SOCIAL_SECURITY")):
            await journey.reach(Step.WELCOME)
            await journey.insert(profile)
            if code == "PIN_BLOCKED":  # told on the PIN step, before anything is typed
                await journey.reach(Step.HOLDER)
                await journey.pilot.press("enter")
            screen = await journey.reach(Step.ERROR)
            await journey.pilot.pause()
            assert screen.view.error == code
            words = " ".join(str(w.render()) for w in screen.query(Static)).replace("\n", " ")
            assert f"{basis}{screen.t('punct.colon')}" in words and place in words, words
            if code == "PIN_BLOCKED":
                assert ("柜台" in words and "重置" in words) if lang == "zh" else "counter" in words
            assert not _lines_start_with_closing_punctuation(journey.app)
            await journey.remove()
