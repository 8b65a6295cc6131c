"""Snapshot tests (pytest-textual-snapshot) of every guardian screen, in both languages, at 80x24 and 120x40,
and in the large-text and high-contrast modes; plus the help, the idle warning and the tester panel.

The screens are reached the way a guardian reaches them (keys, cards going in), on a manual clock and
with a seeded random source for the activation codes, so every picture is the same on every run.
`pytest tests/snapshots --snapshot-update` accepts new pictures after a deliberate change; look at
them first (`snapshot_report.html` shows the differences when a test fails).
"""
from __future__ import annotations

import random
from datetime import datetime, timezone
from typing import Awaitable, Callable

import pytest

from kiosk.ports import ManualClock
from kiosk.session import Step
from tests.conftest import kiosk_root
from tests.functional.harness import Journey

CHILD_ID = "430102201906010029"
TOO_OLD = "430102200905200037"
NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
SIZES = {"80x24": (80, 24), "120x40": (120, 40)}


class _SeededSecrets:
    """Stands in for `secrets` in kiosk.tickets: the same activation token and code on every run."""

    def __init__(self) -> None:
        self._random = random.Random(20261122)

    def token_urlsafe(self, nbytes: int) -> str:
        import base64

        return base64.urlsafe_b64encode(self._random.randbytes(nbytes)).rstrip(b"=").decode()

    def choice(self, sequence):
        return self._random.choice(sequence)


Driver = Callable[[Journey], Awaitable[None]]


async def _welcome(j: Journey) -> None:
    await j.reach(Step.WELCOME)


async def _insert_card(j: Journey) -> None:
    await j.reach(Step.WELCOME)
    await j.pilot.press("enter")
    await j.reach(Step.INSERT_CARD)


async def _reading(j: Journey) -> None:
    await j.reach(Step.WELCOME)
    j.hold_work()  # the read never ends: the screen stays
    await j.insert("zhang-wei-3.00")
    await j.reach(Step.READING)


async def _holder(j: Journey) -> None:
    await j.to_holder("zhang-wei-3.00")


async def _pin(j: Journey) -> None:
    await j.to_holder("zhang-wei-3.00")
    await j.pilot.press("enter")
    await j.reach(Step.PIN)
    await j.app.workers.wait_for_complete()  # the try counter is on screen
    await j.type("12")


async def _pin_wrong(j: Journey) -> None:
    await j.to_holder("yang-lei-last-try")
    await j.pilot.press("enter")
    await j.reach(Step.PIN)
    await j.app.workers.wait_for_complete()


async def _child_id(j: Journey) -> None:
    await j.to_child_id("zhang-wei-3.00")
    await j.type(CHILD_ID[:12])


async def _child_id_wrong(j: Journey) -> None:
    await j.to_child_id("zhang-wei-3.00")
    await j.type("430102201906010028")
    await j.pilot.press("enter")
    await j.app.workers.wait_for_complete()
    await j.reach(Step.CHILD_ID)


async def _child_confirm(j: Journey) -> None:
    await j.to_child_id("zhang-wei-3.00")
    await j.enter_child(CHILD_ID)
    await j.reach(Step.CHILD_CONFIRM)


async def _eligible(j: Journey) -> None:
    await _child_confirm(j)
    await j.pilot.press("enter")
    await j.reach(Step.ELIGIBLE)


async def _not_eligible(j: Journey) -> None:
    await j.to_child_id("zhang-wei-3.00")
    await j.enter_child(TOO_OLD)
    await j.reach(Step.CHILD_CONFIRM)
    await j.pilot.press("enter")
    await j.reach(Step.NOT_ELIGIBLE)


async def _registering(j: Journey) -> None:
    await _eligible(j)
    j.hold_work()  # the moment between consent and the QR, held still
    await j.pilot.press("enter")
    await j.reach(Step.REGISTERING)


async def _activation(j: Journey) -> None:
    await j.to_child_id("zhang-wei-3.00")
    await j.register(CHILD_ID)


async def _activated(j: Journey) -> None:
    await _activation(j)
    j.kiosk.registry.activate(j.session.view.ticket.user_code)
    j.session.check_activation()  # the kiosk's clock stands still here: it looks at once, as after a scan
    await j.reach(Step.ACTIVATED)


async def _take_card(j: Journey) -> None:
    await _activated(j)
    await j.pilot.press("enter")
    await j.reach(Step.TAKE_CARD)


async def _error(j: Journey) -> None:
    await j.reach(Step.WELCOME)
    await j.insert("bank-card")
    await j.reach(Step.ERROR)


async def _out_of_service(j: Journey) -> None:
    await j.reach(Step.WELCOME)
    j.session.out_of_service("READER_UNAVAILABLE")
    await j.reach(Step.OUT_OF_SERVICE)


async def _help(j: Journey) -> None:
    await _pin(j)
    await j.pilot.press("f1")
    await j.pilot.pause()


async def _timeout_warning(j: Journey) -> None:
    await _child_id(j)
    j.session.clock.advance(j.session.policy.idle_timeout_for(Step.CHILD_ID) - 20)
    j.app.check_time()
    await j.pilot.pause()


async def _tester_panel(j: Journey) -> None:
    await j.reach(Step.WELCOME)
    await j.pilot.press("f9")
    await j.pilot.pause()


async def _child_pick(j: Journey) -> None:
    await j.to_holder("li-na-2.00")  # three children: none yet, active, pending
    await j.pilot.press("enter")
    await j.enter_pin()
    await j.reach(Step.CHILD_ID)
    await j.until(lambda: j.app.screen.view.children is not None)


async def _pin_pad(j: Journey) -> None:
    await j.to_holder("yang-lei-last-try")  # the warning before the last try, on the pad's path too
    await j.pilot.press("enter")
    await j.reach(Step.PIN)
    await j.until(lambda: j.session.view.pin_pad == "waiting")


SCREENS: dict[str, Driver] = {
    "welcome": _welcome, "insert_card": _insert_card, "reading": _reading, "holder": _holder, "pin": _pin,
    "pin_last_try": _pin_wrong, "child_id": _child_id, "child_id_wrong": _child_id_wrong,
    "child_confirm": _child_confirm, "eligible": _eligible, "not_eligible": _not_eligible,
    "registering": _registering, "activation": _activation, "activated": _activated, "take_card": _take_card,
    "error": _error, "out_of_service": _out_of_service, "help": _help, "timeout_warning": _timeout_warning,
    "child_pick": _child_pick,
}


@pytest.fixture
def kiosk_app(settings_for, with_demo_registry, monkeypatch):
    """`kiosk_app(**settings)`: a kiosk app on a manual clock with seeded activation codes, and a driver hook."""
    import kiosk.tickets

    monkeypatch.setattr(kiosk.tickets, "secrets", _SeededSecrets())
    built = []

    def make(drive: Driver, **overrides):
        overrides.setdefault("idle_timeout_seconds", 900)
        overrides.setdefault("step_idle_seconds", {})
        overrides.setdefault("activation_poll_seconds", 0.2)
        kiosk = kiosk_root.build_kiosk(with_demo_registry(settings_for(**overrides)), clock=ManualClock(NOW))
        built.append(kiosk)
        app = kiosk_root.build_app(kiosk)
        app.animation_level = "none"  # the loading indicator stands still

        async def run_before(pilot) -> None:
            journey = Journey(pilot, kiosk)
            await drive(journey)
            await pilot.pause()

        return app, run_before

    yield make
    for made in built:
        if made.bench is not None and made.bench.pin_pad is not None:
            made.bench.pin_pad.close()
        made.registry.close()


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("screen", list(SCREENS))
def test_screen(snap_compare, kiosk_app, screen: str, lang: str, size: str) -> None:
    app, run_before = kiosk_app(SCREENS[screen], language=lang)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


DISPLAY_CASES = [(screen, mode) for screen in SCREENS for mode in ("large_text", "high_contrast")] + [
    (screen, "both") for screen in ("welcome", "pin", "activation")]


@pytest.mark.parametrize(("screen", "mode"), DISPLAY_CASES, ids=[f"{s}-{m}" for s, m in DISPLAY_CASES])
def test_screen_in_display_mode(snap_compare, kiosk_app, screen: str, mode: str) -> None:
    async def drive(journey: Journey) -> None:
        await journey.reach(Step.WELCOME)
        journey.session.set_display(large_text=mode in ("large_text", "both"), high_contrast=mode in ("high_contrast", "both"))
        await SCREENS[screen](journey)

    app, run_before = kiosk_app(drive, language="zh" if mode != "both" else "en")
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)


@pytest.mark.parametrize("size", list(SIZES))
@pytest.mark.parametrize("lang", ["zh", "en"])
def test_pin_on_the_readers_pin_pad(snap_compare, kiosk_app, lang: str, size: str) -> None:
    app, run_before = kiosk_app(_pin_pad, language=lang, simulated_pin_pad=True)
    assert snap_compare(app, terminal_size=SIZES[size], run_before=run_before)


def test_tester_panel(snap_compare, kiosk_app) -> None:
    app, run_before = kiosk_app(_tester_panel, language="en")
    assert snap_compare(app, terminal_size=(120, 40), run_before=run_before)
