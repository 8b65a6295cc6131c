"""Provides Terminal: a program on a fresh pseudo-terminal (its controlling terminal), whose output is read as it comes."""
from __future__ import annotations

import codecs
import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import termios
import time
from pathlib import Path

# CSI (ESC [ ... final), OSC (ESC ] ... BEL/ST), DCS/APC strings, two-character escapes.
_ESCAPES = re.compile(
    r"\x1b\[[0-?]*[ -/]*[@-~]"
    r"|\x1b[\]P_^][^\x07\x1b]*(?:\x07|\x1b\\)"
    r"|\x1b[@-Z\\-_]"
)


def _take_terminal() -> None:
    # In the child between fork and exec (after setsid): the pty becomes its controlling terminal.
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


class Terminal:
    """`with Terminal(command, env=..., cwd=...) as terminal: terminal.wait_for("text")`; the program is killed at the end."""

    def __init__(self, command: list[str], *, env: dict[str, str], cwd: Path, size: tuple[int, int] = (120, 40)) -> None:
        columns, rows = size
        self._master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        env = {**env, "TERM": "xterm-256color", "COLUMNS": str(columns), "LINES": str(rows)}
        self.process = subprocess.Popen(command, stdin=slave, stdout=slave, stderr=slave, cwd=cwd, env=env,
                                        start_new_session=True, preexec_fn=_take_terminal, close_fds=True)
        os.close(slave)
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self.raw = ""
        self._seen = 0

    @property
    def text(self) -> str:
        """Everything written so far, escape sequences removed."""
        return _ESCAPES.sub("", self.raw)

    def _read(self, timeout: float) -> bool:
        """Read what is there (waiting up to `timeout`); False once the program closed the terminal."""
        ready, _, _ = select.select([self._master], [], [], timeout)
        if not ready:
            return True
        try:
            chunk = os.read(self._master, 65536)
        except OSError:  # EIO: the program is gone and the terminal closed
            return False
        self.raw += self._decoder.decode(chunk)
        return bool(chunk)

    def wait_for(self, needle: str, timeout: float = 60.0) -> float:
        """Wait until `needle` shows in output not yet searched; returns the monotonic time it was read."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.text.find(needle, self._seen)
            if found >= 0:
                self._seen = found + len(needle)
                return time.monotonic()
            left = deadline - time.monotonic()
            if left <= 0 or not self._read(min(left, 0.2)):
                raise AssertionError(f"{needle!r} never appeared (exit status {self.process.poll()}); "
                                     f"last output: {self.text[-600:]!r}")

    def wait_exit(self, timeout: float = 60.0) -> int:
        """Wait for the program to end, reading its last output; returns its exit status."""
        deadline = time.monotonic() + timeout
        while self._read(0.2) and time.monotonic() < deadline:
            pass
        return self.process.wait(max(0.1, deadline - time.monotonic()))

    def __enter__(self) -> Terminal:
        return self

    def __exit__(self, *exc_info: object) -> None:
        if self.process.poll() is None:
            os.kill(self.process.pid, signal.SIGKILL)  # only the program this terminal started
        self.process.wait()
        os.close(self._master)
