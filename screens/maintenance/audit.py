"""Provides the Audit log page: the newest events first, masked, filtered by kind, exported to CSV."""
from __future__ import annotations

from pathlib import Path

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Select, Static

from kiosk.registry import AuditRecord
from kiosk.messages import N_
from screens.maintenance.page import ConsolePage, local_time

ALL_KINDS = "*"


class AuditPage(ConsolePage):
    """The kind filter is a drop-down (Enter opens it); E exports to CSV, R refreshes."""


    def compose(self) -> ComposeResult:
        yield Static(self.t("maint.audit.heading"), classes="page-heading")
        with Horizontal(classes="page-inputs"):
            yield Select([(self.t("maint.audit.all"), ALL_KINDS)], value=ALL_KINDS, allow_blank=False,
                         id="audit-kind")
            yield Button(self.t("maint.audit.export"), id="audit-export", variant="primary",
                         disabled=self.mode.managed_by_service is not None)  # a service kiosk holds no audit trail
            yield Button(self.t("maint.refresh"), id="audit-refresh")
        yield DataTable(id="audit-table", cursor_type="row", zebra_stripes=True)
        yield from self.status_lines()

    def on_mount(self) -> None:
        self.query_one("#audit-table", DataTable).add_columns(*(self.t(key) for key in (
            N_("maint.audit.col.at"), N_("maint.audit.col.kind"), N_("maint.audit.col.kiosk"), N_("maint.audit.col.detail"))))
        super().on_mount()

    @property
    def kind(self) -> str | None:
        value = self.query_one("#audit-kind", Select).value
        return value if isinstance(value, str) and value != ALL_KINDS else None

    def load(self) -> None:
        kind = self.kind
        self.run_io(lambda: (self.mode.audit_kinds(), self.mode.audit_events(kind)), self.show_events)

    def action_refresh(self) -> None:
        self.load()

    def show_events(self, found: tuple[list[str], list[AuditRecord]]) -> None:
        kinds, events = found
        selector = self.query_one("#audit-kind", Select)
        current = selector.value
        with selector.prevent(Select.Changed):
            selector.set_options([(self.t("maint.audit.all"), ALL_KINDS), *((kind, kind) for kind in kinds)])
            selector.value = current if current in (ALL_KINDS, *kinds) else ALL_KINDS
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        for event in events:
            table.add_row(local_time(event.at), event.kind, event.kiosk_id, event.detail)
        self.set_status(self.t("maint.audit.count", n=len(events)))

    def on_select_changed(self, event: Select.Changed) -> None:
        event.stop()
        if event.select.id == "audit-kind":
            self.load()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "audit-export":
            self.action_export()
        elif event.button.id == "audit-refresh":
            self.load()

    def action_export(self) -> None:
        kind = self.kind
        self.run_io(lambda: self.mode.export_audit(kind), self.exported)

    def exported(self, path: Path) -> None:
        self.report(self.t("maint.audit.exported", path=str(path)))
        self.load()  # the export itself is audited: show that event too
