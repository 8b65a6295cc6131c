"""Benchmark: key press to screen updated in the kiosk, against a bare Textual app with one Input, in the same run.

    .venv/bin/python -m bench.keys [--samples N] [--step-samples N] [--json]

Headless (`App.run_test`, 120x40). A `Key` event is posted to the app's queue, as the terminal driver
does when a guardian types; the clock stops at the first screen update (Textual's `post_display_hook`,
called after every compositor update) once the key has been handled. Headless apps skip writing the
update to a terminal (the escape sequences), the kiosk and the bare app alike. Measured:

- bare Input: a character typed into the one `Input` of a bare app (the reference);
- PIN digit: a digit on the PIN step (a dot filled);
- child-ID character: a character on the typed entry of the child's ID number (checked as typed);
- step change: Enter on the card holder's step to the PIN screen up and drawn (no card or registry
  work in the way: the try counter is asked for in the background);
- pick: a digit on the list of children to the child's confirm screen drawn (the registry's look-up
  of the child included).

Targets (issue 14): each key within 1.5x of the bare Input's median, the step change under 100 ms.
Samples of the kiosk's kinds interleave with the bare app's by rounds, so drift in the machine's
load hits them alike.
"""
from __future__ import annotations

import argparse
import asyncio
import json
import math
import statistics
import sys
import tempfile
import time
from pathlib import Path

from bench.common import PIN, BenchError, load_root, progress, settings_in

SIZE = (120, 40)
TIMEOUT_S = 15.0
TYPED_CHILD = "43010220190601002"  # 17 characters of 张小雨's number: never a complete one, never submitted
TARGET_RATIO = 1.5
TARGET_STEP_MS = 100.0


def figures(samples_s: list[float]) -> dict:
    """Median and p99 (nearest rank), min and max, in milliseconds."""
    ordered = sorted(samples_s)
    rank = max(1, math.ceil(0.99 * len(ordered)))
    return {"n": len(ordered), "median_ms": round(statistics.median(ordered) * 1000, 3),
            "p99_ms": round(ordered[rank - 1] * 1000, 3), "min_ms": round(ordered[0] * 1000, 3),
            "max_ms": round(ordered[-1] * 1000, 3)}


class Displays:
    """Wakes a waiter at the first screen update after which `done()` holds."""

    def __init__(self, app) -> None:
        self._waiter: tuple[object, asyncio.Future] | None = None
        hook = app.post_display_hook

        def display_hook() -> None:
            hook()
            if self._waiter is not None:
                done, future = self._waiter
                if done() and not future.done():  # type: ignore[operator]
                    future.set_result(time.perf_counter())

        app.post_display_hook = display_hook

    async def key(self, app, key: str, done) -> float:
        """Post `key`; seconds until the screen was updated with `done()` true."""
        from textual import events

        future: asyncio.Future = asyncio.get_running_loop().create_future()
        self._waiter = (done, future)
        event = events.Key(key, key if len(key) == 1 else None)
        event.set_sender(app)
        start = time.perf_counter()
        app.post_message(event)
        try:
            return await asyncio.wait_for(future, TIMEOUT_S) - start
        except asyncio.TimeoutError:
            raise BenchError(f"no screen update after key {key!r}") from None
        finally:
            self._waiter = None


async def _until(predicate, what: str) -> None:
    deadline = time.perf_counter() + TIMEOUT_S
    while not predicate():
        if time.perf_counter() > deadline:
            raise BenchError(f"never {what}")
        await asyncio.sleep(0.002)


def _bare_app():
    from textual.app import App, ComposeResult
    from textual.widgets import Input

    class Bare(App):
        def compose(self) -> ComposeResult:
            yield Input(id="entry")

    return Bare()


async def _bare(samples: int, out: list[float]) -> None:
    from textual.widgets import Input

    app = _bare_app()
    async with app.run_test(size=SIZE) as pilot:
        entry = app.query_one(Input)
        entry.focus()
        await pilot.pause()
        displays = Displays(app)
        for index in range(samples):
            if len(entry.value) >= 17:
                entry.value = ""
                await pilot.pause()
            length = len(entry.value)
            out.append(await displays.key(app, "abcdefgh"[index % 8], lambda: len(entry.value) == length + 1))


async def _kiosk(root, data_dir: Path, samples: int, step_samples: int, out: dict[str, list[float]]) -> None:
    from kiosk.session import Step
    from screens.child_confirm import ChildConfirmScreen
    from screens.child_id import ChildIdScreen
    from screens.child_pick import ChildPickScreen
    from screens.holder import HolderScreen
    from screens.pin import PinScreen

    kiosk = root.build_kiosk(settings_in(data_dir, idle_timeout_seconds=900))
    app = root.build_app(kiosk)
    session = kiosk.session

    def up(screen_type, step: Step):
        return lambda: (isinstance(app.screen, screen_type) and app.screen.is_mounted and session.step is step)

    try:
        async with app.run_test(size=SIZE) as pilot:
            displays = Displays(app)
            await _until(lambda: session.step is Step.WELCOME, "at the welcome screen")
            for _ in range(step_samples):  # the step change: holder -> PIN, a fresh visit each time
                kiosk.bench.insert("zhang-wei-3.00")
                await _until(up(HolderScreen, Step.HOLDER), "at the holder's step")
                await pilot.pause()
                out["step"].append(await displays.key(app, "enter", up(PinScreen, Step.PIN)))
                session.finish()
                await _until(lambda: session.step is Step.TAKE_CARD, "asked for the card back")
                kiosk.bench.remove()
                await _until(lambda: session.step is Step.WELCOME, "back at the welcome screen")
            kiosk.bench.insert("zhang-wei-3.00")
            await _until(up(HolderScreen, Step.HOLDER), "at the holder's step")
            session.confirm_holder()
            await _until(up(PinScreen, Step.PIN), "at the PIN step")
            await pilot.pause()
            pin = app.screen
            for index in range(samples):
                if len(pin.typed) >= 5:  # never six digits: nothing is sent to the card
                    pin.typed = ""
                    pin.entry_changed()
                    await pilot.pause()
                length = len(pin.typed)
                out["pin"].append(await displays.key(app, PIN[index % 5], lambda: len(pin.typed) == length + 1))
            pin.typed = ""
            session.submit_pin(PIN)
            await _until(lambda: isinstance(app.screen, ChildPickScreen) and app.screen.view.children,
                         "at the list of children")
            for _ in range(step_samples):  # the pick: list -> the child's confirm screen (a registry look-up)
                await pilot.pause()
                out["pick"].append(await displays.key(app, "2", up(ChildConfirmScreen, Step.CHILD_CONFIRM)))
                session.another_child()
                await _until(lambda: isinstance(app.screen, ChildPickScreen) and app.screen.view.children,
                             "back at the list of children")
            session.type_child()
            await _until(up(ChildIdScreen, Step.CHILD_ID), "at the typed entry")
            await pilot.pause()
            child = app.screen
            for index in range(samples):
                if len(child.typed) >= len(TYPED_CHILD):
                    child.typed = ""
                    child.entry_changed()
                    await pilot.pause()
                length = len(child.typed)
                out["child"].append(await displays.key(app, TYPED_CHILD[length], lambda: len(child.typed) == length + 1))
            session.finish()
    finally:
        kiosk.registry.close()


async def _run(samples: int, step_samples: int) -> dict:
    root = load_root()
    out: dict[str, list[float]] = {"bare": [], "pin": [], "child": [], "step": [], "pick": []}
    rounds = 2  # the bare app's samples before and after the kiosk's, so both see the same machine
    with tempfile.TemporaryDirectory(prefix="bench-keys-") as tmp:
        await _bare(5, [])  # warm-up: imports, CSS
        for index in range(rounds):
            progress(f"keys: round {index + 1}/{rounds}: bare Input")
            await _bare(samples // rounds, out["bare"])
            progress(f"keys: round {index + 1}/{rounds}: kiosk")
            warm: dict[str, list[float]] = {name: [] for name in out}
            await _kiosk(root, Path(tmp) / f"warm-{index}", 5, 1, warm)  # a first visit's costs, discarded
            await _kiosk(root, Path(tmp) / f"data-{index}", samples // rounds, step_samples // rounds, out)
    result = {name: figures(values) for name, values in out.items()}
    bare = result["bare"]["median_ms"]
    result["ratios"] = {name: round(result[name]["median_ms"] / bare, 2) for name in ("pin", "child")}
    result["targets"] = {
        "keys_within_1_5x_of_bare_input": all(r <= TARGET_RATIO for r in result["ratios"].values()),
        "step_change_under_100_ms": result["step"]["p99_ms"] < TARGET_STEP_MS,
    }
    return result


def table(result: dict) -> str:
    names = {"bare": "bare Input (reference)", "pin": "PIN digit", "child": "child-ID character",
             "step": "step change (holder -> PIN)", "pick": "pick a child (-> confirm, registry look-up)"}
    lines = [f"Key press to screen updated, headless {SIZE[0]}x{SIZE[1]}, milliseconds",
             f"{'':44} {'n':>5} {'median':>8} {'p99':>8} {'min':>8} {'max':>8}  x bare"]
    for name, label in names.items():
        row = result[name]
        ratio = result["ratios"].get(name)
        lines.append(f"{label:44} {row['n']:5d} {row['median_ms']:8.2f} {row['p99_ms']:8.2f} "
                     f"{row['min_ms']:8.2f} {row['max_ms']:8.2f}  {'' if ratio is None else ratio}")
    targets = result["targets"]
    lines.append(f"targets: keys within {TARGET_RATIO}x of the bare Input's median: "
                 f"{'met' if targets['keys_within_1_5x_of_bare_input'] else 'NOT MET'}; "
                 f"step change p99 under {TARGET_STEP_MS:.0f} ms: "
                 f"{'met' if targets['step_change_under_100_ms'] else 'NOT MET'}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.keys", description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=200, metavar="N", help="keys per kind (default 200)")
    parser.add_argument("--step-samples", type=int, default=40, metavar="N",
                        help="step changes and picks (default 40)")
    parser.add_argument("--json", action="store_true", help="JSON on stdout, the table on stderr")
    args = parser.parse_args(argv)
    result = asyncio.run(_run(max(2, args.samples), max(2, args.step_samples)))
    if args.json:
        print(json.dumps(result, indent=2))
        print(table(result), file=sys.stderr)
    else:
        print(table(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
