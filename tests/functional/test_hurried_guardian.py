"""The hurried guardian: the idle warning and more time, the timeout wipe, a card pulled at any step, the
language switched mid-journey, the keypads by touch alone (shuffled too), and no key that leaves kiosk mode."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from kiosk.ports import ManualClock
from kiosk.session import Step
from screens.timeout import TimeoutWarning
from screens.widgets.keypad import Keypad
from tests.functional.screen_image import screen_text
from tests.memory_scan import session_memory, strings_in

CHILD_ID = "430102201906010029"
TOO_OLD = "430102200905200037"
PERSONAL = ["张伟", "张小雨", "430102198803150016", CHILD_ID, "L43000001", "张*", "4301**********0016"]
STEP_TIMES = {"pin": 60, "child_id": 120}
WARNING = 25


def _clock() -> ManualClock:
    return ManualClock(datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc))


async def _warning(journey) -> TimeoutWarning:
    journey.app.check_time()
    await journey.pilot.pause()
    screen = journey.app.screen
    assert isinstance(screen, TimeoutWarning), type(screen).__name__
    return screen


def _assert_nothing_personal(journey) -> None:
    text = screen_text(journey.app)
    strings = list(strings_in(session_memory(journey.session)))
    for item in PERSONAL:
        assert item not in text, item
        assert not any(item in s for s in strings), item
    assert not journey.session.visit_under_way


# ------------------------------------------------------------------ time
async def test_the_warning_comes_in_time_and_more_time_keeps_the_typed_digits_again_and_again(start_kiosk):
    clock = _clock()
    async with start_kiosk(clock=clock, idle_timeout_seconds=90, step_idle_seconds=STEP_TIMES,
                           idle_warning_seconds=WARNING) as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        pin = await journey.reach(Step.PIN)
        await journey.type("123")
        clock.advance(60 - WARNING - 1)
        journey.app.check_time()
        await journey.pilot.pause()
        assert journey.app.screen is pin  # not yet: more than the warning time is left
        for _round in range(4):
            clock.advance(2)
            warning = await _warning(journey)
            assert f"{WARNING - 1} " in screen_text(journey.app)  # seconds left, in words
            assert "您还需要更多时间吗" in screen_text(journey.app)
            await journey.pilot.press("enter")  # one key: more time
            await journey.pilot.pause()
            assert journey.app.screen is pin and not warning.is_attached
            assert journey.session.idle_seconds_left() == pytest.approx(60)
            clock.advance(60 - WARNING - 1)
        assert pin.typed == "123"  # nothing typed was lost
        await journey.type("456")
        await journey.pilot.press("enter")
        await journey.reach(Step.CHILD_ID)


async def test_a_tap_anywhere_on_the_warning_gives_more_time(start_kiosk):
    clock = _clock()
    async with start_kiosk(clock=clock, step_idle_seconds=STEP_TIMES, idle_warning_seconds=WARNING) as journey:
        await journey.to_child_id("zhang-wei-3.00")
        await journey.type("4301")
        clock.advance(120 - 5)
        await _warning(journey)
        await journey.pilot.click("#more-time")
        screen = await journey.reach(Step.CHILD_ID)
        assert journey.app.screen is screen and screen.typed == "4301"
        assert journey.session.idle_seconds_left() == pytest.approx(120)


async def test_no_answer_to_the_warning_ends_the_session_asks_for_the_card_and_wipes_it(start_kiosk):
    clock = _clock()
    async with start_kiosk(clock=clock, step_idle_seconds=STEP_TIMES, idle_warning_seconds=WARNING) as journey:
        await journey.to_child_id("zhang-wei-3.00")
        await journey.type(CHILD_ID[:10])
        clock.advance(120 - 10)
        await _warning(journey)
        clock.advance(10)
        journey.app.check_time()  # the time is up: the worker ends the visit
        screen = await journey.reach(Step.TAKE_CARD)
        assert screen.view.notice == "SESSION_TIMEOUT"
        assert not isinstance(journey.app.screen, TimeoutWarning)
        assert "请取回您的社保卡" in screen_text(journey.app)
        _assert_nothing_personal(journey)
        assert CHILD_ID[:10] not in screen_text(journey.app)
        await journey.remove()
        await journey.reach(Step.WELCOME)
        _assert_nothing_personal(journey)


async def test_the_card_pulled_while_the_warning_is_up_ends_the_session_at_once(start_kiosk):
    clock = _clock()
    async with start_kiosk(clock=clock, step_idle_seconds=STEP_TIMES, idle_warning_seconds=WARNING) as journey:
        await journey.to_child_id("zhang-wei-3.00")
        clock.advance(120 - 3)
        await _warning(journey)
        await journey.remove()
        screen = await journey.reach(Step.WELCOME)
        assert screen.view.notice == "CARD_REMOVED" and journey.app.screen is screen
        _assert_nothing_personal(journey)


# ------------------------------------------------------------------ the card pulled at every step
async def _to(journey, step: Step) -> None:
    """Bring the guardian of zhang-wei-3.00 to `step`."""
    if step is Step.INSERT_CARD:
        await journey.reach(Step.WELCOME)
        await journey.pilot.press("enter")
        await journey.reach(Step.INSERT_CARD)
        return
    await journey.to_holder("zhang-wei-3.00")
    if step is Step.HOLDER:
        return
    await journey.pilot.press("enter")
    await journey.reach(Step.PIN)
    if step is Step.PIN:
        await journey.type("12")
        return
    await journey.type("123456")
    await journey.pilot.press("enter")
    await journey.reach(Step.CHILD_ID)
    if step is Step.CHILD_ID:
        await journey.type("43010")
        return
    if step is Step.NOT_ELIGIBLE:
        await journey.enter_child(TOO_OLD)
        await journey.reach(Step.CHILD_CONFIRM)
        await journey.pilot.press("enter")
        await journey.reach(Step.NOT_ELIGIBLE)
        return
    await journey.enter_child(CHILD_ID)
    await journey.reach(Step.CHILD_CONFIRM)
    if step is Step.CHILD_CONFIRM:
        return
    await journey.pilot.press("enter")
    await journey.reach(Step.ELIGIBLE)
    if step is Step.ELIGIBLE:
        return
    await journey.pilot.press("enter")
    await journey.reach(Step.ACTIVATION)
    if step is Step.ACTIVATION:
        return
    raise AssertionError(step)


@pytest.mark.parametrize("step", [Step.INSERT_CARD, Step.HOLDER, Step.PIN, Step.CHILD_ID, Step.CHILD_CONFIRM,
                                  Step.ELIGIBLE, Step.NOT_ELIGIBLE, Step.ACTIVATION], ids=lambda s: s.value)
async def test_the_card_pulled_at_any_step_ends_the_session_at_once(start_kiosk, step: Step):
    async with start_kiosk() as journey:
        await _to(journey, step)
        if step is Step.INSERT_CARD:
            journey.session.finish()  # no card to pull here: Esc (the guardian's way out) ends it the same
        else:
            await journey.remove()
        screen = await journey.reach(Step.WELCOME)
        if step is not Step.INSERT_CARD:
            assert screen.view.notice == "CARD_REMOVED"
            assert "卡已取出" in screen_text(journey.app)
        _assert_nothing_personal(journey)
        if step is Step.ACTIVATION:
            # The registration was committed: it waits for the card to come back.
            await journey.insert("zhang-wei-3.00")
            await journey.reach(Step.HOLDER)
            await journey.pilot.press("enter")
            await journey.enter_pin()
            await journey.reach(Step.CHILD_ID)
            assert len(journey.session.view.pending) == 1


# ------------------------------------------------------------------ language
async def test_the_language_switched_mid_journey_keeps_the_step_and_the_data(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        pin = await journey.reach(Step.PIN)
        await journey.type("1234")
        await journey.pilot.press("f2")
        pin = await journey.reach(Step.PIN)
        assert "Enter your card PIN" in screen_text(journey.app) and pin.typed == "1234"
        await journey.type("56")
        await journey.pilot.press("enter")
        await journey.enter_child(CHILD_ID)
        await journey.reach(Step.CHILD_CONFIRM)
        await journey.pilot.press("enter")
        await journey.reach(Step.ELIGIBLE)
        await journey.pilot.press("enter")
        activation = await journey.reach(Step.ACTIVATION)
        code = activation.view.ticket.user_code
        await journey.pilot.press("f2")
        activation = await journey.reach(Step.ACTIVATION)
        assert activation.view.lang == "zh" and activation.view.ticket.user_code == code  # the same QR, in Chinese
        assert "请用手机社保App扫描二维码" in screen_text(journey.app)


# ------------------------------------------------------------------ touch
async def test_pin_and_child_id_by_touch_alone(start_kiosk):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        await journey.insert("zhang-wei-3.00")
        await journey.reach(Step.HOLDER)
        await journey.pilot.click("#primary")
        await journey.reach(Step.PIN)
        for digit in "1239":
            await journey.pilot.click(f"#key-{digit}")
        await journey.pilot.click("#key-delete")
        for digit in "456":
            await journey.pilot.click(f"#key-{digit}")
        await journey.pilot.click("#primary")
        await journey.reach(Step.CHILD_ID)
        await journey.pilot.click("#type-child")  # past the list of children, by touch too
        child = await journey.open_typed_entry()
        for character in CHILD_ID:
            await journey.pilot.click(f"#key-{character}")
        assert child.typed == CHILD_ID
        await journey.pilot.click("#primary")
        await journey.reach(Step.CHILD_CONFIRM)
        await journey.pilot.click("#primary")
        await journey.reach(Step.ELIGIBLE)
        await journey.pilot.click("#primary")
        await journey.reach(Step.ACTIVATION)


async def test_the_child_id_keypad_types_x(start_kiosk):
    async with start_kiosk() as journey:
        child = await journey.to_child_id("zhang-wei-3.00")
        for character in "11010519491231002":
            await journey.pilot.click(f"#key-{character}")
        await journey.pilot.click("#key-X")
        assert child.typed == "11010519491231002X"


async def test_a_shuffled_pin_keypad_moves_the_digits_and_still_types_the_right_ones(start_kiosk):
    async with start_kiosk(keypad_shuffled=True) as journey:
        await journey.to_holder("zhang-wei-3.00")
        card = journey.kiosk.bench.card(journey.kiosk.bench.inserted())
        await journey.pilot.press("enter")
        pin = await journey.reach(Step.PIN)
        keypad = pin.query_one(Keypad)
        first = keypad.order
        assert sorted(first) == list("0123456789")
        places = [button.id for button in keypad.query("Button")]
        assert places == [f"key-{d}" for d in first[:9]] + ["key-clear", f"key-{first[9]}", "key-delete"]
        for digit in "999999":  # wrong
            await journey.pilot.click(f"#key-{digit}")
        await journey.pilot.click("#primary")
        await journey.app.workers.wait_for_complete()
        pin = await journey.reach(Step.PIN)
        assert pin.view.pin_error == "PIN_WRONG"
        orders = {first, pin.query_one(Keypad).order}
        # A new order after the wrong try (10! orders: the same one twice in a row is a 1 in 3.6 million chance).
        assert len(orders) == 2
        for digit in "123456":
            await journey.pilot.click(f"#key-{digit}")
        await journey.pilot.click("#primary")
        await journey.reach(Step.CHILD_ID)
        assert card.pin_tries_left == card.pin_max_tries  # the right PIN, typed on the shuffled keys, reset the counter


# ------------------------------------------------------------------ lockdown
@pytest.mark.parametrize("step", [Step.WELCOME, Step.PIN], ids=lambda s: s.value)
async def test_no_key_combination_leaves_kiosk_mode(start_kiosk, step: Step):
    async with start_kiosk() as journey:
        if step is Step.PIN:
            await _to(journey, Step.PIN)
        else:
            await journey.reach(Step.WELCOME)
        await journey.pilot.press("ctrl+q", "ctrl+c", "ctrl+d", "ctrl+p", "ctrl+z", "ctrl+backslash", "ctrl+w",
                                  "alt+f4", "ctrl+alt+delete", "f10", "f12", "escape")
        await journey.pilot.pause()
        assert journey.app.is_running and journey.app.return_code is None
        assert not journey.app.screen.query("CommandPalette")


# ------------------------------------------------------------------ errors
async def test_a_retriable_error_offers_try_again_and_a_final_one_only_ok(start_kiosk):
    async with start_kiosk(language="en") as journey:
        bench = journey.kiosk.bench
        bench.set_mute("zhang-wei-3.00", True)  # dirty contacts: no answer to reset
        await journey.reach(Step.WELCOME)
        await journey.insert("zhang-wei-3.00")
        await journey.reach(Step.ERROR)
        text = screen_text(journey.app)
        assert "This card does not answer" in text and "Try again (Enter)" in text
        bench.set_mute("zhang-wei-3.00", False)  # wiped clean
        await journey.pilot.press("enter")
        await journey.reach(Step.HOLDER)
        await journey.remove()
        await journey.reach(Step.WELCOME)
        await journey.insert("bank-card")
        await journey.reach(Step.ERROR)
        text = screen_text(journey.app)
        assert "This is not a social security card." in text and "Try again" not in text
        await journey.pilot.press("enter")
        await journey.reach(Step.TAKE_CARD)
