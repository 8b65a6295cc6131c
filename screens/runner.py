"""Provides WorkerRunner: the app's effect runner, running the session's card and registry work in Textual thread workers."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Callable

from textual.message import Message

if TYPE_CHECKING:
    from textual.app import App


class StartWork(Message):
    """Work the session asked for on another thread (a reader's watcher, a worker): started on the app's thread."""

    def __init__(self, job: Callable[[], None], name: str) -> None:
        super().__init__()
        self.job = job
        self.work_name = name


class WorkerRunner:
    """`kiosk.ports.EffectRunner` for the app: every job in a thread worker of its own, so the UI never waits.

    Thread workers are started on the app's thread; a job asked for from any other thread gets
    there as a message (`post_message` is thread-safe and never blocks). The app forwards
    `StartWork` messages to `start`.
    """

    def __init__(self, app: App) -> None:
        self._app = app
        self._app_thread = threading.get_ident()  # made on the app's thread (on mount)

    def run(self, job: Callable[[], None], name: str) -> None:
        if threading.get_ident() == self._app_thread:
            self.start(job, name)
        else:
            self._app.post_message(StartWork(job, name))

    def start(self, job: Callable[[], None], name: str) -> None:
        """Start `job` in a thread worker (on the app's thread)."""
        self._app.run_worker(job, name=name, group="session", thread=True, exit_on_error=False)
