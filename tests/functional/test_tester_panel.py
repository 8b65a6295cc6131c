"""The tester panel (F9, simulated mode): cards in and out, a card's state changed on the fly, the phone at the
QR code and the kiosk's clock jumped, every case reproduced from the keyboard in a few keys."""
from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone

from textual.widgets import Static

from kiosk.errors import KioskError
from kiosk.messages import message
from kiosk.ports import ManualClock, OffsetClock
from kiosk.session import Step
from screens import tester
from screens.timeout import TimeoutWarning
from tests.functional.screen_image import screen_text

CHILD_ID = "430102201906010029"  # 张小雨, eligible with zhang-wei-3.00


async def open_panel(journey) -> tester.TesterPanel:
    await journey.pilot.press("f9")
    await journey.pilot.pause()
    panel = journey.app.screen
    assert isinstance(panel, tester.TesterPanel), type(panel).__name__
    return panel


async def select(journey, panel: tester.TesterPanel, profile: str) -> None:
    """Move the highlight to `profile` with the arrow keys."""
    names = [choice.name for choice in panel.choices]
    steps = names.index(profile) - names.index(panel.selected)
    await journey.pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps))
    await journey.pilot.pause()
    assert panel.selected == profile


def shown(panel: tester.TesterPanel, selector: str) -> str:
    panel.refresh_state()
    return str(panel.query_one(selector, Static).render())


async def until(journey, predicate, timeout: float = 10.0) -> None:
    """Wait (on session events, never a sleep) until `predicate()` holds."""
    changed = asyncio.Event()
    loop = asyncio.get_running_loop()
    journey.session.subscribe(lambda _view: loop.call_soon_threadsafe(changed.set))
    deadline = loop.time() + timeout
    while not predicate():
        await journey.pilot.pause()
        remaining = deadline - loop.time()
        assert remaining > 0, "the condition never came true"
        changed.clear()
        try:
            await asyncio.wait_for(changed.wait(), min(remaining, 0.5))
        except asyncio.TimeoutError:
            pass


async def test_a_card_goes_in_and_out_through_the_panel(start_kiosk):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        panel = await open_panel(journey)
        assert "Q" not in [binding.key.upper() for binding in panel.BINDINGS]  # no way out of the program here
        await select(journey, panel, "zhang-wei-3.00")
        await journey.pilot.press("enter")
        await journey.reach(Step.HOLDER)
        panel = await open_panel(journey)
        assert panel.selected == "zhang-wei-3.00"  # the card in the reader is the one the panel acts on
        assert message("tester.in_reader", "zh", name="zhang-wei-3.00") in shown(panel, "#card-state")
        await journey.pilot.press("r")
        screen = await journey.reach(Step.WELCOME)
        assert screen.view.notice == "CARD_REMOVED"
        assert journey.kiosk.bench.inserted() is None


async def test_one_try_left_set_in_the_panel_brings_the_last_try_warning(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        panel = await open_panel(journey)
        card = journey.kiosk.bench.card("zhang-wei-3.00")
        await journey.pilot.press("t", "9")
        assert card.pin_tries_left == 3  # never more than the card's maximum
        await journey.pilot.press("minus", "minus")
        assert card.pin_tries_left == 1
        await journey.pilot.press("plus")
        assert card.pin_tries_left == 2
        await journey.pilot.press("t", "1")
        assert card.pin_tries_left == 1
        assert message("tester.state_tries", "zh", left=1, max=3) in shown(panel, "#card-state")
        await journey.pilot.press("escape")
        await journey.pilot.press("enter")
        pin = await journey.reach(Step.PIN)
        assert pin.view.pin_tries_left == 1
        assert message("pin.last_try", "zh") in screen_text(journey.app).replace("\n", "")


async def test_a_pin_blocked_in_the_panel_is_blocked_at_the_next_try(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        await journey.reach(Step.PIN)
        panel = await open_panel(journey)
        await journey.pilot.click("#block")  # clickable as well as B
        assert message("tester.state_blocked", "zh", max=3) in shown(panel, "#card-state")
        await journey.pilot.press("escape")
        await journey.enter_pin("123456")  # at once: the card answers the next VERIFY as blocked
        screen = await journey.reach(Step.ERROR)
        assert screen.view.error == "PIN_BLOCKED"


async def test_an_expired_card_is_refused_and_renewed_is_read_again(start_kiosk):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        panel = await open_panel(journey)
        await select(journey, panel, "zhang-wei-3.00")
        await journey.pilot.press("e")
        yesterday = (journey.session.clock.now().astimezone().date() - timedelta(days=1)).isoformat()
        assert message("tester.state_expired", "zh", date=yesterday) in shown(panel, "#card-state")
        await journey.pilot.press("enter")
        screen = await journey.reach(Step.NOT_ELIGIBLE)
        assert [f.code for f in screen.view.decision.failures] == ["CARD_EXPIRED"]
        panel = await open_panel(journey)
        await journey.pilot.press("e", "r")  # renew it, take it out
        await journey.reach(Step.WELCOME)
        await journey.insert("zhang-wei-3.00")  # expiry is read at insertion
        await journey.reach(Step.HOLDER)


async def test_a_pull_after_n_apdus_ends_the_session_as_card_removed(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        panel = await open_panel(journey)
        await journey.pilot.press("p")
        await journey.pilot.pause()
        await journey.type("7")
        await journey.pilot.press("escape")  # Esc first cancels the question, the panel stays
        assert journey.app.screen is panel
        assert journey.kiosk.bench.card("zhang-wei-3.00").pull_after_apdus is None
        await journey.pilot.press("p")
        await journey.pilot.pause()
        await journey.type("1")  # at or below the APDUs answered so far: pulled at its next APDU
        await journey.pilot.press("enter")
        await journey.pilot.pause()
        assert journey.kiosk.bench.card("zhang-wei-3.00").pull_after_apdus == 1
        assert "1" in shown(panel, "#card-state")
        await journey.pilot.press("escape")
        await journey.pilot.press("enter")  # the PIN step asks the card its try counter
        screen = await journey.reach(Step.WELCOME)
        assert screen.view.notice == "CARD_REMOVED"


async def test_the_phone_scan_from_the_panel_activates_the_qr_on_screen(start_kiosk):
    async with start_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        panel = await open_panel(journey)
        await journey.pilot.press("s")
        assert shown(panel, "#tester-status") == message("tester.scan_no_qr", "zh")
        await journey.pilot.press("escape")
        await journey.to_child_id("zhang-wei-3.00")
        await journey.register(CHILD_ID)
        panel = await open_panel(journey)
        await journey.pilot.press("s")
        await journey.app.workers.wait_for_complete()
        await journey.pilot.pause()
        status = shown(panel, "#tester-status")
        assert status.startswith("手机：电子社保卡 ") and status.endswith(" 已激活"), status
        await journey.pilot.press("escape")
        await journey.reach(Step.ACTIVATED)


async def test_a_clock_jump_expires_the_qr_and_a_fresh_one_comes(start_kiosk):
    async with start_kiosk() as journey:
        clock = journey.session.clock
        assert isinstance(clock, OffsetClock)  # the simulated kiosk with the panel gets the tester's clock
        await journey.to_child_id("zhang-wei-3.00")
        screen = await journey.register(CHILD_ID)
        first = screen.view.ticket
        panel = await open_panel(journey)
        assert shown(panel, "#clock-state") == message("tester.clock", "zh", offset="+00:00:00")
        await journey.pilot.press("j", "2")  # +5 min, longer than a QR code lives
        await journey.pilot.pause()
        assert not isinstance(journey.app.screen, tester.TesterPanel)  # a jump closes the panel: the kiosk reacts
        assert round(clock.offset.total_seconds()) == 300
        await until(journey, lambda: (t := journey.session.view.ticket) is not None and t.renewals == 1)
        assert journey.session.view.ticket.user_code != first.user_code
        try:
            journey.kiosk.bench.scan(first.url)
        except KioskError as exc:
            assert exc.code == "ACTIVATION_EXPIRED"
        else:
            raise AssertionError("the expired QR code still activated")
        panel = await open_panel(journey)
        assert shown(panel, "#clock-state") == message("tester.clock", "zh", offset="+00:05:00")
        await journey.pilot.press("j", "0")  # back to the system time
        assert round(clock.offset.total_seconds()) == 0


async def test_a_clock_jump_brings_the_idle_warning(start_kiosk):
    async with start_kiosk(idle_timeout_seconds=90, idle_warning_seconds=30) as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        await journey.reach(Step.PIN)
        await open_panel(journey)
        await journey.pilot.press("j", "1")  # +1 min of 90 s: 30 s left
        await journey.pilot.pause()
        journey.app.check_time()
        await journey.pilot.pause()
        assert isinstance(journey.app.screen, TimeoutWarning)


async def test_with_a_fixed_clock_the_panel_says_so_and_does_not_jump(start_kiosk):
    clock = ManualClock(datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc))
    async with start_kiosk(clock=clock) as journey:
        await journey.reach(Step.WELCOME)
        panel = await open_panel(journey)
        assert shown(panel, "#clock-state") == message("tester.clock_fixed", "zh")
        await journey.pilot.press("j", "1")
        await journey.pilot.click("#jump-4")
        assert journey.app.screen is panel
        assert clock.now() == datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
        assert shown(panel, "#tester-status") == message("tester.clock_fixed", "zh")


async def test_reset_puts_a_fresh_card_from_its_profile_in_the_reader(start_kiosk):
    async with start_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        await open_panel(journey)
        await journey.pilot.press("b", "m")
        assert journey.kiosk.bench.card("zhang-wei-3.00").pin_tries_left == 0
        await journey.pilot.press("z")  # the fresh card goes in and the panel closes
        await journey.reach(Step.HOLDER)  # the fresh card is read as a new visit
        card = journey.kiosk.bench.card("zhang-wei-3.00")
        assert (card.pin_tries_left, card.mute) == (3, False)
        assert journey.kiosk.bench.inserted() == "zhang-wei-3.00"
        await journey.pilot.press("enter")
        pin = await journey.reach(Step.PIN)
        await until(journey, lambda: journey.session.view.pin_tries_left is not None)
        assert journey.session.view.pin_tries_left == 3 and pin.view.step is Step.PIN


async def test_the_panel_follows_a_language_switch(start_kiosk):
    async with start_kiosk(language="zh") as journey:
        await journey.reach(Step.WELCOME)
        await journey.pilot.press("f9")
        await journey.pilot.pause()
        assert isinstance(journey.app.screen, tester.TesterPanel)
        assert "测试面板" in screen_text(journey.app)
        await journey.pilot.press("f2")
        await journey.pilot.pause()
        assert isinstance(journey.app.screen, tester.TesterPanel)
        assert "Tester panel: virtual cards" in screen_text(journey.app)


async def _pin_pad_waiting(journey, profile: str = "li-na-2.00") -> None:
    await journey.to_holder(profile)
    await journey.pilot.press("enter")
    await journey.reach(Step.PIN)
    await journey.until(lambda: journey.session.view.pin_pad == "waiting" and journey.kiosk.bench.pin_pad.active)


async def test_k_types_on_the_readers_pin_pad_and_the_panel_shows_its_display(start_kiosk):
    async with start_kiosk(simulated_pin_pad=True, language="en") as journey:
        await _pin_pad_waiting(journey)
        panel = await open_panel(journey)
        assert "waiting for the PIN  ○○○○○○" in shown(panel, "#pad-state")
        await journey.pilot.press("k", *"999")
        await journey.until(lambda: "●●●○○○" in shown(panel, "#pad-state"))
        assert "Enter = OK" in shown(panel, "#tester-prompt")
        await journey.pilot.press("backspace")  # the pad's Clear
        await journey.until(lambda: "○○○○○○" in shown(panel, "#pad-state"))
        await journey.pilot.press(*"123456", "enter")  # the pad's OK: the panel closes, the kiosk goes on
        await journey.reach(Step.CHILD_ID)
        assert journey.kiosk.bench.state("li-na-2.00").pin_tries_left == 3  # the 999 never reached the card


async def test_the_panels_pad_buttons_type_the_pin_and_cancel_costs_no_try(start_kiosk):
    async with start_kiosk(simulated_pin_pad=True) as journey:
        await _pin_pad_waiting(journey)
        panel = await open_panel(journey)
        await journey.pilot.click("#pad-1")
        await journey.until(lambda: "●○○○○○" in shown(panel, "#pad-state"))
        await journey.pilot.click("#pad-cancel")  # closes the panel: the kiosk shows the pad cancelled
        await journey.until(lambda: journey.session.view.pin_pad == "again")
        assert not isinstance(journey.app.screen, tester.TesterPanel)
        assert journey.kiosk.bench.state("li-na-2.00").pin_tries_left == 3
        await journey.pilot.press("enter")  # the kiosk's OK: the pad takes the PIN again
        await journey.until(lambda: journey.kiosk.bench.pin_pad.active)
        panel = await open_panel(journey)
        for digit in "123456":
            await journey.pilot.click(f"#pad-{digit}")
        await journey.until(lambda: "●●●●●●" in shown(panel, "#pad-state"))
        await journey.pilot.click("#pad-ok")
        await journey.reach(Step.CHILD_ID)


async def test_the_pad_keys_go_nowhere_when_the_pad_is_not_waiting(start_kiosk):
    async with start_kiosk(simulated_pin_pad=True, language="en") as journey:
        await journey.reach(Step.WELCOME)
        panel = await open_panel(journey)
        assert "not waiting" in shown(panel, "#pad-state")
        await journey.pilot.press("k", "1")
        assert "not waiting for a PIN" in shown(panel, "#tester-status")
        await journey.pilot.click("#pad-2")
        assert "not waiting for a PIN" in shown(panel, "#tester-status")
        await journey.pilot.press("escape")
        await _pin_pad_waiting(journey)
        # Nothing was queued for the verification now waiting: six digits and OK are the whole PIN.
        journey.kiosk.bench.pin_pad.type_pin("123456")
        await journey.reach(Step.CHILD_ID)


async def test_without_a_pin_pad_the_panel_has_no_pad_keys(start_kiosk):
    async with start_kiosk(language="en") as journey:
        await journey.reach(Step.WELCOME)
        panel = await open_panel(journey)
        assert not panel.query("#pad-keys") and not panel.query("#pad-state")
        await journey.pilot.press("k")
        assert "no PIN pad" in shown(panel, "#tester-status")


async def test_the_pad_prompt_is_in_view_whole_at_80x24(start_kiosk):
    async with start_kiosk(size=(80, 24), simulated_pin_pad=True, language="zh") as journey:
        await _pin_pad_waiting(journey)
        await open_panel(journey)
        await journey.pilot.press("k")
        await journey.pilot.pause()
        assert message("tester.ask_pad", "zh") in screen_text(journey.app)
