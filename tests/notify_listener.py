"""Provides NotifyListener: a datagram socket where systemd's NOTIFY_SOCKET would be, for the sd_notify tests."""
from __future__ import annotations

import socket
import threading
import time
from pathlib import Path


class NotifyListener:
    """A datagram socket where systemd's would be, collecting (monotonic time, message) pairs on a thread."""

    def __init__(self, path: Path) -> None:
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.socket.bind(str(path))
        self.socket.settimeout(0.2)
        self.messages: list[tuple[float, str]] = []
        self.changed = threading.Condition()
        self._stop = threading.Event()
        self.thread = threading.Thread(target=self._receive, daemon=True)
        self.thread.start()

    def _receive(self) -> None:
        while not self._stop.is_set():
            try:
                data = self.socket.recv(4096)
            except TimeoutError:
                continue
            with self.changed:
                self.messages.append((time.monotonic(), data.decode()))
                self.changed.notify_all()

    def wait_until(self, enough, timeout: float) -> list[tuple[float, str]]:
        with self.changed:
            assert self.changed.wait_for(lambda: enough(self.messages), timeout), f"got only {self.messages}"
            return list(self.messages)

    def close(self) -> None:
        self._stop.set()
        self.thread.join()
        self.socket.close()
