"""Help (F1) over every step: what to bring, other ways to apply, this step's answers; the guardian's place is kept."""
from __future__ import annotations

import asyncio

import pytest
from textual.containers import VerticalScroll
from textual.geometry import Region
from textual.widgets import Button, Static

from kiosk.messages import message
from kiosk.session import Step
from screens.help import STEP_HELP, HelpScreen
from screens.registry import SCREEN_FOR_STEP
from tests.functional.screen_image import screen_text

ELIGIBLE_CHILD = "430102201906010029"  # 张小雨, child of 张伟


async def wait_until(journey, condition, what: str, timeout: float = 5.0) -> None:
    """Let the app process messages until `condition()` holds (no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; screen {type(journey.app.screen).__name__}")
        await journey.pilot.pause()


async def open_help(journey, key: str = "f1") -> HelpScreen:
    await journey.pilot.press(key)
    await wait_until(journey, lambda: isinstance(journey.app.screen, HelpScreen), "the help to open")
    await journey.pilot.pause()
    return journey.app.screen


def help_text(screen: HelpScreen) -> str:
    """Every text of the topic shown, whether scrolled into view or not."""
    return "\n".join(str(static.content) for static in screen.query("#help-content Static").results(Static))


async def show(journey, screen: HelpScreen, topic: str, key: str) -> None:
    await journey.pilot.press(key)
    await wait_until(journey, lambda: screen.topic == topic, f"topic {topic}")
    await journey.pilot.pause()


# ------------------------------------------------------------------ the topics
async def test_f1_on_welcome_shows_what_to_bring_then_other_ways_and_esc_returns(start_kiosk):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        screen = await open_help(journey)
        assert screen.topic == "need"
        text = help_text(screen)
        assert "❓ 帮助 / Help" in screen_text(journey.app)
        assert "您本人的社会保障卡" in text and "社保卡密码（6位数字）" in text
        assert "孩子的18位身份证号码" in text
        assert "户口簿" in text and "出生医学证明" in text and "您本人的身份证" in text
        assert "未满16周岁" in text  # the region's age limit, not a fixed number

        await show(journey, screen, "ways", "2")
        text = help_text(screen)
        assert "手机App" in text and "添加社保卡" in text  # online: the app route of the seeds
        assert "网上办理" in text and "人社局官网" in text  # online: the website route
        assert "到社保经办机构的窗口办理" in text and "人力资源和社会保障局" in text  # offline: where
        assert "孩子的户口簿、出生医学证明" in text and "身份证" in text  # offline: what to bring
        assert "等待审核" in text  # offline: what happens

        await journey.pilot.press("escape")
        welcome = await journey.reach(Step.WELCOME)
        assert welcome is journey.app.screen
        assert not any(isinstance(s, HelpScreen) for s in journey.app.screen_stack)


async def test_the_welcome_buttons_open_help_on_their_own_topic_by_touch(start_kiosk):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        await journey.pilot.click("#help-ways")
        await wait_until(journey, lambda: isinstance(journey.app.screen, HelpScreen), "the help to open")
        assert journey.app.screen.topic == "ways"
        await journey.pilot.press("escape")
        await journey.reach(Step.WELCOME)
        await journey.pilot.click("#help-need")
        await wait_until(journey, lambda: isinstance(journey.app.screen, HelpScreen), "the help to open")
        assert journey.app.screen.topic == "need"
        await journey.pilot.press("escape")
        await journey.reach(Step.WELCOME)


async def test_help_on_the_pin_step_answers_forgotten_pin_and_keeps_the_digits_typed(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        pin = await journey.reach(Step.PIN)
        await journey.app.workers.wait_for_complete()  # the try counter has arrived
        await journey.pilot.pause()
        await journey.type("123")
        assert pin.typed == "123"

        screen = await open_help(journey)
        assert screen.topic == "step"
        text = help_text(screen)
        assert "输入密码" in text
        assert "忘记密码" in text and "身份证" in text and "社保卡服务网点" in text
        await journey.type("999")  # digits typed over the help go nowhere
        await journey.pilot.press("escape")

        back = await journey.reach(Step.PIN)
        assert back is pin
        assert pin.typed == "123"
        assert "● ● ● ○ ○ ○" in screen_text(journey.app)
        await journey.type("456")
        await journey.pilot.press("enter")
        await journey.reach(Step.CHILD_ID)  # the kept digits were the real start of the PIN


async def test_help_on_the_child_id_step_says_where_to_find_the_number_and_keeps_it(start_kiosk):
    async with start_kiosk() as journey:
        child = await journey.to_child_id("zhang-wei-3.00")
        await journey.type("43010220")
        screen = await open_help(journey)
        text = help_text(screen)
        assert "户口簿" in text and "X" in text
        await journey.pilot.press("escape")

        back = await journey.reach(Step.CHILD_ID)
        assert back is child
        assert child.typed == "43010220"
        await journey.type("1906010029")
        await journey.pilot.press("enter")
        await journey.reach(Step.CHILD_CONFIRM)


async def test_f2_while_help_is_open_switches_its_language_and_keeps_the_topic(start_kiosk):
    async with start_kiosk() as journey:
        child = await journey.to_child_id("zhang-wei-3.00")
        await journey.type("4301")
        screen = await open_help(journey)
        await show(journey, screen, "ways", "2")
        assert "其他申领方式" in help_text(screen)

        await journey.pilot.press("f2")
        await wait_until(journey, lambda: screen.lang == "en" and "Other ways to apply" in help_text(screen),
                         "the help in English")
        assert journey.app.screen is screen
        assert screen.topic == "ways"
        assert "Mobile app" in help_text(screen) and "At a social insurance office counter" in help_text(screen)
        assert "Back (Esc)" in screen_text(journey.app)
        assert isinstance(journey.app.focused, Button)  # focus survived the redraw: keys still work

        await journey.pilot.press("escape")
        back = await journey.reach(Step.CHILD_ID)
        assert back.view.lang == "en"
        assert "Enter your child's ID number" in screen_text(journey.app)
        assert back is child and child.typed == "4301"


# ------------------------------------------------------------------ every step
async def _to_insert_card(journey):
    await journey.reach(Step.WELCOME)
    await journey.pilot.press("enter")


async def _to_holder(journey):
    await journey.to_holder("zhang-wei-3.00")


async def _to_pin(journey):
    await journey.to_holder("zhang-wei-3.00")
    await journey.pilot.press("enter")


async def _to_child_id(journey):
    await journey.to_child_id("zhang-wei-3.00")


async def _to_child_confirm(journey):
    await journey.to_child_id("zhang-wei-3.00")
    await journey.enter_child(ELIGIBLE_CHILD)


async def _to_eligible(journey):
    await _to_child_confirm(journey)
    await journey.reach(Step.CHILD_CONFIRM)
    await journey.pilot.press("enter")


async def _to_not_eligible(journey):
    await journey.reach(Step.WELCOME)
    await journey.insert("wang-fang-expired")


async def _to_activation(journey):
    await journey.to_child_id("zhang-wei-3.00")
    await journey.register(ELIGIBLE_CHILD)


async def _to_activated(journey):
    screen = await journey.to_child_id("zhang-wei-3.00")
    screen = await journey.register(ELIGIBLE_CHILD)
    journey.kiosk.registry.activate(screen.view.ticket.user_code)


async def _to_take_card(journey):
    await _to_not_eligible(journey)
    await journey.reach(Step.NOT_ELIGIBLE)
    await journey.pilot.press("enter")


async def _to_error(journey):
    await journey.reach(Step.WELCOME)
    await journey.insert("mute-card")


async def _to_out_of_service(journey):
    await journey.reach(Step.WELCOME)
    journey.session.out_of_service("DATABASE_UNAVAILABLE")


async def _to_welcome(journey):
    await journey.reach(Step.WELCOME)


ROUTES = {
    Step.WELCOME: _to_welcome,
    Step.INSERT_CARD: _to_insert_card,
    Step.HOLDER: _to_holder,
    Step.PIN: _to_pin,
    Step.CHILD_ID: _to_child_id,
    Step.CHILD_CONFIRM: _to_child_confirm,
    Step.ELIGIBLE: _to_eligible,
    Step.NOT_ELIGIBLE: _to_not_eligible,
    Step.ACTIVATION: _to_activation,
    Step.ACTIVATED: _to_activated,
    Step.TAKE_CARD: _to_take_card,
    Step.ERROR: _to_error,
    Step.OUT_OF_SERVICE: _to_out_of_service,
}


@pytest.mark.parametrize("step", list(ROUTES), ids=lambda step: step.value)
async def test_f1_opens_help_for_the_step_on_every_screen_and_f1_again_returns_to_it(start_kiosk, step):
    async with start_kiosk() as journey:
        await ROUTES[step](journey)
        before = await journey.reach(step)
        screen = await open_help(journey)
        assert screen.view.step is step
        if step is not Step.WELCOME:
            assert screen.topic == "step"
        await show(journey, screen, "step", "3")
        text = help_text(screen)
        assert message(STEP_HELP[step].title, "zh") in text
        assert message(STEP_HELP[step].now, "zh") in text
        assert "Traceback" not in screen_text(journey.app)

        await journey.pilot.press("f1")
        back = await journey.reach(step)
        assert back is before
        assert journey.app.is_running


def test_every_step_has_its_help() -> None:
    assert set(STEP_HELP) == set(Step)
    assert set(SCREEN_FOR_STEP) <= set(STEP_HELP)


async def test_not_eligible_help_lists_the_conditions_in_force_in_this_region(start_kiosk):
    async with start_kiosk() as journey:
        await _to_not_eligible(journey)
        await journey.reach(Step.NOT_ELIGIBLE)
        screen = await open_help(journey)
        text = help_text(screen)
        assert "依据" in text and "您可以" in text  # the labels on the screen underneath, explained
        assert "社保卡在有效期内" in text  # the rule this guardian ran into
        assert "孩子未满16周岁" in text and "最多为3个孩子" in text  # the region's numbers
        assert "孩子已有实体社保卡" not in text  # not a rule of the default region
        assert "其他申领方式" in text


async def test_activation_help_offers_the_typed_code_and_activating_later(start_kiosk):
    async with start_kiosk() as journey:
        await _to_activation(journey)
        await journey.reach(Step.ACTIVATION)
        screen = await open_help(journey)
        text = help_text(screen)
        assert "激活码" in text
        assert "没有智能手机" in text and "再到自助机插入本卡" in text


# ------------------------------------------------------------------ the session moves under the help
async def test_card_pulled_while_help_is_open_closes_it_and_shows_the_welcome_notice(start_kiosk):
    async with start_kiosk() as journey:
        await _to_pin(journey)
        await journey.reach(Step.PIN)
        await journey.type("12")
        await open_help(journey)
        await journey.remove()
        welcome = await journey.reach(Step.WELCOME)
        assert welcome.view.notice == "CARD_REMOVED"
        assert not any(isinstance(s, HelpScreen) for s in journey.app.screen_stack)
        assert "卡已取出" in screen_text(journey.app)


# ------------------------------------------------------------------ keys and touch
async def test_topics_switch_with_number_and_arrow_keys_and_enter_on_back_closes(start_kiosk):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        screen = await open_help(journey)
        assert screen.topic == "need"
        assert journey.app.focused.id == "help-back"
        await show(journey, screen, "ways", "right")
        await show(journey, screen, "step", "right")
        await show(journey, screen, "need", "right")  # wraps round
        await show(journey, screen, "step", "left")
        await show(journey, screen, "ways", "2")
        await show(journey, screen, "need", "1")
        await show(journey, screen, "step", "3")
        # the current topic is marked by a sign, not by colour alone
        assert str(screen.query_one("#topic-step", Button).label).startswith("●")
        assert str(screen.query_one("#topic-need", Button).label).startswith("○")

        await journey.pilot.press("tab")
        await journey.pilot.pause()
        assert isinstance(journey.app.focused, Button)
        screen.query_one("#help-back", Button).focus()
        await journey.pilot.press("enter")
        await journey.reach(Step.WELCOME)


async def test_topic_and_link_buttons_work_by_touch(start_kiosk):
    async with start_kiosk() as journey:
        await _to_pin(journey)
        await journey.reach(Step.PIN)
        screen = await open_help(journey)
        assert screen.topic == "step"
        await journey.pilot.click("#topic-ways")
        await wait_until(journey, lambda: screen.topic == "ways", "ways by touch")
        await journey.pilot.click("#topic-step")
        await wait_until(journey, lambda: screen.topic == "step", "step by touch")
        content = screen.query_one("#help-content", VerticalScroll)
        content.scroll_end(animate=False)
        await journey.pilot.pause()
        await journey.pilot.click("#link-need")
        await wait_until(journey, lambda: screen.topic == "need", "the need link by touch")
        assert journey.app.focused is not None  # the pressed link is gone; focus went to its tab
        await journey.pilot.click("#help-back")
        await journey.reach(Step.PIN)


@pytest.mark.parametrize("size", [(80, 24), (120, 40), (200, 60)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_help_fits_and_scrolls_from_small_to_large_screens(start_kiosk, size):
    async with start_kiosk(size=size) as journey:
        await _to_child_id(journey)
        await journey.reach(Step.CHILD_ID)
        screen = await open_help(journey)
        whole = Region(0, 0, *size)
        for widget_id in ("#help-back", "#topic-need", "#topic-ways", "#topic-step", "#help-content"):
            widget = screen.query_one(widget_id)
            assert whole.contains_region(widget.region), widget_id
        for button in screen.query(Button).results(Button):
            assert button.outer_size.height >= 3  # big touch targets
        content = screen.query_one("#help-content", VerticalScroll)
        await show(journey, screen, "ways", "2")
        if content.max_scroll_y > 0:
            await journey.pilot.press("down")
            await wait_until(journey, lambda: content.scroll_y > 0, "the text to scroll")
            await journey.pilot.press("end")
            await wait_until(journey, lambda: content.scroll_y == content.max_scroll_y, "the end of the text")
        await journey.pilot.press("escape")
        await journey.reach(Step.CHILD_ID)


async def test_large_text_and_high_contrast_apply_to_the_open_help(start_kiosk):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        screen = await open_help(journey)
        normal_width = screen.query_one("#help-box").outer_size.width
        await journey.pilot.press("f4")
        await wait_until(journey, lambda: journey.app.has_class("large-text"), "large text")
        await journey.pilot.pause()
        assert journey.app.screen is screen and screen.topic == "need"
        assert screen.query_one("#help-box").outer_size.width > normal_width  # more room for the words
        await journey.pilot.press("f5")
        await wait_until(journey, lambda: journey.app.has_class("high-contrast"), "high contrast")
        await journey.pilot.pause()
        assert journey.app.screen is screen
        assert "户口簿" in help_text(screen)
        await journey.pilot.press("escape")
        await journey.reach(Step.WELCOME)
