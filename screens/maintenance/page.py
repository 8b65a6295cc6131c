"""Provides ConsolePage: one page of the maintenance console, whose database and card work runs in thread workers."""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Callable, TypeVar

from textual.app import ComposeResult
from textual.containers import VerticalScroll
from textual.widgets import Static

from kiosk.errors import CATALOGUE, KioskError
from kiosk.maintenance import MaintenanceMode
from kiosk.messages import message

if TYPE_CHECKING:
    from screens.app import KioskApp

Result = TypeVar("Result")


def local_time(moment: datetime | None) -> str:
    """A stored UTC time as the kiosk's local time ("-" for none)."""
    return moment.astimezone().strftime("%Y-%m-%d %H:%M:%S") if moment is not None else "-"


class ConsolePage(VerticalScroll):
    """A page: `load` fetches what it shows (in a worker), `status` says what happened last."""

    def __init__(self, mode: MaintenanceMode, lang: str, *, id: str) -> None:  # noqa: A002 - Textual's name
        super().__init__(id=id, classes="console-page")
        self.mode = mode
        self.lang = lang

    @property
    def kiosk(self) -> "KioskApp":
        return self.app  # type: ignore[return-value]

    def t(self, key: str, **values: object) -> str:
        return message(key, self.lang, **values)

    def on_mount(self) -> None:
        self.load()

    def load(self) -> None:
        """Fetch and show the page's data again."""

    def run_io(self, work: Callable[[], Result], done: Callable[[Result], None]) -> None:
        """Run `work` (database or card I/O) in a thread worker, then `done(result)` on the UI thread.

        A catalogued failure, a bad input (ValueError) or a file problem is shown in the page's status line.
        """

        app = self.app

        def deliver(show: Callable[..., None], *args: object) -> None:
            # The console may have closed meanwhile (idle, Esc): nothing left to show it on.
            if self.is_attached:
                show(*args)

        def job() -> None:
            try:
                result = work()
            except KioskError as exc:
                outcome: tuple = (self.show_failure, exc.code, exc.detail)
            except (ValueError, OSError, RuntimeError) as exc:
                outcome = (self.show_failure, None, str(exc))
            else:
                outcome = (done, result)
            try:
                app.call_from_thread(deliver, *outcome)
            except RuntimeError:  # the app is shutting down (exit from the Service page)
                pass

        self.run_worker(job, thread=True, exit_on_error=False, group=f"page-{self.id}")

    def show_failure(self, code: str | None, detail: str) -> None:
        """The catalogued words for `code` (for technicians, with the detail)."""
        if code is not None:
            entry = CATALOGUE.get(code, CATALOGUE["INTERNAL"])
            text = f"{code}: {entry.text.get(self.lang)} {detail}".strip()
        else:
            text = self.t("maint.failed", detail=detail)
        self.report(text, failure=True)

    def report(self, text: str, failure: bool = False) -> None:
        """What the technician's last action came to (stays until the next action)."""
        self._update(".page-result", text, failure)

    def set_status(self, text: str, failure: bool = False) -> None:
        """What the page shows now (counts, when it was read)."""
        self._update(".page-status", text, failure)

    def _update(self, selector: str, text: str, failure: bool) -> None:
        for line in self.query(selector).results(Static):
            line.update(text)
            line.set_class(failure, "failure-text")

    def status_lines(self) -> ComposeResult:
        yield Static("", classes="page-result", markup=False)
        yield Static("", classes="page-status", markup=False)
