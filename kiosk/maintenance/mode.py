"""Provides MaintenanceMode: the technician's side of the kiosk: entering and leaving, idle return, and every console action, audited."""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType
from typing import TYPE_CHECKING, Mapping

from kiosk.errors import KioskError
from kiosk.maintenance.door import LoginOutcome, LoginResult, TechnicianDoor
from kiosk.maintenance.gesture import CornerTaps, KeySequence
from kiosk.masking import scrub

if TYPE_CHECKING:
    # The console's reports and the registry's records load when the console first asks for them: the mode itself
    # is made before the kiosk's first screen, which needs none of them.
    from kiosk.maintenance import reports
    from kiosk.maintenance.managed import ManagedByService
    from kiosk.ports import Clock
    from kiosk.reader_diagnostics import (
        ApduExchange,
        CardSelfTest,
        PsamStatus,
        ReaderDiagnostics,
        ReaderEventRecord,
        ReaderSlotStatus,
    )
    from kiosk.registry import AuditRecord, ConsistencyFinding, PendingActivation, Registry
    from kiosk.session import KioskSession

log = logging.getLogger(__name__)


def _reports() -> ModuleType:
    from kiosk.maintenance import reports

    return reports

MAINTENANCE_MODE = "MAINTENANCE_MODE"
"""Out-of-service reason while the console is up: no visit starts behind it."""
TECHNICIAN_OUT_OF_SERVICE = "MAINTENANCE"
"""Out-of-service reason a technician sets on the Service page; it outlasts the console."""
PURGE_GRACE_SECONDS = 900
"""Expired codes are deleted only this long after they ran out, so no kiosk still polling one finds it gone."""
AUDIT_ROWS = 200


@dataclass(frozen=True)
class ServiceState:
    """The Service page: whether a technician took the kiosk out of service, with what message, and other reasons."""

    out_of_service: bool
    message: str | None
    other_reasons: tuple[str, ...]  # catalogued codes (reader, database, configuration) that also keep it out


class MaintenanceMode:
    """What a technician does at this kiosk. Thread-safe; methods that touch the database or a card block
    (call them from worker threads): `try_login`, `enter`, `leave`, and the page methods."""

    def __init__(
        self,
        session: KioskSession,
        registry: Registry | ManagedByService,
        door: TechnicianDoor,
        clock: Clock,
        *,
        key_sequence: tuple[str, ...],
        idle_seconds: int,
        purge_hours: int,
        diagnostics: ReaderDiagnostics | None = None,
        settings: Mapping[str, object] | None = None,
        origins: Mapping[str, str] | None = None,
        log_file: Path | None = None,
        export_dir: Path | None = None,
    ) -> None:
        """Args:
            key_sequence: the keys that open the login (Textual key names).
            idle_seconds: the console closes after this long without input.
            purge_hours: expired codes are purged this often (0: never by schedule).
            diagnostics: the readers page's port; None: no readers page data.
            settings: the effective settings (name -> value) for the Settings page; origins: where each came from.
            log_file: the kiosk's rotating log; export_dir: where audit CSV files go.
        """
        self.session = session
        self.registry = registry
        self.door = door
        self.clock = clock
        self.diagnostics = diagnostics
        self.idle_seconds = idle_seconds
        self.purge_hours = purge_hours
        self._settings = dict(settings or {})
        self._origins = dict(origins or {})
        self.log_file = log_file
        self.export_dir = export_dir
        self._keys = KeySequence(key_sequence)
        self._taps = CornerTaps()
        self._lock = threading.Lock()
        self._technician: str | None = None
        self._last_input = clock.now()
        self._last_purge = clock.now()

    # ----------------------------------------------------------------- the way in
    def key_pressed(self, key: str) -> bool:
        """A key pressed anywhere; True when it completes the hidden key sequence."""
        return self.door.has_technicians and self._keys.feed(key, self.clock.now())

    def corner_tapped(self) -> bool:
        """A tap in the top-left corner; True on the fifth within three seconds."""
        return self.door.has_technicians and self._taps.feed(self.clock.now())

    def tapped_elsewhere(self) -> None:
        self._taps.miss()

    def try_login(self, technician_id: str, pin: str) -> LoginResult:
        """Check the ID and PIN (slow on purpose); admitted, the kiosk enters maintenance at once."""
        result = self.door.try_login(technician_id, pin)
        if result.outcome is LoginOutcome.ADMITTED and result.technician is not None:
            self.enter(result.technician)
        return result

    # ----------------------------------------------------------------- in and out
    @property
    def active(self) -> bool:
        with self._lock:
            return self._technician is not None

    @property
    def technician(self) -> str | None:
        with self._lock:
            return self._technician

    def enter(self, technician: str) -> None:
        """End any visit, keep guardians out while the console is up, and note who came in."""
        with self._lock:
            self._technician = technician
            self._last_input = self.clock.now()
        self.session.end_visit()
        self.session.out_of_service(MAINTENANCE_MODE)
        self._audit("maintenance_enter", f"technician={technician}")
        log.info("maintenance: technician %s entered", technician)

    def leave(self, reason: str = "left") -> None:
        """Back to the guardian screens: in service again unless a technician (or a fault) keeps the kiosk out.

        Args:
            reason: "left", "idle" or "exit_kiosk", for the audit trail.
        """
        with self._lock:
            technician, self._technician = self._technician, None
        if technician is None:
            return
        if self.diagnostics is not None:
            try:
                self.diagnostics.close()
            except Exception:  # noqa: BLE001 - a dead card must not keep the console open
                log.exception("maintenance: closing the console's card connections failed")
        self.session.back_in_service(MAINTENANCE_MODE)
        self._audit("maintenance_exit", f"technician={technician} reason={reason}")
        log.info("maintenance: technician %s left (%s)", technician, reason)

    def touch(self) -> None:
        """The technician did something: the idle time starts again."""
        with self._lock:
            self._last_input = self.clock.now()

    def idle_seconds_left(self) -> float | None:
        """Seconds before the console closes for want of input; None when it is not up."""
        with self._lock:
            if self._technician is None:
                return None
            elapsed = (self.clock.now() - self._last_input).total_seconds()
        return max(0.0, self.idle_seconds - elapsed)

    # ----------------------------------------------------------------- service
    def service_state(self) -> ServiceState:
        view = self.session.view
        reasons = self.session.out_of_service_reasons
        mine = TECHNICIAN_OUT_OF_SERVICE in reasons
        others = tuple(r for r in reasons if r not in (TECHNICIAN_OUT_OF_SERVICE, MAINTENANCE_MODE))
        return ServiceState(mine, view.service_message if mine else None, others)

    def take_out_of_service(self, message: str) -> None:
        """Keep guardians out after the console closes, with `message` on their screen."""
        message = " ".join(message.split())[:200]
        self.session.out_of_service(TECHNICIAN_OUT_OF_SERVICE, message=message)
        self._action("out_of_service", f"message_chars={len(message)}")

    def put_back_in_service(self) -> None:
        self.session.back_in_service(TECHNICIAN_OUT_OF_SERVICE)
        self._action("in_service")

    def exit_kiosk(self) -> None:
        """The technician stops the kiosk program (the caller then exits the app)."""
        self._action("exit_kiosk")
        self.leave("exit_kiosk")

    # ----------------------------------------------------------------- activations
    def pending_activations(self) -> list[PendingActivation]:
        """Raises: KioskError DATABASE_UNAVAILABLE."""
        return self.registry.pending_activations()

    def cancel_registration(self, ecard_id: int) -> bool:
        """Cancel a pending registration; False when it was no longer pending. Raises: KioskError."""
        cancelled = self.registry.cancel_pending(ecard_id, f"by={self.technician or '-'}")
        self._action("cancel_registration", f"ecard={ecard_id} done={cancelled}")
        return cancelled

    def purge_expired(self) -> int:
        """Delete the codes that ran out (more than PURGE_GRACE_SECONDS ago). Raises: KioskError."""
        purged = self.registry.purge_expired(grace_seconds=PURGE_GRACE_SECONDS)
        self._action("purge_expired", f"tickets={purged}")
        with self._lock:
            self._last_purge = self.clock.now()
        return purged

    @property
    def managed_by_service(self) -> str | None:
        """The registry service's URL when it holds this kiosk's registry (the registry pages are its operator's)."""
        from kiosk.maintenance.managed import ManagedByService

        return self.registry.base_url if isinstance(self.registry, ManagedByService) else None

    def purge_due(self) -> bool:
        """True, once per `purge_hours`, when the scheduled purge should run now (the caller then runs it).

        Never on a service kiosk: the service purges its own registry.
        """
        if self.purge_hours <= 0 or self.managed_by_service is not None:
            return False
        with self._lock:
            now = self.clock.now()
            if (now - self._last_purge).total_seconds() < self.purge_hours * 3600:
                return False
            self._last_purge = now
            return True

    def run_scheduled_purge(self) -> int | None:
        """The scheduled purge; returns how many codes went, None when the database did not answer (tried next time)."""
        try:
            purged = self.registry.purge_expired(grace_seconds=PURGE_GRACE_SECONDS)
        except KioskError as exc:
            log.warning("scheduled purge of expired codes failed: %s", exc.detail)
            return None
        if purged:
            self._audit("tickets_purged", f"tickets={purged} by=schedule")
        log.info("scheduled purge: %d expired codes deleted", purged)
        return purged

    # ----------------------------------------------------------------- audit, database, logs, settings
    def audit_events(self, kind: str | None = None, limit: int = AUDIT_ROWS) -> list[AuditRecord]:
        """Newest first, details masked. Raises: KioskError."""
        records = self.registry.audit_events([kind] if kind else None, limit)
        return [self._shown(record) for record in records]

    def _shown(self, record: AuditRecord) -> AuditRecord:
        # ID numbers masked, and a typed "technician ID" that is no technician's (it may be a PIN) shown as unknown.
        from kiosk.registry import AuditRecord

        return AuditRecord(record.at, record.kind, self.door.shown_detail(scrub(record.detail)), record.kiosk_id)

    def audit_kinds(self) -> list[str]:
        return self.registry.audit_kinds()

    def export_audit(self, kind: str | None = None) -> Path:
        """Write the audit events (of `kind`) to a CSV file under the export folder; returns its path.

        Raises:
            KioskError: DATABASE_UNAVAILABLE; OSError when the file cannot be written.
        """
        records = [self._shown(r) for r in self.registry.audit_events([kind] if kind else None, limit=100_000)]
        directory = self.export_dir or Path("exports")
        path = _reports().write_audit_csv(records, directory, self.clock.now())
        self._action("export_audit", f"kind={kind or 'all'} rows={len(records)} file={path.name}")
        return path

    def database_report(self) -> reports.DatabaseReport:
        return _reports().database_report(self.registry, self.clock.now())

    def consistency(self) -> list[ConsistencyFinding]:
        """Raises: KioskError."""
        findings = self.registry.consistency()
        broken = sum(1 for f in findings if f.count)
        self._action("consistency_check", f"rules_broken={broken}")
        return findings

    def log_lines(self) -> list[str]:
        return _reports().log_tail(self.log_file) if self.log_file is not None else []

    def settings_rows(self) -> list[reports.SettingRow]:
        return _reports().settings_rows(self._settings, self._origins)

    # ----------------------------------------------------------------- readers
    def reader_slots(self) -> list[ReaderSlotStatus]:
        """Raises: KioskError READER_UNAVAILABLE; RuntimeError without diagnostics."""
        return self._diagnostics().slots()

    def psam_status(self) -> PsamStatus:
        return self._diagnostics().psam()

    def reader_events(self) -> list[ReaderEventRecord]:
        return self.diagnostics.events() if self.diagnostics is not None else []

    def card_self_test(self) -> CardSelfTest:
        result = self._diagnostics().self_test()
        self._action("card_self_test", f"passed={result.passed} error={result.error or '-'} apdus={result.apdus}")
        return result

    def send_apdu(self, slot: str, command_hex: str) -> ApduExchange:
        """Send one APDU typed as hex (spaces allowed) to `slot`.

        Raises:
            ValueError: for text that is not a short command APDU; KioskError for the card or reader.
        """
        command = bytes.fromhex("".join(command_hex.split()))
        exchange = self._diagnostics().send_apdu(slot, command)
        # The header only: the data of a VERIFY would be a PIN.
        self._action("send_apdu", f"slot={slot[:40]} header={command[:4].hex().upper()} sw={exchange.sw:04X}")
        return exchange

    def _diagnostics(self) -> ReaderDiagnostics:
        if self.diagnostics is None:
            raise RuntimeError("this kiosk has no reader diagnostics")
        return self.diagnostics

    # ----------------------------------------------------------------- audit
    def _action(self, action: str, detail: str = "") -> None:
        self._audit("maintenance_action", f"technician={self.technician or '-'} action={action} {detail}".strip())

    def _audit(self, kind: str, detail: str) -> None:
        try:
            self.registry.audit(kind, detail)
        except KioskError as exc:
            # The console must work with the database down (that is when it is needed): the log keeps it.
            log.warning("audit event %s not written (%s): %s", kind, exc.detail, detail)
