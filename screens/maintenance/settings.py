"""Provides the Settings page: the effective configuration, secrets hidden, and where each value came from."""
from __future__ import annotations

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

    def on_mount(self) -> None:
        self.query_one("#settings-table", DataTable).add_columns(*(self.t(key) for key in (
            N_("maint.settings.col.key"), N_("maint.settings.col.value"), N_("maint.settings.col.origin"))))
        super().on_mount()

    def load(self) -> None:
        self.run_io(self.mode.settings_rows, self.show_rows)

    def origin_text(self, origin: str) -> str:
        if origin == "default":
            return self.t("maint.settings.origin.default")
        if origin == "command line":
            return self.t("maint.settings.origin.command_line")
        return origin

    def show_rows(self, rows: list[SettingRow]) -> None:
        table = self.query_one("#settings-table", DataTable)
        table.clear()
        for row in rows:
            hidden = self.t("maint.settings.hidden")
            value = f"{row.value}  ({hidden})" if row.hidden else row.value
            table.add_row(row.key, value, self.origin_text(row.origin), key=row.key)
        self.set_status(self.t("maint.settings.count", n=len(rows)))
