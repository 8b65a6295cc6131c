"""Provides the Settings page: the effective configuration, secrets hidden, and where each value came from."""
from __future__ import annotations

from rich.cells import cell_len
from rich.text import Text
from textual.app import ComposeResult
from textual.widgets import DataTable, Static

from kiosk.maintenance import SettingRow
from kiosk.messages import N_
from screens.maintenance.page import ConsolePage


class SettingsPage(ConsolePage):
    """One row per setting: name, value, origin (arrows scroll)."""

    def compose(self) -> ComposeResult:
        yield Static(self.t("maint.settings.heading"), classes="page-heading")
        yield Static(self.t("maint.settings.lead"), classes="dim-text")
        yield DataTable(id="settings-table", cursor_type="row", zebra_stripes=True)
        yield from self.status_lines()

    rows: tuple[SettingRow, ...] = ()

    def load(self) -> None:
        self.run_io(self.mode.settings_rows, self.show_rows)

    def origin_text(self, origin: str) -> str:
        if origin == "default":
            return self.t("maint.settings.origin.default")
        if origin == "command line":
            return self.t("maint.settings.origin.command_line")
        return origin

    def show_rows(self, rows: list[SettingRow]) -> None:
        self.rows = tuple(rows)
        self.draw_rows()
        self.set_status(self.t("maint.settings.count", n=len(rows)))

    def draw_rows(self) -> None:
        # Every column within the page's width, long values and origins wrapped inside their cells (a row grows
        # taller): at 80 columns the origin column must not fall off the right edge.
        table = self.query_one("#settings-table", DataTable)
        hidden = self.t("maint.settings.hidden")
        cells = [(row.key, f"{row.value}  ({hidden})" if row.hidden else row.value, self.origin_text(row.origin))
                 for row in self.rows]
        titles = [self.t(key) for key in (
            N_("maint.settings.col.key"), N_("maint.settings.col.value"), N_("maint.settings.col.origin"))]
        room = max(40, (self.scrollable_content_region.width or 78) - 2 - 2 * 3)  # cell padding, scroll bar
        key_width = max([cell_len(titles[0]), *(cell_len(c[0]) for c in cells)])
        origin_width = min(max([cell_len(titles[2]), *(cell_len(c[2]) for c in cells)]), max(12, room // 4))
        value_width = max(12, room - key_width - origin_width)
        table.clear(columns=True)
        for title, width in zip(titles, (key_width, value_width, origin_width)):
            table.add_column(title, width=width)
        for key, value, origin in cells:
            table.add_row(key, Text(value, overflow="fold"), Text(origin, overflow="fold"), key=key, height=None)

    def on_resize(self) -> None:
        if self.rows:
            self.draw_rows()
