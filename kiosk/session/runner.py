"""Provides InlineRunner: the effect runner of automation and tests, running the session's work on the caller's thread."""
from __future__ import annotations

import threading
from collections import deque
from typing import Callable


class InlineRunner:
    """Runs each job at once on the calling thread, in the order asked (`kiosk.ports.EffectRunner`).

    A job asked for while another runs on the same thread waits until that one is done, so the
    answers come in order and nothing nests. `hold()` makes jobs wait (a test looks at the
    moment between a step and its work, as a slow card would show it); `resume()` runs what waits.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._waiting: deque[tuple[Callable[[], None], str]] = deque()
        self._held = False
        self._local = threading.local()

    def run(self, job: Callable[[], None], name: str) -> None:
        with self._lock:
            self._waiting.append((job, name))
            if self._held:
                return
        self._drain()

    def hold(self) -> None:
        """From now on, jobs wait for `resume()`."""
        with self._lock:
            self._held = True

    def resume(self) -> None:
        """Run every job that waits (and those they ask for), then run jobs at once again."""
        with self._lock:
            self._held = False
        self._drain()

    @property
    def waiting(self) -> tuple[str, ...]:
        """The names of the jobs that wait, oldest first."""
        with self._lock:
            return tuple(name for _job, name in self._waiting)

    def _drain(self) -> None:
        if getattr(self._local, "draining", False):
            return  # the outer loop on this thread runs it next
        self._local.draining = True
        try:
            while True:
                with self._lock:
                    if self._held or not self._waiting:
                        return
                    job, _name = self._waiting.popleft()
                job()
        finally:
            self._local.draining = False
