"""Provides the recovery benchmark: the Textual app over PC/SC while pcscd is killed and started again, timed back to the welcome screen."""
from __future__ import annotations

import asyncio
import time
from pathlib import Path
from typing import Any, Callable

from bench.common import BenchError, summary
from bench.pcsc.rig import pcsc_settings

SIZE = (120, 40)
POLL_S = 0.002
SCREEN_TIMEOUT_S = 20.0


async def _wait_screen(app: Any, session: Any, step: Any, timeout: float = SCREEN_TIMEOUT_S, marks: dict | None = None) -> float:
    """Poll every 2 ms until `step`'s screen is the app's current, mounted screen; return the time then.

    `marks["session"]` gets the first time the session itself was seen at `step`.
    """
    from screens.registry import SCREEN_FOR_STEP

    wanted = SCREEN_FOR_STEP[step]
    deadline = time.perf_counter() + timeout
    while True:
        screen = app.screen
        now = time.perf_counter()
        if marks is not None and "session" not in marks and session.step is step:
            marks["session"] = now
        if session.step is step and isinstance(screen, wanted) and screen.is_mounted:
            return now
        if time.perf_counter() > deadline:
            raise BenchError(f"pcsc recovery: no {wanted.__name__} within {timeout} s "
                             f"(session at {session.step.value}, screen {type(screen).__name__})")
        await asyncio.sleep(POLL_S)


async def recovery(root: Any, daemon: Any, runs: int, warmup: int, hold_s: float, scratch: Path,
                   phase: Callable[[str], None]) -> dict:
    """d.: kill pcscd under the running app, start it again `hold_s` after the out-of-service screen, time the way back.

    Args:
        phase: told what is being timed (for the warnings logged meanwhile).
    Returns:
        The JSON figures: kill -> out of service, and start -> welcome cut at readers listed and session at WELCOME.
    """
    from kiosk.session import Step

    kiosk = root.build_kiosk(pcsc_settings(daemon, scratch))
    app = root.build_app(kiosk)
    session = kiosk.session
    samples: dict[str, list[float]] = {k: [] for k in (
        "kill_to_out_of_service", "start_to_listed", "listed_to_session_welcome", "session_to_welcome_screen",
        "listed_to_welcome", "start_to_welcome")}
    each: list[dict] = []
    daemon.ready_poll = 0.002  # see "pcscd back" within 2 ms
    try:
        async with app.run_test(size=SIZE):
            root.start_reader(kiosk)
            await _wait_screen(app, session, Step.WELCOME)
            for index in range(warmup + runs):
                phase(f"recovery (outage {hold_s:g} s) run {index + 1 - warmup}: kill -> out of service")
                killed = time.perf_counter()
                await asyncio.to_thread(daemon.kill)
                out_of_service = await _wait_screen(app, session, Step.OUT_OF_SERVICE)
                phase(f"recovery (outage {hold_s:g} s) run {index + 1 - warmup}: out of service -> welcome")
                if hold_s:
                    await asyncio.sleep(hold_s)
                marks: dict[str, float] = {}

                def start(marks: dict[str, float] = marks) -> None:
                    marks["start"] = time.perf_counter()
                    daemon.start()
                    marks["listed"] = time.perf_counter()

                starting = asyncio.create_task(asyncio.to_thread(start))
                welcome = await _wait_screen(app, session, Step.WELCOME, marks=marks)
                await starting
                if index < warmup:
                    continue
                samples["kill_to_out_of_service"].append(out_of_service - killed)
                samples["start_to_listed"].append(marks["listed"] - marks["start"])
                samples["listed_to_session_welcome"].append(marks["session"] - marks["listed"])
                samples["session_to_welcome_screen"].append(welcome - marks["session"])
                samples["listed_to_welcome"].append(welcome - marks["listed"])
                samples["start_to_welcome"].append(welcome - marks["start"])
                each.append({"kill_to_out_of_service_ms": round((out_of_service - killed) * 1000, 1),
                             "start_to_welcome_ms": round((welcome - marks["start"]) * 1000, 1)})
    finally:
        daemon.ready_poll = 0.02
        root.stop_reader(kiosk)
        kiosk.registry.close()
        daemon.start()
    return {"runs": runs, "warmup": warmup, "hold_s": hold_s, **{k: summary(v) for k, v in samples.items()},
            "each_run": each}
