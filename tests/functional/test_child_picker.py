"""The guardian picks the child from the children on record (after the PIN), instead of typing 18 characters."""
from __future__ import annotations

import re

import pytest

from kiosk.session import Step
from screens.child_id import ChildIdScreen
from screens.child_pick import ChildPickScreen
from tests.functional.screen_image import screen_text

MAX_KEYS = 12
"""Welcome screen to the QR code, every key or tap counted (29 when the ID number had to be typed)."""


class CountedKeys:
    """The guardian's keys, counted as they are pressed."""

    def __init__(self, journey) -> None:
        self.journey = journey
        self.pressed: list[str] = []

    async def press(self, *keys: str) -> None:
        self.pressed.extend(keys)
        await self.journey.pilot.press(*keys)


async def _picker(journey) -> ChildPickScreen:
    screen = await journey.reach(Step.CHILD_ID)
    assert isinstance(screen, ChildPickScreen)
    await journey.until(lambda: journey.app.screen.view.children is not None)
    return journey.app.screen


async def test_welcome_to_qr_takes_at_most_twelve_keys(start_kiosk):
    async with start_kiosk() as journey:
        keys = CountedKeys(journey)
        await journey.reach(Step.WELCOME)
        await keys.press("enter")  # start
        await journey.reach(Step.INSERT_CARD)
        await journey.insert("zhang-wei-3.00")
        await journey.reach(Step.HOLDER)
        await keys.press("enter")
        await journey.reach(Step.PIN)
        await keys.press(*"123456", "enter")
        await _picker(journey)
        text = screen_text(journey.app)
        assert "1  张*轩  2009年生" in text and "2  张*雨  2019年生  未办理电子社保卡" in text
        await keys.press("2")  # 张小雨, eldest first
        await journey.reach(Step.CHILD_CONFIRM)
        assert "张*雨" in screen_text(journey.app)
        await keys.press("enter")
        await journey.reach(Step.ELIGIBLE)
        await keys.press("enter")
        screen = await journey.reach(Step.ACTIVATION)
        assert screen.view.ticket is not None
        assert len(keys.pressed) <= MAX_KEYS, keys.pressed


async def test_a_pending_e_card_resumes_from_the_list(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("li-na-2.00")
        await journey.pilot.press("enter")
        await journey.enter_pin()
        await _picker(journey)
        assert "1  李*怡  2016年生  待激活，可继续办理" in screen_text(journey.app)
        assert "已有电子社保卡" in screen_text(journey.app)  # 李思远
        await journey.pilot.press("1")
        screen = await journey.reach(Step.ACTIVATION)
        assert screen.view.resumed


async def test_arrows_and_enter_pick_as_the_digits_do(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        await journey.enter_pin()
        await _picker(journey)
        await journey.pilot.press("down", "enter")
        await journey.reach(Step.CHILD_CONFIRM)
        assert "张*雨" in screen_text(journey.app)


async def test_nothing_about_children_before_the_pin_is_verified(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("li-na-2.00")
        assert journey.session.view.children is None
        await journey.pilot.press("enter")
        await journey.reach(Step.PIN)
        await journey.pilot.press(*"654321", "enter")  # a wrong PIN
        await journey.until(lambda: journey.session.view.pin_error == "PIN_WRONG")
        view = journey.session.view
        assert view.children is None and view.pending == ()
        text = screen_text(journey.app)
        assert "李*" not in text.replace("李*娜", "") and "2016" not in text


async def test_a_child_not_listed_is_typed_after_one_key(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        await journey.enter_pin()
        await _picker(journey)
        await journey.pilot.press("0")
        screen = await journey.reach(Step.CHILD_ID)
        assert isinstance(screen, ChildIdScreen)
        await journey.type("430102201906010029")
        await journey.pilot.press("enter")
        await journey.reach(Step.CHILD_CONFIRM)
        await journey.pilot.press("escape")  # not this child: back to the list
        assert isinstance(await journey.reach(Step.CHILD_ID), ChildPickScreen)


async def test_the_list_in_english(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("f2", "enter")
        await journey.enter_pin()
        await _picker(journey)
        await journey.until(lambda: "Choose the child" in screen_text(journey.app))
        text = screen_text(journey.app)
        assert "2  张*雨  born 2019  no e-card yet" in text
        assert "0  Child not listed: type the ID number" in text


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_the_rows_are_one_width_and_centred(start_kiosk, size, lang):
    async with start_kiosk(size=size, language=lang) as journey:
        await journey.to_holder("li-na-2.00")  # three children and the row to type a number
        await journey.pilot.press("enter")
        await journey.enter_pin()
        screen = await _picker(journey)
        await journey.until(lambda: len(screen.query(".pick")) == 4)
        await journey.pilot.pause()
        regions = [button.region for button in screen.query(".pick")]
        assert len({(region.x, region.width) for region in regions}) == 1, regions  # one column, one width
        width = journey.app.size.width
        left, right = regions[0].x, width - regions[0].right
        assert abs(left - right) <= 2, (left, right)  # centred, not against the left edge
        assert left > 2
        # The words start at the same column in every row: numbers, names and years line up.
        rows = [line for line in screen_text(journey.app).splitlines() if re.match(r"\s*[0-3]  \S", line)]
        assert len(rows) == 4, rows
        starts = {len(line) - len(line.lstrip()) for line in rows}
        assert len(starts) == 1, rows
