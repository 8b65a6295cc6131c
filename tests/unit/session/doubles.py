"""Provides stand-ins for the outside world that stops answering: a runner with threads, calls that hang, a waiter."""
from __future__ import annotations

import threading
import time
from dataclasses import dataclass


class ThreadRunner:
    """An effect runner with a thread of its own for every job, as the app's thread workers run them."""

    def __init__(self) -> None:
        self.threads: list[threading.Thread] = []

    def run(self, job, name: str) -> None:
        thread = threading.Thread(target=job, name=name, daemon=True)
        self.threads.append(thread)
        thread.start()

    def join(self, timeout: float = 10.0) -> None:
        """Wait for every job to end (each one that was let go)."""
        for thread in list(self.threads):
            thread.join(timeout)
            assert not thread.is_alive(), f"{thread.name} never ended"


class Stuck:
    """Calls that hang until the test lets them go (`go()`): a card, pcscd or a registry that stops answering.

    Wraps a real card service or registry; the calls named in `stuck` wait, every other goes through.
    """

    def __init__(self, real, *stuck: str) -> None:
        self._real = real
        self._stuck = set(stuck)
        self._go = threading.Event()
        self.entered = {name: threading.Event() for name in stuck}
        self.calls: list[str] = []

    def go(self) -> None:
        self._go.set()

    def __getattr__(self, name: str):
        attribute = getattr(self._real, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            self.calls.append(name)
            if name in self._stuck:
                self.entered[name].set()
                assert self._go.wait(20), f"{name} was never let go"
            return attribute(*args, **kwargs)

        return call


class Waiter:
    """Waits (on the session's views, never a sleep) until a condition on the session holds."""

    def __init__(self, session) -> None:
        self.session = session
        self._changed = threading.Condition()
        session.subscribe(self._notify)

    def _notify(self, view) -> None:
        with self._changed:
            self._changed.notify_all()

    def until(self, predicate, timeout: float = 10.0):
        deadline = time.monotonic() + timeout
        with self._changed:
            while not predicate(self.session.view):
                left = deadline - time.monotonic()
                assert left > 0, f"never came true; session at {self.session.view}"
                self._changed.wait(min(left, 0.2))
        return self.session.view


@dataclass
class OwnSession:
    """A session of the test's own, and what it is made of."""

    session: object
    card: object  # the card service the session uses (`Stuck`, or the real one)
    service: object  # the real card service
    registry: object  # the registry the session uses (`Stuck`, or the real one)
    bench: object
    runner: object
    waiter: Waiter
