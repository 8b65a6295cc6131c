"""The guardian's whole journey on the simulated reader, from card in to card out."""
from __future__ import annotations

from kiosk.session import Step
from tests.functional.screen_image import decode_qr_on_screen, screen_text

ELIGIBLE_CHILD = "430102201906010029"  # 张小雨, child of 张伟


async def test_happy_path_from_card_to_activation_and_back_to_welcome(start_kiosk):
    async with start_kiosk() as journey:
        holder = await journey.to_holder("zhang-wei-3.00")
        assert "张*" in screen_text(journey.app)
        await journey.pilot.press("enter")
        await journey.enter_pin("123456")
        await journey.enter_child(ELIGIBLE_CHILD)
        await journey.reach(Step.CHILD_CONFIRM)
        assert "张*雨" in screen_text(journey.app)
        await journey.pilot.press("enter")
        await journey.reach(Step.ELIGIBLE)
        await journey.pilot.press("enter")
        screen = await journey.reach(Step.ACTIVATION)
        ticket = screen.view.ticket
        assert ticket.user_code in screen_text(journey.app)

        journey.kiosk.registry.activate(ticket.user_code)  # the guardian's phone
        await journey.reach(Step.ACTIVATED)
        await journey.pilot.press("enter")
        await journey.reach(Step.TAKE_CARD)
        await journey.remove()
        await journey.reach(Step.WELCOME)
        assert holder is not None


async def test_qr_read_off_the_screen_by_a_real_decoder_activates_the_ecard(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_child_id("zhang-wei-3.00")
        screen = await journey.register(ELIGIBLE_CHILD)

        decoded = decode_qr_on_screen(journey.app)
        assert decoded == [screen.view.ticket.url]
        journey.kiosk.registry.activate(decoded[0])
        await journey.reach(Step.ACTIVATED)


async def test_typed_id_is_checked_and_kept_for_correction(start_kiosk):
    async with start_kiosk() as journey:
        screen = await journey.to_child_id("zhang-wei-3.00")
        await journey.type("430102201906010028")  # wrong check character
        await journey.pilot.press("enter")
        await journey.pilot.pause()
        await journey.app.workers.wait_for_complete()
        await journey.pilot.pause()
        assert journey.session.step is Step.CHILD_ID
        assert journey.session.view.child_id_reason == "checksum"
        assert "校验位不符" in screen_text(journey.app)
        screen = journey.app.screen
        assert screen.typed == "430102201906010028"
        await journey.pilot.press("backspace", "9", "enter")
        await journey.reach(Step.CHILD_CONFIRM)


async def test_impossible_character_is_pointed_out_as_typed(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_child_id("zhang-wei-3.00")
        await journey.type("4301x")
        assert "第 5 位不正确" in screen_text(journey.app)


async def test_fast_typing_while_the_try_counter_arrives_loses_no_key(start_kiosk):
    from textual import events

    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        await journey.reach(Step.PIN)
        # A physical keypad sends the whole PIN at once, before the counter answer is shown.
        for key in [*"123456", "enter"]:
            event = events.Key(key, key if len(key) == 1 else None)
            event.set_sender(journey.app)
            journey.app.post_message(event)
        await journey.reach(Step.CHILD_ID)
