"""Kiosk benchmarks: `.venv/bin/python -m bench.run [--json]` from the project folder. See bench/README.md."""
from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from datetime import datetime, timezone
from pathlib import Path

from bench.common import ROOT, BenchError, progress


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Time the guardian's journey (headless and through the UI) and the kiosk's start-up.",
    )
    parser.add_argument("--json", action="store_true",
                        help="write the figures as JSON to stdout (the table then goes to stderr)")
    parser.add_argument("--reps", type=int, default=30, metavar="N",
                        help="benchmark 1: timed headless journeys per card (default 30)")
    parser.add_argument("--ui-runs", type=int, default=3, metavar="N",
                        help="benchmark 2: UI journeys per card typed with pilot.press (default 3)")
    parser.add_argument("--ui-posted-runs", type=int, default=5, metavar="N",
                        help="benchmark 2: UI journeys per card with keys posted to the app (default 5)")
    parser.add_argument("--startup-runs", type=int, default=5, metavar="N",
                        help="benchmark 3: start-ups of each program (default 5)")
    parser.add_argument("--only", action="append", choices=("headless", "ui", "startup"),
                        help="run only this benchmark (repeatable)")
    args = parser.parse_args(argv)
    for name in ("reps", "ui_runs", "ui_posted_runs", "startup_runs"):
        if getattr(args, name) < 1:
            parser.error(f"--{name.replace('_', '-')} must be at least 1")
    return args


def environment() -> dict:
    import textual

    return {
        "date": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "python": platform.python_version(),
        "textual": textual.__version__,
        "cpus": os.cpu_count(),
        "platform": platform.platform(terse=True),
        "load_average_at_start": [round(x, 2) for x in os.getloadavg()],
    }


# ---------------------------------------------------------------------------------------- table
def _ms(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value / 1000:.2f} s" if value >= 10_000 else f"{value:.1f} ms"


def _table(headers: list[str], rows: list[list[str]], indent: str = "   ") -> list[str]:
    widths = [max(len(str(cell)) for cell in column) for column in zip(headers, *rows)]
    def line(cells):
        first = str(cells[0]).ljust(widths[0])
        rest = [str(cell).rjust(width) for cell, width in zip(cells[1:], widths[1:])]
        return indent + "  ".join([first, *rest]).rstrip()
    return [line(headers), indent + "  ".join("-" * w for w in widths), *(line(r) for r in rows)]


def render(figures: dict) -> str:
    env = figures["environment"]
    out = [f"Kiosk benchmarks - Python {env['python']}, Textual {env['textual']}, {env['cpus']} CPUs, "
           f"load {env['load_average_at_start']} at start, {env['date']}"]
    headless = figures.get("headless")
    if headless:
        out += ["", "1. Headless journey: card insert -> ACTIVATION with a ticket (KioskSession driven directly)",
                f"   {headless['repetitions']} timed journeys per card (+{headless['warmup']} warm-up), "
                "each on a fresh SQLite data dir built before the clock starts"]
        rows = []
        for profile, card in headless["cards"].items():
            j = card["journey"]
            rows.append([f"{profile} ({card['label']})", _ms(j["median_ms"]), _ms(j["p95_ms"]), _ms(j["min_ms"]),
                         _ms(j["max_ms"]), str(card["apdus_per_read"]), str(card["apdus_to_card_per_journey"])])
        out += _table(["card", "median", "p95", "min", "max", "APDUs/read", "APDUs to card/journey"], rows)
        for profile, card in headless["cards"].items():
            parts = ", ".join(f"{name} {ms:.1f}" for name, ms in card["steps_median_ms"].items())
            out.append(f"   {profile} by step (median ms): {parts}")
        rows = []
        for label, key in (("DB creation (tables + demo data)", "db_creation"),
                           ("build_kiosk incl. DB creation", "kiosk_build_incl_db")):
            s = headless[key]
            rows.append([label, _ms(s["median_ms"]), _ms(s["p95_ms"]), _ms(s["min_ms"]), _ms(s["max_ms"])])
        out += ["", "   Set-up per repetition, not in the journey figures:"]
        out += _table(["", "median", "p95", "min", "max"], rows)
    ui = figures.get("ui")
    if ui:
        out += ["", f"2. UI journey, headless App.run_test at {ui['size'][0]}x{ui['size'][1]}: "
                "card insert -> ActivationScreen up with its QR",
                f"   keys typed with pilot.press as in tests/functional (n={ui['runs']}/card) and, for comparison,",
                f"   the same Key events posted straight to the app (n={ui['posted_runs']}/card); "
                f"warm-up journeys discarded: {ui['warmup']}"]
        rows = []
        for profile, card in ui["cards"].items():
            p, q, w = card["journey_pilot"], card["journey_posted"], card["run_test_to_welcome"]
            rows.append([profile, _ms(p["median_ms"]), f"{_ms(p['min_ms'])} .. {_ms(p['max_ms'])}",
                         _ms(q["median_ms"]), f"{_ms(q['min_ms'])} .. {_ms(q['max_ms'])}", _ms(w["median_ms"])])
        out += _table(["card", "pilot.press median", "min .. max", "posted median", "min .. max",
                       "run_test -> welcome"], rows)
        for error in ui.get("errors_logged", []):
            out.append(f"   ! logged by the app during the runs ({error['count']}x): {error['message']}")
    startup = figures.get("startup")
    if startup:
        out += ["", f"3. Start-up to first screen: spawn in a pty ({startup['terminal']}) until "
                f"the heading appears, n={startup['runs']} each",
                f"   searched text: {startup['needle']!r} (the welcome heading; the bare app shows the same text)"]
        rows = []
        for name, label in (("kiosk", "python kiosk.py"), ("bare", "bare Textual app (1 Static)")):
            s = startup[name]
            t, f = s["to_text"], s["to_first_output"]
            rss = f"{s['peak_rss_mib']} MiB" if s["peak_rss_mib"] is not None else "-"
            rows.append([label, _ms(t["median_ms"]), _ms(t["p95_ms"]), _ms(t["min_ms"]), _ms(t["max_ms"]),
                         _ms(f["median_ms"]), rss])
        out += _table(["program", "median", "p95", "min", "max", "first byte (median)", "peak RSS"], rows)
        out += [f"   ratio kiosk / bare (medians): {startup['ratio_kiosk_over_bare']}x"]
    out += ["", f"total bench time: {figures['total_seconds']:.1f} s"]
    return "\n".join(out)


# ---------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)  # kiosk.py and config/ are found relative to the project folder
    wanted = set(args.only or ("headless", "ui", "startup"))
    figures: dict = {"environment": environment()}
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as scratch:
            scratch_dir = Path(scratch)
            if "headless" in wanted:
                from bench import headless

                progress(f"bench: 1/3 headless journeys ({args.reps} per card)...")
                figures["headless"] = headless.run(args.reps, warmup=1, scratch=scratch_dir)
            if "ui" in wanted:
                from bench import ui

                progress(f"bench: 2/3 UI journeys ({args.ui_runs} + {args.ui_posted_runs} per card)...")
                figures["ui"] = ui.run(args.ui_runs, args.ui_posted_runs, warmup=1, scratch=scratch_dir)
            if "startup" in wanted:
                from bench import startup

                progress(f"bench: 3/3 start-up in a pty ({args.startup_runs} per program)...")
                figures["startup"] = startup.run(args.startup_runs, scratch=scratch_dir)
    except BenchError as exc:
        print(f"bench: {exc}", file=sys.stderr)
        return 1
    figures["total_seconds"] = round(time.perf_counter() - started, 2)
    table = render(figures)
    if args.json:
        print(table, file=sys.stderr)
        json.dump(figures, sys.stdout, indent=2, ensure_ascii=False)
        sys.stdout.write("\n")
    else:
        print(table)
    return 0


if __name__ == "__main__":
    sys.exit(main())
