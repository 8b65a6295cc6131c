"""Endings: a pulled card costs no PIN try; nothing personal survives the session; no quit key."""
from __future__ import annotations

from kiosk.session import Step
from tests.functional.screen_image import screen_text
from tests.memory_scan import session_memory, strings_in

GUARDIAN_ID = "430102198803150016"
CHILD_ID = "430102201906010029"
PERSONAL = ["张伟", "张小雨", GUARDIAN_ID, CHILD_ID, "L43000001", "张*", "4301**********0016", "0029"]


async def test_card_pulled_during_pin_entry_costs_no_pin_try(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        card = journey.kiosk.bench.card(journey.kiosk.bench.inserted())
        tries_before = card.pin_tries_left
        await journey.pilot.press("enter")
        await journey.reach(Step.PIN)
        await journey.type("12345")
        await journey.remove()
        screen = await journey.reach(Step.WELCOME)
        assert screen.view.notice == "CARD_REMOVED"
        assert card.pin_tries_left == tries_before


async def test_card_pulled_while_the_pin_is_being_verified_is_not_a_wrong_pin(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        card = journey.kiosk.bench.card(journey.kiosk.bench.inserted())
        tries_before = card.pin_tries_left
        await journey.pilot.press("enter")
        await journey.reach(Step.PIN)
        await journey.app.workers.wait_for_complete()  # the try counter has been asked
        card.pull_after_apdus = card.apdus_since_power_on  # the very next APDU (VERIFY) finds no card
        await journey.enter_pin("999999")
        screen = await journey.reach(Step.WELCOME)
        assert screen.view.notice == "CARD_REMOVED"
        assert card.pin_tries_left == tries_before
        assert "密码不正确" not in screen_text(journey.app)


async def test_no_personal_data_left_on_screen_or_in_the_session_after_it_ends(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_child_id("zhang-wei-3.00")
        await journey.register(CHILD_ID)
        await journey.remove()
        await journey.reach(Step.WELCOME)

        text = screen_text(journey.app)
        strings = list(strings_in(session_memory(journey.session)))
        for item in PERSONAL:
            assert item not in text
            assert not any(item in s for s in strings), item
        assert not journey.session.visit_under_way


async def test_no_key_quits_or_opens_a_palette_in_kiosk_mode(start_kiosk):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        await journey.pilot.press("ctrl+q", "ctrl+c", "ctrl+p", "ctrl+z", "ctrl+backslash", "escape")
        await journey.pilot.pause()
        assert journey.app.is_running
        assert journey.app.return_code is None
        assert journey.session.step is Step.WELCOME


async def test_language_switch_keeps_the_step_and_the_typed_number(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_child_id("zhang-wei-3.00")
        await journey.type("43010220")
        await journey.pilot.press("f2")
        await journey.pilot.pause()
        screen = await journey.reach(Step.CHILD_ID)
        assert "Enter your child's ID number" in screen_text(journey.app)
        assert screen.typed == "43010220"
        await journey.type("1906010029")
        await journey.pilot.press("enter")
        await journey.reach(Step.CHILD_CONFIRM)
        assert "Please confirm your child" in screen_text(journey.app)


async def test_not_even_the_tester_panel_leaves_the_program(start_kiosk):
    # Only maintenance mode stops the kiosk; the tester panel has no exit key any more.
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        await journey.pilot.press("q")
        assert journey.app.is_running  # q on a guardian screen does nothing
        await journey.pilot.press("f9")
        await journey.pilot.pause()
        await journey.pilot.press("q")
        await journey.pilot.pause()
        assert journey.app.is_running
        assert journey.app.return_code is None


def _shown_on(screen) -> str:
    """Every word on a screen, shown or not (a kept screen off the terminal is not in `screen_text`)."""
    from textual.widgets import Static

    return "\n".join(str(static.content) for static in screen.query(Static))


async def test_the_kept_pin_screen_holds_nothing_of_a_visit_once_it_ended(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        pin = await journey.reach(Step.PIN)
        await journey.until(lambda: pin.view.pin_tries_left is not None)
        await journey.type("1234")
        assert pin.typed == "1234" and "● ● ● ●" in _shown_on(pin)
        tries_shown = pin.query_one("#pin-tries").content
        await journey.remove()
        await journey.reach(Step.WELCOME)
        await journey.pilot.pause()
        assert pin.is_mounted  # kept for the next visit, off the screen
        assert pin.typed == "" and pin.view.holder is None and pin.view.pin_tries_left is None
        words = _shown_on(pin)
        assert "●" not in words and str(tries_shown) not in words
        strings = list(strings_in(pin.view))
        for item in PERSONAL:
            assert not any(item in s for s in strings), item
        # The next guardian's visit shows the same screen, with their card's tries and none of the digits before.
        await journey.to_holder("yang-lei-last-try")
        await journey.pilot.press("enter")
        again = await journey.reach(Step.PIN)
        assert again is pin
        await journey.until(lambda: pin.view.pin_tries_left == 1)
        assert pin.typed == "" and "●" not in _shown_on(pin)
        assert pin.query_one("#pin-tries").has_class("warning-text")
