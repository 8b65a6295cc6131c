"""Benchmark 3: `python kiosk.py` in a pseudo-terminal, spawn to the welcome screen's heading on the terminal.

Next to it, a bare Textual app (one Static label) started the same way. The wall time runs from
just before the spawn to the moment the text is read off the pty's master side, so it includes
interpreter start-up, imports, settings, the registry (created on a fresh data dir every run),
the first compose and the first frame written to the terminal.
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


def welcome_heading() -> str:
    """The welcome screen's heading in the kiosk's default language (config/kiosk.toml)."""
    from kiosk.messages import message
    from kiosk.settings import load_settings

    language = load_settings(environ={}).settings.language
    return message("welcome.heading", language)


def _environment(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KIOSK_", "TEXTUAL"))}
    env.update(TERM="xterm-256color", KIOSK_DATA_DIR=str(data_dir), COLUMNS=str(COLUMNS), LINES=str(ROWS),
               LANG=env.get("LANG", "C.UTF-8"), PYTHONUNBUFFERED="1")
    env.pop("NO_COLOR", None)
    return env


def _take_terminal() -> None:
    # Runs in the child between fork and exec (after setsid): the pty becomes its controlling
    # terminal, as in a real login on the kiosk's console.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


def time_to_text(command: list[str], needle: str, env: dict[str, str], cwd: Path) -> dict:
    """Spawn `command` on a fresh pty; seconds until `needle` shows in its (unescaped) output; then kill it."""
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
    finally:
        rss_kb = _kill_and_reap(process)
        os.close(master)
    if found_at is None:
        tail = _ESCAPES.sub("", text)[-400:].strip()
        raise BenchError(f"{' '.join(command)}: {needle!r} never appeared within {TIMEOUT_S:.0f} s "
                         f"(exit {process.returncode}); last output: {tail!r}")
    return {
        "to_text_s": found_at - start,
        "to_first_output_s": first_output_at - start,
        "bytes_until_text": len(raw),
        "peak_rss_kb": rss_kb,
    }


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


def _kill_and_reap(process: subprocess.Popen) -> int | None:
    """Read the peak RSS, then SIGKILL the process we started (by its pid only) and reap it."""
    rss_kb = None
    if process.poll() is None:
        rss_kb = _peak_rss_kb(process.pid)
        os.kill(process.pid, signal.SIGKILL)
    process.wait()
    return rss_kb


def run(runs: int, scratch: Path | None = None) -> dict:
    heading = welcome_heading()
    python = sys.executable
    samples: dict[str, list[dict]] = {"kiosk": [], "bare": []}
    with tempfile.TemporaryDirectory(prefix="bench-startup-", dir=scratch) as tmp:
        bare = Path(tmp) / "bare_app.py"
        bare.write_text(BARE_APP.format(label=heading), encoding="utf-8")
        commands = {"kiosk": [python, "kiosk.py"], "bare": [python, str(bare)]}
        for index in range(runs):
            for name in ("kiosk", "bare"):  # interleaved, so drift in machine load hits both alike
                data_dir = Path(tmp) / f"data-{name}-{index}"
                samples[name].append(time_to_text(commands[name], heading, _environment(data_dir), ROOT))
    result: dict = {"runs": runs, "terminal": f"{COLUMNS}x{ROWS} TERM=xterm-256color", "needle": heading}
    for name, rows in samples.items():
        rss = [row["peak_rss_kb"] for row in rows if row["peak_rss_kb"] is not None]
        result[name] = {
            "command": " ".join(Path(part).name if part == python else part for part in commands[name])
            if name == "kiosk" else "python <tmp>/bare_app.py",
            "to_text": summary([row["to_text_s"] for row in rows]),
            "to_first_output": summary([row["to_first_output_s"] for row in rows]),
            "peak_rss_mib": round(max(rss) / 1024, 1) if rss else None,
            "bytes_until_text": max(row["bytes_until_text"] for row in rows),
        }
    kiosk_ms, bare_ms = result["kiosk"]["to_text"]["median_ms"], result["bare"]["to_text"]["median_ms"]
    result["ratio_kiosk_over_bare"] = round(kiosk_ms / bare_ms, 2) if bare_ms else None
    return result
