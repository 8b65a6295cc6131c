"""Provides the Logs page: the newest lines of the kiosk's own rotating log, ID numbers masked."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Log, Static

from screens.maintenance.page import ConsolePage, local_time


class LogsPage(ConsolePage):
    """R reads the log again; arrows and Page Up/Down scroll it."""


    def compose(self) -> ComposeResult:
        yield Static(self.t("maint.logs.heading"), classes="page-heading")
        yield Static(self.t("maint.logs.file", path=str(self.mode.log_file or "-")), classes="dim-text", markup=False)
        yield Log(id="log-lines", highlight=False)
        with Horizontal(classes="page-buttons"):
            yield Button(self.t("maint.refresh"), id="logs-refresh")
        yield from self.status_lines()

    def load(self) -> None:
        self.run_io(self.mode.log_lines, self.show_lines)

    def action_refresh(self) -> None:
        self.load()

    def show_lines(self, lines: list[str]) -> None:
        log = self.query_one("#log-lines", Log)
        log.clear()
        log.write_lines(lines or [self.t("maint.logs.empty")])
        log.scroll_end(animate=False)
        self.set_status(self.t("maint.logs.count", n=len(lines), time=local_time(self.mode.clock.now())))

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "logs-refresh":
            self.load()
