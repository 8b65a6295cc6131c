"""Provides the Logs page: the newest lines of the kiosk's own rotating log, ID numbers masked."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Log, Static

from kiosk.text import line_breaks
from screens.maintenance.page import ConsolePage, local_time


class LogsPage(ConsolePage):
    """R reads the log again; arrows and Page Up/Down scroll it. Long lines wrap (a continuation is indented):
    a log line cut at the edge of an 80-column console hides the very part a technician looks for."""

    source_lines: tuple[str, ...] = ()

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
        self.source_lines = tuple(lines or [self.t("maint.logs.empty")])
        self.draw_lines()
        self.set_status(self.t("maint.logs.count", n=len(lines), time=local_time(self.mode.clock.now())))

    def draw_lines(self) -> None:
        log = self.query_one("#log-lines", Log)
        width = max(20, log.scrollable_content_region.width - 1 or 78)
        wrapped: list[str] = []
        for line in self.source_lines:
            cuts = [0, *line_breaks(line, width), len(line)]
            pieces = [line[a:b].rstrip() for a, b in zip(cuts, cuts[1:])]
            wrapped.append(pieces[0])
            # Continuations indented: each log line still starts at the left edge, where its time stamp is.
            wrapped.extend(_rewrapped(" ".join(pieces[1:]), width - 2) if len(pieces) > 1 else [])
        log.clear()
        log.write_lines(wrapped)
        log.scroll_end(animate=False)

    def on_resize(self) -> None:
        if self.source_lines:
            self.draw_lines()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "logs-refresh":
            self.load()


def _rewrapped(rest: str, width: int) -> list[str]:
    """The rest of a long log line, as lines of at most `width` cells, each indented by two spaces."""
    cuts = [0, *line_breaks(rest, width), len(rest)]
    return ["  " + rest[a:b].rstrip() for a, b in zip(cuts, cuts[1:]) if rest[a:b].strip()]
