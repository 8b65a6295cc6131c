"""Benchmark 2: the same journey through the Textual UI, headless (App.run_test + Pilot), insert to ActivationScreen up.

Two ways of typing:
- "pilot": `pilot.press(...)` as in tests/functional. Pilot paces every key: after each one it waits
  for the process to go idle twice (Textual's wait_for_idle, >= 20 ms each), so ~30 keys cost
  >= 1.2 s of pacing alone. This is the figure the functional tests see.
- "posted": the same Key events posted straight to the app's queue (what the terminal driver
  does when a guardian types fast), waiting only for each step's screen. This is the kiosk's own
  UI cost.
"""
from __future__ import annotations

import asyncio
import collections
import logging
import tempfile
import time
from pathlib import Path

from bench.common import CARDS, PIN, BenchError, DemoCard, load_root, settings_in, summary

SIZE = (120, 40)
STEP_TIMEOUT_S = 15.0
POLL_S = 0.002


async def _reach(pilot, session, step, timeout: float = STEP_TIMEOUT_S):
    """Wait until the session is at `step` and the screen for it is up and settled; return the screen.

    Unlike tests/functional/harness.py this polls every few milliseconds and never calls
    `pilot.pause()` without a delay (that waits for the process to go idle, >= 20 ms a call),
    so the figure is the kiosk's time, not the harness's.
    """
    from screens.registry import screen_class

    app = pilot.app
    deadline = time.perf_counter() + timeout
    while True:
        screen = app.screen
        view = session.view
        if (view.step is step and isinstance(screen, screen_class(view)) and screen.is_mounted
                and screen.view.step is step):
            await pilot.pause(0)  # let the new screen work through its queued messages (focus, mount)
            return app.screen
        if time.perf_counter() > deadline:
            view = session.view
            raise BenchError(f"UI never reached {step.value}: session at {view.step.value}, "
                             f"screen {type(screen).__name__}, error {view.error}")
        await asyncio.sleep(POLL_S)


async def _reach_typed_entry(pilot, session) -> None:
    from kiosk.session import Step
    from screens.child_id import ChildIdScreen

    deadline = time.perf_counter() + STEP_TIMEOUT_S
    while not isinstance(await _reach(pilot, session, Step.CHILD_ID), ChildIdScreen):
        if time.perf_counter() > deadline:
            raise BenchError("the typed entry of the child's ID number never opened")
        await asyncio.sleep(POLL_S)


async def _keys(pilot, keys: list[str], paced: bool) -> None:
    if paced:
        await pilot.press(*keys)
        return
    from textual import events

    app = pilot.app
    for key in keys:
        event = events.Key(key, key if len(key) == 1 else None)  # the character Pilot gives these keys
        event.set_sender(app)
        app.post_message(event)


async def one_journey(root, card: DemoCard, data_dir: Path, paced: bool = True) -> dict:
    from kiosk.session import Step

    kiosk = root.build_kiosk(settings_in(data_dir))
    app = root.build_app(kiosk)
    session = kiosk.session
    try:
        start_app = time.perf_counter()
        async with app.run_test(size=SIZE) as pilot:
            await _reach(pilot, session, Step.WELCOME)
            app_up = time.perf_counter() - start_app
            start = time.perf_counter()
            kiosk.bench.insert(card.profile)
            await _reach(pilot, session, Step.HOLDER)
            await _keys(pilot, ["enter"], paced)
            await _reach(pilot, session, Step.PIN)
            await _keys(pilot, [*PIN, "enter"], paced)
            await _reach(pilot, session, Step.CHILD_ID)
            await _keys(pilot, ["0"], paced)  # past the list of children: this journey types the number
            await _reach_typed_entry(pilot, session)
            typed = card.child_id.lower() if card.child_id.endswith("X") else card.child_id
            await _keys(pilot, [*typed, "enter"], paced)
            await _reach(pilot, session, Step.CHILD_CONFIRM)
            await _keys(pilot, ["enter"], paced)
            await _reach(pilot, session, Step.ELIGIBLE)
            await _keys(pilot, ["enter"], paced)
            screen = await _reach(pilot, session, Step.ACTIVATION)
            elapsed = time.perf_counter() - start
            if screen.view.ticket is None or not screen.query("#qr"):
                raise BenchError("ActivationScreen is up without a ticket or without its QR code")
            kiosk.bench.remove()
            await pilot.pause(0)
    finally:
        kiosk.registry.close()
    return {"journey_s": elapsed, "app_to_welcome_s": app_up}


class _ErrorLog(logging.Handler):
    """Collects what the app logs at ERROR and above (KioskApp logs UI exceptions instead of crashing)."""

    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.seen: collections.Counter[str] = collections.Counter()

    def emit(self, record: logging.LogRecord) -> None:
        text = f"{record.name}: {record.getMessage()}"
        if record.exc_info and record.exc_info[1] is not None:
            error = record.exc_info[1]
            text += f" ({type(error).__name__}: {error})"
        self.seen[text] += 1


async def _run(runs: int, posted_runs: int, warmup: int, scratch: Path | None) -> dict:
    root = load_root()
    results: dict = {"runs": runs, "posted_runs": posted_runs, "warmup": warmup, "size": list(SIZE), "cards": {}}

    async def sample(card: DemoCard, paced: bool) -> dict:
        with tempfile.TemporaryDirectory(prefix="bench-ui-", dir=scratch) as tmp:
            return await one_journey(root, card, Path(tmp) / "data", paced)

    # Process-wide first-use costs (imports, CSS, the first QR) go to discarded journeys.
    warm = [(await sample(CARDS[0], paced=False))["journey_s"] for _ in range(warmup)]
    results["warmup_ms"] = [round(s * 1000, 3) for s in warm]
    for card in CARDS:
        paced = [await sample(card, paced=True) for _ in range(runs)]
        posted = [await sample(card, paced=False) for _ in range(posted_runs)]
        results["cards"][card.profile] = {
            "label": card.label,
            "journey_pilot": summary([s["journey_s"] for s in paced]),
            "journey_posted": summary([s["journey_s"] for s in posted]),
            "run_test_to_welcome": summary([s["app_to_welcome_s"] for s in paced + posted]),
        }
    return results


def run(runs: int, posted_runs: int, warmup: int = 1, scratch: Path | None = None) -> dict:
    errors = _ErrorLog()
    logging.getLogger().addHandler(errors)
    try:
        results = asyncio.run(_run(runs, posted_runs, warmup, scratch))
    finally:
        logging.getLogger().removeHandler(errors)
    results["errors_logged"] = [{"count": n, "message": text} for text, n in errors.seen.most_common()]
    return results
