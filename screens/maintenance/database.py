"""Provides the Database page: reachable or not, where, how big, the counts, the last write, and a consistency check."""
from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Horizontal
from textual.widgets import Button, Static

from kiosk.errors import CATALOGUE
from kiosk.maintenance import DatabaseReport
from kiosk.messages import N_
from kiosk.registry import ConsistencyFinding
from screens.maintenance.page import ConsolePage, local_time

UNKNOWN_RULE = N_("maint.rule.unknown")
RULE_KEYS = {
    "ACTIVE_WITHOUT_TIME": N_("maint.rule.ACTIVE_WITHOUT_TIME"),
    "ACTIVATION_TIME_NOT_ACTIVE": N_("maint.rule.ACTIVATION_TIME_NOT_ACTIVE"),
    "SEVERAL_LIVE_ECARDS": N_("maint.rule.SEVERAL_LIVE_ECARDS"),
    "APPLICANT_NOT_GUARDIAN": N_("maint.rule.APPLICANT_NOT_GUARDIAN"),
    "SELF_GUARDIANSHIP": N_("maint.rule.SELF_GUARDIANSHIP"),
    "USED_TICKET_NOT_ACTIVE": N_("maint.rule.USED_TICKET_NOT_ACTIVE"),
    "LIVE_TICKET_NOT_PENDING": N_("maint.rule.LIVE_TICKET_NOT_PENDING"),
    "SEVERAL_LIVE_TICKETS": N_("maint.rule.SEVERAL_LIVE_TICKETS"),
    "TICKET_ENDS_BEFORE_START": N_("maint.rule.TICKET_ENDS_BEFORE_START"),
}


def size_text(size: int | None) -> str:
    if size is None:
        return "-"
    for unit in ("B", "KiB", "MiB", "GiB"):
        if size < 1024 or unit == "GiB":
            return f"{size:.0f} {unit}" if unit == "B" else f"{size:.1f} {unit}"
        size /= 1024  # type: ignore[assignment]
    return str(size)


class DatabasePage(ConsolePage):
    """R refreshes, C runs the consistency check."""


    def compose(self) -> ComposeResult:
        yield Static(self.t("maint.db.heading"), classes="page-heading")
        yield Static("", id="db-report")
        with Horizontal(classes="page-buttons"):
            yield Button(self.t("maint.refresh"), id="db-refresh")
            yield Button(self.t("maint.db.check"), id="db-check", variant="primary")
        yield Static("", id="db-consistency")
        yield from self.status_lines()

    def load(self) -> None:
        self.run_io(self.mode.database_report, self.show_report)

    def action_refresh(self) -> None:
        self.load()

    def action_check(self) -> None:
        self.run_io(self.mode.consistency, self.show_findings)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "db-refresh":
            self.load()
        elif event.button.id == "db-check":
            self.action_check()

    def show_report(self, report: DatabaseReport) -> None:
        rows: list[tuple[str, str]]
        if report.service_url is not None:
            rows = self.service_rows(report)
        elif not report.reachable:
            entry = CATALOGUE.get(report.error or "DATABASE_UNAVAILABLE", CATALOGUE["DATABASE_UNAVAILABLE"])
            rows = [(self.t("maint.db.reachable"), self.t("maint.no")),
                    (self.t("maint.db.problem"), f"{report.error}: {entry.text.get(self.lang)} {report.detail}")]
        else:
            storage, counts = report.storage, report.counts
            assert storage is not None and counts is not None
            rows = [
                (self.t("maint.db.reachable"), self.t("maint.yes")),
                (self.t("maint.db.backend"), storage.backend),
                (self.t("maint.db.location"), storage.location),
                (self.t("maint.db.size"), size_text(storage.size_bytes)),
                (self.t("maint.db.today"), str(counts.registrations_today)),
                (self.t("maint.db.pending"), str(counts.pending)),
                (self.t("maint.db.activated"), str(counts.activated)),
                (self.t("maint.db.cancelled"), str(counts.cancelled)),
                (self.t("maint.db.expired"), str(counts.expired_tickets)),
                (self.t("maint.db.people"), str(counts.people)),
                (self.t("maint.db.audit_events"), str(counts.audit_events)),
                (self.t("maint.db.last_write"), local_time(counts.last_write)),
            ]
        text = Text()
        for index, (label, value) in enumerate(rows):
            if index:
                text.append("\n")
            text.append(f"{label}: ", style="bold")
            text.append(value)
        self.query_one("#db-report", Static).update(text)
        self.set_status(self.t("maint.updated", time=local_time(self.mode.clock.now())))

    def service_rows(self, report: DatabaseReport) -> list[tuple[str, str]]:
        """A service kiosk: the service answers (or why not), its own probe of its database; its counts are its operator's."""
        managed = CATALOGUE["REGISTRY_MANAGED_BY_SERVICE"]
        schema = f"{report.schema_state} ({report.revision})" if report.revision else report.schema_state or "-"
        rows = [(self.t("maint.db.reachable"), self.t("maint.yes") if report.reachable else self.t("maint.no")),
                (self.t("maint.db.backend"), self.t(N_("maint.db.service"))),
                (self.t("maint.db.location"), report.service_url or ""),
                (self.t(N_("maint.db.schema")), schema)]
        if report.error is not None:
            entry = CATALOGUE.get(report.error, CATALOGUE["DATABASE_UNAVAILABLE"])
            rows.append((self.t("maint.db.problem"), f"{report.error}: {entry.text.get(self.lang)} {report.detail}".strip()))
        rows.append((self.t(N_("maint.db.counts")), f"{managed.text.get(self.lang)} {managed.next_step.get(self.lang)}"))
        return rows

    def show_findings(self, findings: list[ConsistencyFinding]) -> None:
        broken = [f for f in findings if f.count]
        text = Text(self.t("maint.db.check_ok") if not broken else self.t("maint.db.check_broken", n=len(broken)),
                    style="bold green" if not broken else "bold red")
        for finding in findings:
            text.append("\n")
            mark = "✓" if not finding.count else "✗"
            text.append(f"{mark} {self.t(RULE_KEYS.get(finding.code, UNKNOWN_RULE))} [{finding.code}]: ")
            if finding.count:
                ids = ", ".join(str(i) for i in finding.examples)
                text.append(self.t("maint.db.check_count", n=finding.count, ids=ids), style="red")
            else:
                text.append(self.t("maint.db.check_none"))
        self.query_one("#db-consistency", Static).update(text)
        self.set_status(self.t("maint.updated", time=local_time(self.mode.clock.now())))
