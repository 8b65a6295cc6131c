"""The PIN on both paths: typed on the kiosk's keypad, or on the reader's own PIN pad (the simulated PC/SC part 10 pad),
with the same tries rules: a warning before the last try, blocked is final, a pulled card costs nothing."""
from __future__ import annotations

import pytest

from kiosk.session import Step
from screens.widgets.pin_pad import PinPadStatus
from tests.functional.screen_image import screen_text

LAST_TRY_WARNING = "这是最后一次机会"
PATHS = ["keypad", "pin_pad"]


async def _at_pin(journey, profile: str, path: str):
    await journey.to_holder(profile)
    await journey.pilot.press("enter")
    screen = await journey.reach(Step.PIN)
    if path == "pin_pad":
        await journey.until(lambda: journey.session.view.pin_pad == "waiting")
        await journey.until(lambda: journey.app.screen.query_one(PinPadStatus).display)
    else:
        await journey.until(lambda: journey.session.view.pin_tries_left is not None)
    return screen


async def _type_pin(journey, path: str, pin: str) -> None:
    if path == "pin_pad":
        journey.kiosk.bench.pin_pad.type_pin(pin)  # the tester's hands on the reader's pad, not the program's keys
    else:
        await journey.type(pin)
        await journey.pilot.press("enter")


def _kiosk(start_kiosk, path: str):
    return start_kiosk(simulated_pin_pad=path == "pin_pad")


@pytest.mark.parametrize("path", PATHS)
async def test_the_right_pin_goes_on_to_the_child(start_kiosk, path):
    async with _kiosk(start_kiosk, path) as journey:
        await _at_pin(journey, "zhang-wei-3.00", path)
        text = screen_text(journey.app)
        if path == "pin_pad":
            assert "请在读卡器的密码键盘上输入6位密码" in text and "密码不经过本机程序" in text
            assert "ENTER_PIN" not in {a.value for a in journey.session.view.actions}  # nothing typed here counts
        await _type_pin(journey, path, "123456")
        await journey.reach(Step.CHILD_ID)


@pytest.mark.parametrize("path", PATHS)
async def test_a_warning_before_the_last_try_then_blocked_is_final(start_kiosk, path):
    async with _kiosk(start_kiosk, path) as journey:
        await _at_pin(journey, "yang-lei-last-try", path)
        await journey.until(lambda: LAST_TRY_WARNING in screen_text(journey.app))
        await _type_pin(journey, path, "999999")
        await journey.reach(Step.ERROR)
        assert journey.session.view.error == "PIN_BLOCKED"
        assert journey.kiosk.bench.state("yang-lei-last-try").pin_blocked
        await journey.pilot.press("escape")
        await journey.remove()
        await journey.reach(Step.WELCOME)
        await journey.insert("yang-lei-last-try")  # blocked stays blocked: told at once, no PIN asked
        await journey.reach(Step.HOLDER)
        await journey.pilot.press("enter")
        await journey.reach(Step.ERROR)
        assert journey.session.view.error == "PIN_BLOCKED"


@pytest.mark.parametrize("path", PATHS)
async def test_a_wrong_pin_tells_the_tries_left_and_the_pad_waits_again(start_kiosk, path):
    async with _kiosk(start_kiosk, path) as journey:
        await _at_pin(journey, "li-na-2.00", path)
        await _type_pin(journey, path, "999999")
        await journey.until(lambda: journey.session.view.pin_error == "PIN_WRONG")
        await journey.until(lambda: "密码错误" in screen_text(journey.app) or "还可以尝试 2 次" in screen_text(journey.app))
        assert journey.session.view.pin_tries_left == 2
        if path == "pin_pad":
            await journey.until(lambda: journey.session.view.pin_pad == "waiting")
        await _type_pin(journey, path, "123456")
        await journey.reach(Step.CHILD_ID)


@pytest.mark.parametrize("path", PATHS)
async def test_a_card_pulled_at_the_pin_costs_no_try(start_kiosk, path):
    async with _kiosk(start_kiosk, path) as journey:
        await _at_pin(journey, "li-na-2.00", path)
        before = journey.kiosk.bench.state("li-na-2.00").pin_tries_left
        if path == "keypad":
            await journey.type("99999")  # typing, not sent
        else:
            for digit in "99999":
                journey.kiosk.bench.pin_pad.press(digit)
        await journey.remove()
        await journey.reach(Step.WELCOME)
        assert journey.session.view.notice == "CARD_REMOVED"
        assert journey.kiosk.bench.state("li-na-2.00").pin_tries_left == before
        if path == "pin_pad":
            await journey.until(lambda: not journey.kiosk.bench.pin_pad.active)


async def test_the_pad_says_checking_once_the_pin_is_confirmed_in_english_too(start_kiosk):
    async with start_kiosk(simulated_pin_pad=True) as journey:
        await journey.to_holder("li-na-2.00")
        await journey.pilot.press("f2", "enter")
        await journey.reach(Step.PIN)
        await journey.until(lambda: "Type your 6-digit PIN on the reader's PIN pad" in screen_text(journey.app))
        views = []
        journey.session.subscribe(views.append)
        journey.kiosk.bench.pin_pad.type_pin("123456")
        await journey.reach(Step.CHILD_ID)
        checking = [v for v in views if v.pin_pad == "checking"]
        assert checking and checking[0].step is Step.PIN  # between the pad's OK and the card's answer
        assert "The card is checking the PIN" in PinPadStatus.text_for(checking[0])


async def test_a_cancel_on_the_pad_costs_no_try_and_ok_lets_the_pad_take_it_again(start_kiosk):
    async with start_kiosk(simulated_pin_pad=True) as journey:
        await _at_pin(journey, "li-na-2.00", "pin_pad")
        before = journey.kiosk.bench.state("li-na-2.00").pin_tries_left
        journey.kiosk.bench.pin_pad.press("1")
        journey.kiosk.bench.pin_pad.press("cancel")
        await journey.until(lambda: journey.session.view.pin_pad == "again")
        await journey.until(lambda: "读卡器密码键盘上没有输入密码" in screen_text(journey.app))
        assert journey.kiosk.bench.state("li-na-2.00").pin_tries_left == before
        await journey.pilot.press("enter")  # OK on the kiosk: nothing typed there reaches the card
        await journey.until(lambda: journey.session.view.pin_pad == "waiting")
        journey.kiosk.bench.pin_pad.type_pin("123456")
        await journey.reach(Step.CHILD_ID)


async def _pad_waiting(journey, profile: str):
    screen = await _at_pin(journey, profile, "pin_pad")
    await journey.until(lambda: journey.kiosk.bench.pin_pad.active)  # the card worker is at the pad
    return screen


async def test_keys_typed_at_the_kiosk_are_the_simulated_pads_keys_while_it_waits(start_kiosk):
    async with start_kiosk(simulated_pin_pad=True) as journey:
        screen = await _pad_waiting(journey, "zhang-wei-3.00")
        pad = journey.kiosk.bench.pin_pad
        await journey.pilot.press(*"123")
        await journey.until(lambda: pad.typed == 3)  # on the pad's own display
        assert screen.typed == ""  # not the kiosk's entry: the screen holds no digit
        await journey.pilot.press(*"456", "enter")  # Enter is the pad's OK
        await journey.reach(Step.CHILD_ID)


async def test_backspace_is_the_pads_clear_key(start_kiosk):
    async with start_kiosk(simulated_pin_pad=True) as journey:
        await _pad_waiting(journey, "li-na-2.00")
        pad = journey.kiosk.bench.pin_pad
        before = journey.kiosk.bench.state("li-na-2.00").pin_tries_left
        await journey.pilot.press(*"999")
        await journey.until(lambda: pad.typed == 3)
        await journey.pilot.press("backspace")
        await journey.until(lambda: pad.typed == 0)
        await journey.pilot.press(*"123456", "enter")
        await journey.reach(Step.CHILD_ID)
        assert journey.kiosk.bench.state("li-na-2.00").pin_tries_left == before  # the 999 never reached the card


async def test_escape_is_the_pads_cancel_and_costs_no_try(start_kiosk):
    async with start_kiosk(simulated_pin_pad=True) as journey:
        await _pad_waiting(journey, "li-na-2.00")
        before = journey.kiosk.bench.state("li-na-2.00").pin_tries_left
        await journey.pilot.press("1", "escape")
        await journey.until(lambda: journey.session.view.pin_pad == "again")
        assert journey.session.step is Step.PIN  # the pad's Cancel, not the kiosk's Exit
        assert journey.kiosk.bench.state("li-na-2.00").pin_tries_left == before
        await journey.pilot.press("enter")  # not waiting any more: the kiosk's OK lets the pad take the PIN again
        await journey.until(lambda: journey.session.view.pin_pad == "waiting")
        await journey.until(lambda: journey.kiosk.bench.pin_pad.active)
        await journey.pilot.press(*"123456", "enter")
        await journey.reach(Step.CHILD_ID)


async def test_without_a_waiting_pad_escape_still_leaves(start_kiosk):
    async with start_kiosk(simulated_pin_pad=True) as journey:
        await _pad_waiting(journey, "li-na-2.00")
        await journey.pilot.press("escape")  # the pad's Cancel
        await journey.until(lambda: journey.session.view.pin_pad == "again")
        await journey.pilot.press("escape")  # the pad no longer waits: the kiosk's Exit
        await journey.reach(Step.TAKE_CARD)
