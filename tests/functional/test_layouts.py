"""Every step from 80x24 to 200x60, in both languages: its button on screen, the QR code or (no room for it) the
typed code and URL, field tables aligned by display cells, and the large-text and high-contrast themes."""
from __future__ import annotations

import asyncio

import pytest
from textual.color import Color
from textual.geometry import Region
from textual.widget import Widget

from kiosk.messages import message
from kiosk.session import Step
from screens.widgets.qr import QrCode
from tests.functional.screen_image import decode_qr_on_screen, screen_cells, screen_text

ELIGIBLE_CHILD = "430102201906010029"
TOO_OLD = "430102200905200037"
SMALL, LARGE = (80, 24), (200, 60)
LANGS = ["zh", "en"]

# The button each step is used through (the steps with none: reading, take your card, out of service).
MAIN_BUTTON = {
    Step.WELCOME: "#primary", Step.INSERT_CARD: "#cancel", Step.HOLDER: "#primary", Step.PIN: "#primary",
    Step.CHILD_ID: "#primary", Step.CHILD_CONFIRM: "#primary", Step.ELIGIBLE: "#primary",
    Step.NOT_ELIGIBLE: "#primary", Step.ACTIVATION: "#leave", Step.ACTIVATED: "#primary", Step.ERROR: "#primary",
}


async def wait_until(journey, condition, what: str, timeout: float = 5.0) -> None:
    """Let the app process messages until `condition()` holds (no fixed sleeps)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError(f"timed out waiting for {what}; screen {type(journey.app.screen).__name__}")
        await journey.pilot.pause()


def fully_visible(app, widget: Widget) -> bool:
    """The whole widget is drawn inside the terminal: not below the fold, not clipped by a container."""
    screen = app.screen
    geometry = screen.find_widget(widget)
    whole = Region(0, 0, *app.size)
    return (
        geometry.region.area > 0
        and screen.region.contains_region(geometry.region)
        and whole.contains_region(geometry.region)
        and geometry.clip.contains_region(geometry.region)
    )


def joined_text(app) -> str:
    """The screen's words with each row trimmed and the rows run together (a wrapped URL reads whole)."""
    return "".join(row.strip() for row in screen_text(app).splitlines())


async def settle(journey) -> None:
    await journey.pilot.pause()
    await journey.app.workers.wait_for_complete()
    await journey.pilot.pause()


async def every_step(journey):
    """Walk the guardian's steps that have a button, yielding each once its screen is up."""
    pilot = journey.pilot
    yield await journey.reach(Step.WELCOME)
    await pilot.press("enter")
    yield await journey.reach(Step.INSERT_CARD)
    await journey.insert("zhang-wei-3.00")
    yield await journey.reach(Step.HOLDER)
    await pilot.press("enter")
    screen = await journey.reach(Step.PIN)
    await settle(journey)
    yield screen
    await journey.type("123456")
    await pilot.press("enter")
    yield await journey.reach(Step.CHILD_ID)
    await journey.enter_child(TOO_OLD)
    yield await journey.reach(Step.CHILD_CONFIRM)
    await pilot.press("enter")
    yield await journey.reach(Step.NOT_ELIGIBLE)
    await pilot.press("f3")
    await journey.enter_child(ELIGIBLE_CHILD)
    await journey.reach(Step.CHILD_CONFIRM)
    await pilot.press("enter")
    yield await journey.reach(Step.ELIGIBLE)
    await pilot.press("enter")
    screen = await journey.reach(Step.ACTIVATION)
    yield screen
    journey.kiosk.registry.activate(screen.view.ticket.user_code)
    yield await journey.reach(Step.ACTIVATED)
    await pilot.press("enter")
    await journey.reach(Step.TAKE_CARD)
    await journey.remove()
    await journey.reach(Step.WELCOME)
    # A guardian with a registration waiting: the child-ID screen offers to resume it.
    await journey.insert("li-na-2.00")
    await journey.reach(Step.HOLDER)
    await pilot.press("enter")
    await journey.enter_pin()
    await journey.reach(Step.CHILD_ID)
    # The waiting registration is offered in the list of the guardian's children (picked to resume it).
    await wait_until(journey, lambda: bool(journey.session.view.pending) and bool(journey.app.screen.query("#pick-0")),
                     "the waiting registration to be offered")
    await settle(journey)
    yield journey.app.screen
    await pilot.press("escape")
    await journey.reach(Step.TAKE_CARD)
    await journey.remove()
    await journey.reach(Step.WELCOME)
    await journey.insert("bank-card")
    yield await journey.reach(Step.ERROR)


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("size", [SMALL, LARGE], ids=lambda s: f"{s[0]}x{s[1]}")
async def test_every_step_shows_its_button_without_scrolling(start_kiosk, size, lang):
    async with start_kiosk(size=size, language=lang) as journey:
        seen = []
        async for screen in every_step(journey):
            await journey.pilot.pause()
            step = screen.view.step
            # The child step opens on the list of the guardian's children when there are any: its first entry
            # and the way to type a number are what must show; otherwise the step's main button.
            listed = [screen.query_one(selector) for selector in ("#pick-0", "#type-child") if screen.query(selector)]
            for button in listed or [screen.query_one(MAIN_BUTTON[step])]:
                assert fully_visible(journey.app, button), f"{step.value}: {button.id} at {button.region}"
            if screen.query("#resume-0"):
                resume = screen.query_one("#resume-0")
                assert fully_visible(journey.app, resume), f"pending at {resume.region}"
            seen.append(step)
        assert set(seen) == set(MAIN_BUTTON)


@pytest.mark.parametrize("lang", LANGS)
async def test_small_screen_shows_the_code_and_url_instead_of_the_qr(start_kiosk, lang):
    async with start_kiosk(size=SMALL, language=lang) as journey:
        await journey.to_child_id("zhang-wei-3.00")
        screen = await journey.register(ELIGIBLE_CHILD)
        await journey.pilot.pause()
        ticket = screen.view.ticket
        assert not screen.query(QrCode)
        assert decode_qr_on_screen(journey.app) == []
        text = joined_text(journey.app)
        assert ticket.user_code in text
        assert ticket.url in text
        # Words for typing, not for scanning a code that is not there.
        assert message("activation.heading_code", lang).replace(" ", "") in text.replace(" ", "")
        assert message("activation.heading", lang).replace(" ", "") not in text.replace(" ", "")
        for widget_id in ("#user-code", "#url", "#leave"):
            assert fully_visible(journey.app, screen.query_one(widget_id)), widget_id


@pytest.mark.parametrize("lang", LANGS)
async def test_qr_on_a_medium_screen_decodes_to_the_ticket(start_kiosk, lang):
    async with start_kiosk(size=(120, 40), language=lang) as journey:
        await journey.to_child_id("zhang-wei-3.00")
        screen = await journey.register(ELIGIBLE_CHILD)
        await journey.pilot.pause()
        assert decode_qr_on_screen(journey.app) == [screen.view.ticket.url]
        assert screen.view.ticket.user_code in screen_text(journey.app)


async def test_qr_on_a_large_screen_is_large_and_centred(start_kiosk):
    async with start_kiosk(size=LARGE) as journey:
        await journey.to_child_id("zhang-wei-3.00")
        screen = await journey.register(ELIGIBLE_CHILD)
        await journey.pilot.pause()
        qr = screen.query_one(QrCode)
        assert qr.fit.scale >= 2
        assert decode_qr_on_screen(journey.app) == [screen.view.ticket.url]
        side = screen.query_one("#activation-side")
        left, right = qr.region.x, LARGE[0] - side.region.right
        assert left > 10 and abs(left - right) <= 4, (left, right)  # the code and its words, centred together


async def test_the_qr_gives_way_to_the_code_when_the_terminal_shrinks_and_comes_back(start_kiosk):
    async with start_kiosk(size=(120, 40)) as journey:
        await journey.to_child_id("zhang-wei-3.00")
        screen = await journey.register(ELIGIBLE_CHILD)
        ticket = screen.view.ticket
        await journey.pilot.resize_terminal(*SMALL)
        await wait_until(journey, lambda: not journey.app.screen.query(QrCode), "the QR to give way")
        await journey.pilot.pause()
        assert ticket.user_code in screen_text(journey.app)
        await journey.pilot.resize_terminal(160, 50)
        await wait_until(journey, lambda: bool(journey.app.screen.query(QrCode)), "the QR to come back")
        await journey.pilot.pause()
        assert decode_qr_on_screen(journey.app) == [ticket.url]


def value_columns(app, rows: list[tuple[str, str]]) -> set[int]:
    """The display column where each row's value starts, found on the screen to the right of its label."""
    columns = set()
    for row in screen_cells(app):
        # Cells, not characters: a wide character is followed by an empty placeholder cell.
        cell_of = [cell for cell, (char, _, _) in enumerate(row) if char != ""]
        line = "".join(char for char, _, _ in row)
        for label, value in rows:
            if label in line and value in line[line.index(label) + len(label):]:
                columns.add(cell_of[line.index(value, line.index(label) + len(label))])
    return columns


@pytest.mark.parametrize("lang", LANGS)
async def test_field_tables_line_up_wide_and_narrow_characters(start_kiosk, lang):
    async with start_kiosk(language=lang) as journey:
        screen = await journey.to_holder("zhang-wei-3.00")
        holder = screen.view.holder
        t = lambda key: message(key, lang)  # noqa: E731
        rows = [(t("holder.name"), holder.name), (t("holder.id"), holder.resident_id),
                (t("holder.card"), holder.card_number), (t("holder.version"), holder.spec_version)]
        await journey.pilot.pause()
        columns = value_columns(journey.app, rows)
        assert len(columns) == 1, columns


async def test_large_text_and_high_contrast_change_the_look_and_combine(start_kiosk):
    async with start_kiosk() as journey:
        app = journey.app
        await journey.to_holder("zhang-wei-3.00")
        screen = app.screen
        normal_height = screen.query_one("#primary").outer_size.height
        normal_background = screen.styles.background
        assert normal_height == 3

        await journey.pilot.press("f4")
        await wait_until(journey, lambda: app.has_class("large-text"), "large text")
        await journey.pilot.pause()
        primary = app.screen.query_one("#primary")
        assert primary.styles.height.value == 5 and primary.outer_size.height == 5  # taller targets
        assert "bold" in str(app.screen.query_one(".heading").styles.text_style)
        assert fully_visible(app, primary)

        await journey.pilot.press("f5")
        await wait_until(journey, lambda: app.has_class("high-contrast"), "high contrast")
        await journey.pilot.pause()
        screen = app.screen
        primary = screen.query_one("#primary")
        primary.focus()
        await journey.pilot.pause()
        assert screen.styles.background == Color(0, 0, 0) != normal_background
        assert primary.outer_size.height == 5  # both at once
        assert primary.styles.border_top[0] == "double"  # focused: a bold frame and reverse video
        assert primary.styles.background == Color(255, 255, 255)
        other = screen.query_one("#cancel")
        assert other.styles.border_top == ("heavy", Color(255, 255, 255))
        for muted in screen.query(".dim-text, .legal-basis, .url, .error-code"):
            assert muted.styles.color == Color(255, 255, 255)

        await journey.pilot.press("f4")
        await wait_until(journey, lambda: not app.has_class("large-text"), "normal text again")
        await journey.pilot.pause()
        assert app.screen.query_one("#primary").outer_size.height == 3
        assert app.screen.styles.background == Color(0, 0, 0)


async def test_outcomes_carry_marks_and_words_not_colour_alone(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_child_id("zhang-wei-3.00")
        await journey.enter_child(TOO_OLD)
        await journey.reach(Step.CHILD_CONFIRM)
        await journey.pilot.press("enter")
        await journey.reach(Step.NOT_ELIGIBLE)
        await journey.pilot.pause()
        text = screen_text(journey.app)
        assert "✗" in text and "▶ 4" in text and "✓" in text  # failure mark, current stage, done stages
        await journey.pilot.press("enter")
        await journey.reach(Step.TAKE_CARD)
        await journey.remove()
        await journey.reach(Step.WELCOME)
        await journey.insert("bank-card")
        await journey.reach(Step.ERROR)
        await journey.pilot.pause()
        heading = journey.app.screen.query_one(".heading")
        assert str(heading.render()).startswith("✗")
