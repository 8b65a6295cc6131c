"""Every demo card and child shows what the README promises it shows."""
from __future__ import annotations

import pytest

from kiosk.session import Step
from tests.functional.screen_image import screen_text


async def _decision_for_child(journey, profile: str, child: str, confirm: bool) -> list[str]:
    await journey.to_child_id(profile)
    await journey.enter_child(child)
    if confirm:
        await journey.reach(Step.CHILD_CONFIRM)
        await journey.pilot.press("enter")
    screen = await journey.reach(Step.NOT_ELIGIBLE)
    return [failure.code for failure in screen.view.decision.failures]


async def test_child_aged_17_is_too_old(start_kiosk):
    async with start_kiosk() as journey:
        codes = await _decision_for_child(journey, "zhang-wei-3.00", "430102200905200037", confirm=True)
        assert codes == ["CHILD_TOO_OLD"]
        text = screen_text(journey.app)
        assert "依据" in text and "您可以" in text


async def test_two_point_zero_card_guardian_reaches_the_qr(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_child_id("li-na-2.00")
        await journey.register("43010220210214005X")


@pytest.mark.parametrize(
    ("profile", "code"),
    [("wang-fang-expired", "CARD_EXPIRED"), ("liu-yang-lost", "CARD_NOT_NORMAL")],
)
async def test_card_problems_are_explained_right_after_reading(start_kiosk, profile, code):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        await journey.insert(profile)
        screen = await journey.reach(Step.NOT_ELIGIBLE)
        assert [f.code for f in screen.view.decision.failures] == [code]
        await journey.pilot.press("enter")
        await journey.reach(Step.TAKE_CARD)


async def test_blocked_pin_is_told_before_anything_is_typed(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("chen-jing-blocked")
        await journey.pilot.press("enter")
        screen = await journey.reach(Step.ERROR)
        assert screen.view.error == "PIN_BLOCKED"
        assert "社保卡服务网点" in screen_text(journey.app) and "柜台" in screen_text(journey.app)


async def test_last_try_is_warned_before_typing_and_a_wrong_pin_then_blocks(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("yang-lei-last-try")
        card = journey.kiosk.bench.card("yang-lei-last-try")
        await journey.pilot.press("enter")
        await journey.reach(Step.PIN)
        await journey.app.workers.wait_for_complete()
        await journey.pilot.pause()
        assert journey.session.view.pin_tries_left == 1
        assert "最后一次机会" in screen_text(journey.app)
        assert card.pin_tries_left == 1  # asking the counter used no try
        await journey.enter_pin("000000")
        screen = await journey.reach(Step.ERROR)
        assert screen.view.error == "PIN_BLOCKED"


async def test_wrong_pin_shows_tries_left_and_warns_before_the_last(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        await journey.reach(Step.PIN)
        await journey.app.workers.wait_for_complete()
        await journey.pilot.pause()
        assert "还可以尝试 3 次" in screen_text(journey.app)
        await journey.enter_pin("111111")
        await journey.pilot.pause()
        await journey.app.workers.wait_for_complete()
        await journey.pilot.pause()
        assert journey.session.view.pin_tries_left == 2
        assert "还可以尝试 2 次" in screen_text(journey.app)
        await journey.enter_pin("111111")
        await journey.app.workers.wait_for_complete()
        await journey.pilot.pause()
        assert journey.session.view.pin_tries_left == 1
        assert "最后一次机会" in screen_text(journey.app)
        await journey.enter_pin("123456")
        await journey.reach(Step.CHILD_ID)


async def test_child_with_active_ecard_cannot_get_another(start_kiosk):
    async with start_kiosk() as journey:
        codes = await _decision_for_child(journey, "li-na-2.00", "430102201809090071", confirm=True)
        assert codes == ["CHILD_HAS_ECARD"]


async def test_pending_ecard_resumes_with_a_fresh_qr_when_its_id_is_typed(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_child_id("li-na-2.00")
        await journey.enter_child("430102201611300088")
        await journey.reach(Step.CHILD_CONFIRM)
        await journey.pilot.press("enter")
        screen = await journey.reach(Step.ACTIVATION)
        assert screen.view.resumed
        assert "新的二维码" in screen_text(journey.app)


async def test_pending_ecard_is_offered_on_the_child_screen(start_kiosk):
    async with start_kiosk() as journey:
        screen = await journey.to_child_id("li-na-2.00")
        await journey.pilot.pause()
        assert len(journey.session.view.pending) == 1
        await journey.reach(Step.CHILD_ID)
        await journey.pilot.click("#resume-0")
        screen = await journey.reach(Step.ACTIVATION)
        assert screen.view.resumed


@pytest.mark.parametrize(
    ("child", "code"),
    [("430102201704040019", "NOT_GUARDIAN"), ("430102201803030019", "CHILD_UNKNOWN")],
)
async def test_child_not_on_record_for_this_guardian_is_refused_without_showing_a_name(start_kiosk, child, code):
    async with start_kiosk() as journey:
        codes = await _decision_for_child(journey, "zhang-wei-3.00", child, confirm=False)
        assert codes == [code]
        assert "周" not in screen_text(journey.app)


async def test_guardian_with_all_child_slots_used_is_told_so(start_kiosk):
    async with start_kiosk() as journey:
        codes = await _decision_for_child(journey, "huang-qiang-slots-full", "430105202006060075", confirm=True)
        assert codes == ["CHILD_SLOTS_FULL"]


@pytest.mark.parametrize(
    ("profile", "code"),
    [("bank-card", "CARD_NOT_SOCIAL_SECURITY"), ("mute-card", "CARD_MUTE")],
)
async def test_cards_that_are_not_usable_get_their_catalogued_error(start_kiosk, profile, code):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        await journey.insert(profile)
        screen = await journey.reach(Step.ERROR)
        assert screen.view.error == code
        assert "Traceback" not in screen_text(journey.app)


async def test_card_pulled_in_the_middle_of_reading_ends_the_session_cleanly(start_kiosk):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        await journey.insert("zhao-min-pulled")
        screen = await journey.reach(Step.WELCOME)
        assert screen.view.notice == "CARD_REMOVED"
        assert "卡已取出" in screen_text(journey.app)


async def test_third_generation_card_without_psam_is_explained(start_kiosk):
    async with start_kiosk(simulated_psam="") as journey:
        await journey.reach(Step.WELCOME)
        await journey.insert("zhang-wei-3.00")
        screen = await journey.reach(Step.ERROR)
        assert screen.view.error == "CARD_NEEDS_PSAM"
        text = screen_text(journey.app)
        assert "本机无法读取您这张第三代社保卡" in text
        assert "L4*****01" in text and "3.00" in text  # the issuer data, as far as it goes
        assert "张*" not in text and "4301**********0016" not in text  # no holder data
