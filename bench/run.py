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

BENCHMARKS = ("headless", "ui", "startup", "pcsc")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.run",
        description="Time the guardian's journey (headless and through the UI), the kiosk's start-up, "
                    "and the card side over a private pcscd with virtual cards (vpcd).",
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
    parser.add_argument("--pcsc-reps", type=int, default=30, metavar="N",
                        help="benchmark 4: timed PC/SC reads (and floor passes) per card (default 30)")
    parser.add_argument("--pcsc-recovery-runs", type=int, default=5, metavar="N",
                        help="benchmark 4: pcscd kill/start cycles timed to the welcome screen (default 5)")
    parser.add_argument("--only", action="append", choices=BENCHMARKS,
                        help="run only this benchmark (repeatable)")
    args = parser.parse_args(argv)
    for name in ("reps", "ui_runs", "ui_posted_runs", "startup_runs", "pcsc_reps", "pcsc_recovery_runs"):
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
        out += _render_startup(startup)
    pcsc = figures.get("pcsc")
    if pcsc:
        out += _render_pcsc(pcsc)
    out += ["", f"total bench time: {figures['total_seconds']:.1f} s"]
    return "\n".join(out)


def _render_startup(startup: dict) -> list[str]:
    out = ["", f"3. Start-up to first screen: spawn in a pty ({startup['terminal']}) until "
               f"the heading appears, n={startup['runs']} each (+1 warm-up), interleaved",
           f"   searched text: {startup['needle']!r} (the welcome heading; the bare app shows the same text); "
           "bytecode cached as installed, but the uncompiled row; the service kiosk's first screen is out of service "
           f"({startup.get('service_needle', '-')!r}) until its monitor finds the service"]
    rows = []
    for name in ("kiosk", "bare", "kiosk_uncompiled", "kiosk_service"):
        if name not in startup:
            continue
        s = startup[name]
        t, f, opened = s["to_text"], s["to_first_output"], s["to_opened"]
        rss = f"{s['peak_rss_mib']} MiB" if s["peak_rss_mib"] is not None else "-"
        rss_opened = f"{s['peak_rss_opened_mib']} MiB" if s["peak_rss_opened_mib"] is not None else "-"
        cpu = s["cpu_to_text"].get("median_ms")
        rows.append([s["command"], _ms(t["median_ms"]), _ms(t["p95_ms"]), _ms(t["min_ms"]), _ms(t["max_ms"]),
                     _ms(f["median_ms"]), _ms(cpu), rss, _ms(opened["median_ms"]) if opened else "-", rss_opened])
    out += _table(["program", "median", "p95", "min", "max", "first byte (median)", "CPU (median)", "peak RSS",
                   "registry open (median)", "peak RSS then"], rows)
    start, rss = startup["ratio_kiosk_over_bare"], startup["rss_ratio_kiosk_over_bare"]

    def verdict(value: float | None, target: float) -> str:
        return "-" if value is None else f"{value}x ({'ok' if value <= target else 'OVER'}, target <= {target}x)"

    out += [f"   kiosk / bare: start-up (medians) {verdict(start, startup['start_target'])}, "
            f"peak RSS to the first screen {verdict(rss, startup['rss_target'])}",
            f"   CPU time to the first screen (load-independent), kiosk / bare: {startup['cpu_ratio_kiosk_over_bare']}x; "
            f"uncompiled kiosk / bare: start-up {startup['ratio_uncompiled_over_bare']}x"]
    if "ratio_service_over_bare" in startup:
        out.append(f"   service kiosk / bare: start-up (medians) "
                   f"{verdict(startup['ratio_service_over_bare'], startup['start_target'])}, "
                   f"CPU {startup['cpu_ratio_service_over_bare']}x")
    return out


def _wrap(text: str, indent: str, width: int = 110) -> list[str]:
    import textwrap

    return textwrap.wrap(text, width, initial_indent=indent, subsequent_indent=" " * len(indent) + "  ",
                         break_long_words=False, break_on_hyphens=False)


def _render_pcsc(pcsc: dict) -> list[str]:
    out = ["", "4. PC/SC: private pcscd + vpcd, virtual card in slot 0, PSAM in slot 1; read_card + verify_pin "
               "(ReaderCardService on the composition root's PcscReaders)",
           f"   n={pcsc['repetitions']}/card (+{pcsc['warmup']} warm-up); kiosk reads and floor passes alternate, "
           f"each after {pcsc['gap_ms']} ms quiet; floor = the kiosk's recorded APDUs replayed with bare SCardTransmit"]
    rows = []
    for profile, card in pcsc["cards"].items():
        k, f = card["kiosk"], card["floor"]
        apdus = card["apdus"]
        minimal = card["minimal"]
        rows.append([f"{profile} ({card['label']})", _ms(k["median_ms"]), _ms(k["p95_ms"]), _ms(k["min_ms"]),
                     _ms(f["median_ms"]), _ms(card["floor_open_once"]["median_ms"]),
                     f"{card['ratio_kiosk_over_floor']}x", f"{apdus['card']} + {apdus['psam']}",
                     f"{minimal['card']} + {minimal['psam']}"])
    out += _table(["card", "kiosk median", "p95", "min", "floor median", "floor, opened once", "kiosk/floor",
                   "APDUs card + PSAM", "spec minimum"], rows)
    verdicts = ", ".join(f"{profile} {card['ratio_kiosk_over_floor']}x "
                         f"({'ok' if card['within_target'] else 'OVER'}; median of pairs {card['ratio_median_of_pairs']}x, "
                         f"vs floor opened once {card['ratio_kiosk_over_floor_open_once']}x)"
                         for profile, card in pcsc["cards"].items())
    out += _wrap(f"target kiosk/floor <= {pcsc['target_ratio']}x: {verdicts}", "   ")
    out.append(f"   where the kiosk's time goes ({pcsc['profile_reads']} more reads with every PC/SC call timed, ms per read):")
    for profile, card in pcsc["cards"].items():
        prof = card["pcsc_calls"]
        others = ", ".join(f"{row['call']}[{row['slot']}] x{row['calls_per_read']:g} {row['ms_per_read']:.3f}"
                           for row in prof["calls"] if row["call"] != "SCardTransmit")
        transmits = sum(row["calls_per_read"] for row in prof["calls"] if row["call"] == "SCardTransmit")
        protocol = card["protocol_code_without_pcsc"]["median_ms"]
        py = prof["python_ms_per_read"]
        text = (f"{profile}: {prof['total_ms_per_read']:.2f} per read = SCardTransmit x{transmits:g} "
                f"{prof['transmit_ms_per_read']:.2f} (the floor's APDUs) + {prof['other_pcsc_calls_per_read']:g} other "
                f"PC/SC calls {prof['other_pcsc_calls_ms_per_read']:.2f} ({others}) + Python "
                f"{prof['outside_pcsc_ms_per_read']:.2f} [PcscConnection.transmit around SCardTransmit "
                f"{py['pcsc_transmit_glue_ms']:.2f} ({py['pcsc_transmit_glue_us_per_apdu']:g} us/APDU), PcscReader.connect/"
                f"transaction/close around their calls {py['pcsc_connect_transaction_glue_ms']:.2f}, ApduChannel "
                f"{py['apdu_channel_ms']:.2f}, sscard/service/psam/codec {py['card_protocol_ms']:.2f}]; the protocol "
                f"code alone, over a direct connection without PC/SC: {protocol:.2f}; "
                f"release (SCardReconnect with card reset, the handle kept for the next session; not timed) {card['release']['median_ms']:.2f}")
        if prof["other_threads_calls_per_read"]:
            text += f"; other threads during the reads: {prof['other_threads_calls_per_read']}"
        out += _wrap(text, "   - ")
    out.append("   APDUs (card + PSAM) against the spec's minimal reads (see bench/README.md for the rule):")
    for profile, card in pcsc["cards"].items():
        minimal = card["minimal"]
        made = minimal["made_of"]
        extra = "; ".join(f"#{e['index']} {e['what']}" for e in minimal["kiosk_extra"]) or "none"
        missing = "; ".join(f"#{m['index']} {m['what']}" for m in minimal["kiosk_missing"]) or "none"
        flow = card["session_flow"]["card_apdus"]
        text = (f"{profile}: kiosk {card['apdus']['card']} + {card['apdus']['psam']} (read_card's apdu_count "
                f"{card['apdus']['card_read_card_apdu_count']} + VERIFY), minimum {minimal['card']} + {minimal['psam']} = "
                f"{made['spec_commands']} spec commands + {made['get_response_forced_by_61xx']} GET RESPONSE after 61xx + "
                f"{made['resend_forced_by_6Cxx']} re-send after 6Cxx; same sequence: "
                f"{'yes' if minimal['same_as_kiosk'] else 'no'}; extra: {extra}; missing: {missing}. "
                f"Session over PC/SC: read_card {flow['read_card']}, check_pin_tries {flow['check_pin_tries']} "
                f"(the PIN step's VERIFY without data, sent by the session, not by read_card), submit_pin {flow['submit_pin']}; "
                f"floor answers identical to the kiosk's: {'yes' if card['floor_responses_identical'] else 'NO'}")
        out += _wrap(text, "   - ")
        out += _wrap(f"sequence: {card['sequence_text']}", "       ")
    for key, label in (("recovery", "pcscd started again as soon as the out-of-service screen is up"),
                       ("recovery_after_outage", None)):
        rec = pcsc.get(key)
        if not rec:
            continue
        if label is None:
            label = f"pcscd started again {rec['hold_s']:g} s after the out-of-service screen"
        text = (f"pcscd back -> WelcomeScreen (App.run_test, reader=pcsc), {label}, n={rec['runs']}: "
                f"start->welcome median {_ms(rec['start_to_welcome']['median_ms'])} "
                f"({_ms(rec['start_to_welcome']['min_ms'])} .. {_ms(rec['start_to_welcome']['max_ms'])}); "
                f"of which pcscd start->readers listed {_ms(rec['start_to_listed']['median_ms'])}, listed->session at "
                f"WELCOME {_ms(rec['listed_to_session_welcome']['median_ms'])}, session->WelcomeScreen up "
                f"{_ms(rec['session_to_welcome_screen']['median_ms'])}; kill->OutOfServiceScreen "
                f"{_ms(rec['kill_to_out_of_service']['median_ms'])}")
        out += _wrap(text, "   ")
        slow = [run for run in rec["each_run"] if run["kill_to_out_of_service_ms"] > 200]
        if slow:
            out += _wrap(f"slow kill->out-of-service in {len(slow)} of {rec['runs']} runs: "
                         + ", ".join(f"{run['kill_to_out_of_service_ms']:.0f} ms" for run in slow), "     ")
    for warning in pcsc.get("warnings_logged", []):
        out += _wrap(f"! logged during {warning['phase']} ({warning['thread']}): {warning['message']}", "   ")
    return out


# ---------------------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    os.chdir(ROOT)  # kiosk.py and config/ are found relative to the project folder
    wanted = set(args.only or BENCHMARKS)
    figures: dict = {"environment": environment()}
    started = time.perf_counter()
    try:
        with tempfile.TemporaryDirectory(prefix="kiosk-bench-") as scratch:
            scratch_dir = Path(scratch)
            if "headless" in wanted:
                from bench import headless

                progress(f"bench: 1/4 headless journeys ({args.reps} per card)...")
                figures["headless"] = headless.run(args.reps, warmup=1, scratch=scratch_dir)
            if "ui" in wanted:
                from bench import ui

                progress(f"bench: 2/4 UI journeys ({args.ui_runs} + {args.ui_posted_runs} per card)...")
                figures["ui"] = ui.run(args.ui_runs, args.ui_posted_runs, warmup=1, scratch=scratch_dir)
            if "startup" in wanted:
                from bench import startup

                progress(f"bench: 3/4 start-up in a pty ({args.startup_runs} per program)...")
                figures["startup"] = startup.run(args.startup_runs, scratch=scratch_dir)
            if "pcsc" in wanted:
                from bench import pcsc

                progress(f"bench: 4/4 PC/SC over a private pcscd + vpcd ({args.pcsc_reps} reads per card, "
                         f"{args.pcsc_recovery_runs} pcscd restarts)...")
                figures["pcsc"] = pcsc.run(args.pcsc_reps, recovery_runs=args.pcsc_recovery_runs, scratch=scratch_dir)
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
