"""Benchmark 3: `python kiosk.py` in a pseudo-terminal, spawn to the welcome screen's heading on the terminal.

Next to it, a bare Textual app (one Static label) started the same way. The wall time runs from
just before the spawn to the moment the text is read off the pty's master side, so it includes
interpreter start-up, imports, settings, the first compose and the first frame written to the
terminal. The kiosk opens its registry (created on a fresh data dir every run) after that frame;
the time and peak RSS until its log says it is open are measured too. A fourth row is a kiosk whose registry
is the registry service (a URL where nothing answers): its first screen is the out-of-service one.

Both programs run with their bytecode cached, as an installed kiosk is (pip compiles it): a private
PYTHONPYCACHEPREFIX in the scratch dir, filled by one discarded warm-up start of each. A third row
is the kiosk as a development checkout runs it under PYTHONDONTWRITEBYTECODE=1: the project's own
modules are compiled from source at every start.
"""
from __future__ import annotations

import codecs
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import tempfile
import termios
import time
from pathlib import Path

from bench.common import ROOT, BenchError, summary

COLUMNS, ROWS = 120, 40
TIMEOUT_S = 30.0
# CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST), DCS/APC strings, two-character escapes.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[@-Z\\-_]"
)

BARE_APP = '''\
from textual.app import App, ComposeResult
from textual.widgets import Static


class Bare(App):
    def compose(self) -> ComposeResult:
        yield Static({label!r})


if __name__ == "__main__":
    Bare().run()
'''


START_TARGET = 1.5
"""The kiosk's start-up may take at most this many times the bare app's (medians, same run)."""
RSS_TARGET = 2.0
"""The kiosk's peak RSS up to its first screen may be at most this many times the bare app's."""
OPENED_LINE = "start-up: registry open"
"""What the kiosk logs once its background opening is done (ecard_kiosk/opening.py)."""


SERVICE_URL = "http://127.0.0.1:9"
"""The service kiosk's registry: nothing answers there (port 9, discard), so its first screen is the out-of-service
one until the monitor finds the service (never, here): the start-up measured is the kiosk's own, not the service's."""


def out_of_service_heading() -> str:
    """The out-of-service screen's heading in the kiosk's default language: the service kiosk's first screen."""
    from kiosk.messages import message
    from kiosk.settings import load_settings

    return message("oos.heading", load_settings(environ={}).settings.language)


def welcome_heading() -> str:
    """The welcome screen's heading in the kiosk's default language (config/kiosk.toml)."""
    from kiosk.messages import message
    from kiosk.settings import load_settings

    language = load_settings(environ={}).settings.language
    return message("welcome.heading", language)


def _environment(data_dir: Path, pycache: Path | None) -> dict[str, str]:
    """The programs' environment; `pycache`: bytecode cached there (None: none written, as PYTHONDONTWRITEBYTECODE=1)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "TEXTUAL", "PYTHONPYCACHEPREFIX"))}
    env.update(TERM="xterm-256color", KIOSK_DATA_DIR=str(data_dir), COLUMNS=str(COLUMNS), LINES=str(ROWS),
               LANG=env.get("LANG", "C.UTF-8"), PYTHONUNBUFFERED="1")
    env.pop("NO_COLOR", None)
    if pycache is None:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    else:
        env.pop("PYTHONDONTWRITEBYTECODE", None)
        env["PYTHONPYCACHEPREFIX"] = str(pycache)
    return env


def _take_terminal() -> None:
    # Runs in the child between fork and exec (after setsid): the pty becomes its controlling
    # terminal, as in a real login on the kiosk's console.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def time_to_text(command: list[str], needle: str, env: dict[str, str], cwd: Path,
                 opened_log: Path | None = None) -> dict:
    """Spawn `command` on a fresh pty; seconds until `needle` shows in its (unescaped) output; then kill it.

    With `opened_log`, it is killed only once that log file holds OPENED_LINE (the kiosk's
    registry is open): its time and the peak RSS by then are in the result too.
    """
    master, slave = os.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", ROWS, COLUMNS, 0, 0))
    decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
    raw = bytearray()
    text = ""
    found_at = first_output_at = None
    start = time.perf_counter()
    process = subprocess.Popen(
        command, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
        start_new_session=True, preexec_fn=_take_terminal, close_fds=True,
    )
    os.close(slave)
    try:
        deadline = start + TIMEOUT_S
        while found_at is None:
            left = deadline - time.perf_counter()
            if left <= 0:
                break
            ready, _, _ = select.select([master], [], [], min(left, 0.5))
            if not ready:
                if process.poll() is not None:
                    break
                continue
            try:
                chunk = os.read(master, 65536)
            except OSError:  # EIO: the child closed the terminal
                break
            now = time.perf_counter()
            if not chunk:
                break
            if first_output_at is None:
                first_output_at = now
            raw += chunk
            text += decoder.decode(chunk)
            if needle in _ESCAPES.sub("", text):
                found_at = now
        rss_kb = _peak_rss_kb(process.pid) if found_at is not None else None
        cpu_s = _cpu_seconds(process.pid) if found_at is not None else None
        opened_at = opened_rss_kb = None
        while found_at is not None and opened_log is not None and time.perf_counter() < deadline:
            if _log_says_opened(opened_log):
                opened_at = time.perf_counter()
                opened_rss_kb = _peak_rss_kb(process.pid)
                break
            ready, _, _ = select.select([master], [], [], 0.02)
            if ready:
                try:
                    os.read(master, 65536)  # keep the terminal drained: a full pty would block the kiosk
                except OSError:
                    break
    finally:
        _kill_and_reap(process)
        os.close(master)
    if found_at is None:
        tail = _ESCAPES.sub("", text)[-400:].strip()
        raise BenchError(f"{' '.join(command)}: {needle!r} never appeared within {TIMEOUT_S:.0f} s "
                         f"(exit {process.returncode}); last output: {tail!r}")
    if opened_log is not None and opened_at is None:
        raise BenchError(f"{' '.join(command)}: its log never said {OPENED_LINE!r} within {TIMEOUT_S:.0f} s")
    return {
        "to_text_s": found_at - start,
        "to_first_output_s": first_output_at - start,
        "bytes_until_text": len(raw),
        "peak_rss_kb": rss_kb,
        "cpu_s": cpu_s,
        "to_opened_s": None if opened_at is None else opened_at - start,
        "peak_rss_opened_kb": opened_rss_kb,
    }


def _log_says_opened(log_file: Path) -> bool:
    try:
        return OPENED_LINE in log_file.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False


def _peak_rss_kb(pid: int) -> int | None:
    """VmHWM of a live process: the peak resident set of its current program (after exec), in KiB.

    (wait4's ru_maxrss is no good here: Linux carries the forking parent's high-water mark into
    the child, so a bench process that has grown would show up as the kiosk's peak.)
    """
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as handle:
            for line in handle:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError, IndexError):
        return None
    return None


def _cpu_seconds(pid: int) -> float | None:
    """CPU time (user + system) a live process has used so far: what it did, however loaded the machine is."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as handle:
            fields = handle.read().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")  # utime, stime (fields 14, 15)


def _kill_and_reap(process: subprocess.Popen) -> None:
    """SIGKILL the process we started (by its pid only) and reap it."""
    if process.poll() is None:
        os.kill(process.pid, signal.SIGKILL)
    process.wait()


PROGRAMS = {
    "kiosk": "python kiosk.py",
    "bare": "bare Textual app (1 Static)",
    "kiosk_uncompiled": "python kiosk.py, PYTHONDONTWRITEBYTECODE=1",
    "kiosk_service": f"python kiosk.py, registry = {SERVICE_URL}",
}


def run(runs: int, scratch: Path | None = None) -> dict:
    heading = welcome_heading()
    python = sys.executable
    samples: dict[str, list[dict]] = {name: [] for name in PROGRAMS}
    with tempfile.TemporaryDirectory(prefix="bench-startup-", dir=scratch) as tmp:
        bare = Path(tmp) / "bare_app.py"
        bare.write_text(BARE_APP.format(label=heading), encoding="utf-8")
        pycache = Path(tmp) / "pycache"
        credential = Path(tmp) / "kiosk.credential"
        credential.write_text("bench-" + "k" * 40 + "\n", encoding="ascii")
        commands = {"kiosk": [python, "kiosk.py"], "bare": [python, str(bare)], "kiosk_uncompiled": [python, "kiosk.py"],
                    "kiosk_service": [python, "kiosk.py"]}
        caches = {"kiosk": pycache, "bare": pycache, "kiosk_uncompiled": None, "kiosk_service": pycache}
        needles = {name: heading for name in PROGRAMS}
        needles["kiosk_service"] = out_of_service_heading()
        for index in range(-1, runs):  # run -1 is the warm-up that fills the bytecode cache; discarded
            for name in PROGRAMS:  # interleaved, so drift in machine load hits all alike
                data_dir = Path(tmp) / f"data-{name}-{index}"
                # The service kiosk opens no registry of its own: nothing to wait for after its first screen.
                opened_log = data_dir / "logs" / "kiosk.log" if name not in ("bare", "kiosk_service") else None
                env = _environment(data_dir, caches[name])
                if name == "kiosk_service":
                    env.update(KIOSK_REGISTRY=SERVICE_URL, KIOSK_REGISTRY_CREDENTIAL_FILE=str(credential))
                sample = time_to_text(commands[name], needles[name], env, ROOT, opened_log)
                if index >= 0:
                    samples[name].append(sample)
    result: dict = {"runs": runs, "terminal": f"{COLUMNS}x{ROWS} TERM=xterm-256color", "needle": heading,
                    "start_target": START_TARGET, "rss_target": RSS_TARGET}
    for name, rows in samples.items():
        rss = [row["peak_rss_kb"] for row in rows if row["peak_rss_kb"] is not None]
        rss_opened = [row["peak_rss_opened_kb"] for row in rows if row["peak_rss_opened_kb"] is not None]
        opened = [row["to_opened_s"] for row in rows if row["to_opened_s"] is not None]
        result[name] = {
            "command": PROGRAMS[name],
            "to_text": summary([row["to_text_s"] for row in rows]),
            "to_first_output": summary([row["to_first_output_s"] for row in rows]),
            "cpu_to_text": summary([row["cpu_s"] for row in rows if row["cpu_s"] is not None]),
            "to_opened": summary(opened) if opened else None,
            "peak_rss_mib": round(max(rss) / 1024, 1) if rss else None,
            "peak_rss_opened_mib": round(max(rss_opened) / 1024, 1) if rss_opened else None,
            "bytes_until_text": max(row["bytes_until_text"] for row in rows),
        }
    kiosk, bare_figures = result["kiosk"], result["bare"]
    kiosk_ms, bare_ms = kiosk["to_text"]["median_ms"], bare_figures["to_text"]["median_ms"]
    result["ratio_kiosk_over_bare"] = round(kiosk_ms / bare_ms, 2) if bare_ms else None
    kiosk_cpu, bare_cpu = kiosk["cpu_to_text"].get("median_ms"), bare_figures["cpu_to_text"].get("median_ms")
    result["cpu_ratio_kiosk_over_bare"] = round(kiosk_cpu / bare_cpu, 2) if kiosk_cpu and bare_cpu else None
    uncompiled_ms = result["kiosk_uncompiled"]["to_text"]["median_ms"]
    result["ratio_uncompiled_over_bare"] = round(uncompiled_ms / bare_ms, 2) if bare_ms else None
    service = result["kiosk_service"]
    result["service_needle"] = needles["kiosk_service"]
    result["ratio_service_over_bare"] = round(service["to_text"]["median_ms"] / bare_ms, 2) if bare_ms else None
    service_cpu = service["cpu_to_text"].get("median_ms")
    result["cpu_ratio_service_over_bare"] = round(service_cpu / bare_cpu, 2) if service_cpu and bare_cpu else None
    if kiosk["peak_rss_mib"] and bare_figures["peak_rss_mib"]:
        result["rss_ratio_kiosk_over_bare"] = round(kiosk["peak_rss_mib"] / bare_figures["peak_rss_mib"], 2)
    else:
        result["rss_ratio_kiosk_over_bare"] = None
    return result
