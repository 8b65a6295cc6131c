"""Provides the Activations page: the pending registrations (masked), cancelling one, and purging expired codes."""
from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Static

from kiosk.maintenance import DatabaseReport
from kiosk.maintenance.mode import PURGE_GRACE_SECONDS
from kiosk.registry import PendingActivation
from screens.maintenance.confirm import ConfirmDialog
from kiosk.messages import N_
from screens.maintenance.page import ConsolePage, local_time


class ActivationsPage(ConsolePage):
    """Arrows pick a registration; X (or the button) cancels it, P purges expired codes, R refreshes."""


    def __init__(self, *args, **kwargs) -> None:  # noqa: ANN002, ANN003 - ConsolePage's
        super().__init__(*args, **kwargs)
        self.pending: list[PendingActivation] = []

    def compose(self) -> ComposeResult:
        yield Static(self.t("maint.act.heading"), classes="page-heading")
        table: DataTable = DataTable(id="pending-table", cursor_type="row", zebra_stripes=True)
        yield table
        with Horizontal(classes="page-buttons"):
            # A service kiosk's registrations are the service operator's to cancel and purge.
            managed = self.mode.managed_by_service is not None
            yield Button(self.t("maint.act.cancel"), id="act-cancel", variant="error", disabled=managed)
            yield Button(self.t("maint.act.purge"), id="act-purge", variant="warning", disabled=managed)
            yield Button(self.t("maint.refresh"), id="act-refresh")
        yield Static("", id="expired-codes")
        yield from self.status_lines()

    def on_mount(self) -> None:
        table = self.query_one("#pending-table", DataTable)
        table.add_columns(*(self.t(key) for key in (
            N_("maint.act.col.ecard"), N_("maint.act.col.child"), N_("maint.act.col.child_id"), N_("maint.act.col.applicant"),
            N_("maint.act.col.registered"), N_("maint.act.col.kiosk"), N_("maint.act.col.code_until"))))
        super().on_mount()

    def load(self) -> None:
        self.run_io(lambda: (self.mode.pending_activations(), self.mode.database_report()), self.show_pending)

    def action_refresh(self) -> None:
        self.load()

    def show_pending(self, found: tuple[list[PendingActivation], DatabaseReport]) -> None:
        pending, report = found
        self.pending = pending
        table = self.query_one("#pending-table", DataTable)
        table.clear()
        for entry in pending:
            table.add_row(str(entry.ecard_id), entry.child_masked_name, entry.child_masked_id,
                          entry.applicant_masked_id, local_time(entry.created_at), entry.kiosk_id,
                          local_time(entry.code_expires_at), key=str(entry.ecard_id))
        expired = report.counts.expired_tickets if report.counts is not None else "-"
        schedule = (self.t("maint.act.schedule", hours=self.mode.purge_hours) if self.mode.purge_hours
                    else self.t("maint.act.schedule_off"))
        self.query_one("#expired-codes", Static).update(self.t(
            "maint.act.expired", n=expired, minutes=PURGE_GRACE_SECONDS // 60) + " " + schedule)
        self.set_status(self.t("maint.act.count", n=len(pending)) if pending else self.t("maint.act.none"))

    def selected(self) -> PendingActivation | None:
        table = self.query_one("#pending-table", DataTable)
        if not self.pending or table.cursor_row < 0 or table.cursor_row >= len(self.pending):
            return None
        return self.pending[table.cursor_row]

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "act-cancel":
            self.action_cancel_selected()
        elif event.button.id == "act-purge":
            self.action_purge()
        elif event.button.id == "act-refresh":
            self.load()

    def on_data_table_row_selected(self, event: DataTable.RowSelected) -> None:
        event.stop()
        self.action_cancel_selected()

    def action_cancel_selected(self) -> None:
        entry = self.selected()
        if entry is None:
            self.report(self.t("maint.act.none_selected"), failure=True)
            return
        question = self.t("maint.act.cancel_question", ecard=entry.ecard_id, child=entry.child_masked_name,
                          child_id=entry.child_masked_id)

        def answered(yes: bool | None) -> None:
            if yes:
                self.run_io(lambda: self.mode.cancel_registration(entry.ecard_id), self.cancelled(entry))

        self.app.push_screen(ConfirmDialog(question, self.lang), callback=answered)

    def cancelled(self, entry: PendingActivation):  # noqa: ANN201 - a callback
        def done(ok: bool) -> None:
            self.load()
            if ok:
                self.report(self.t("maint.act.cancelled", ecard=entry.ecard_id))
            else:
                self.report(self.t("maint.act.not_pending", ecard=entry.ecard_id), failure=True)

        return done

    def action_purge(self) -> None:
        def answered(yes: bool | None) -> None:
            if yes:
                self.run_io(self.mode.purge_expired, self.purged)

        self.app.push_screen(ConfirmDialog(self.t("maint.act.purge_question", minutes=PURGE_GRACE_SECONDS // 60),
                                           self.lang), callback=answered)

    def purged(self, count: int) -> None:
        self.load()
        self.report(self.t("maint.act.purged", n=count))
