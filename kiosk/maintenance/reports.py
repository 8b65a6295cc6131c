"""Provides what the maintenance console's pages show, as plain values: the database, the settings, the log, audit CSV."""
from __future__ import annotations

import csv
import io
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Mapping

from kiosk.errors import CATALOGUE, KioskError
from kiosk.masking import scrub
from kiosk.settings import SECRET_SETTINGS
from kiosk.registry import AuditRecord, RegistryCounts, StorageInfo

if TYPE_CHECKING:
    from kiosk.maintenance.managed import ManagedByService
    from kiosk.registry import Registry

LOG_LINES = 300
"""How many of the newest log lines the Logs page shows."""
_URL_PASSWORD = re.compile(r"(://[^/:@\s]*:)[^@/\s]*@")


@dataclass(frozen=True)
class DatabaseReport:
    """The Database page: reachable or not (and why), where, how big, the counts."""

    reachable: bool
    error: str | None = None  # catalogued code when not reachable
    detail: str = ""
    storage: StorageInfo | None = None
    counts: RegistryCounts | None = None
    service_url: str | None = None
    """The registry service this kiosk's registry is (its counts are the service operator's); None: embedded."""
    schema_state: str = ""
    """The service's schema as its probe found it ("current", "behind", ...; "" when it did not get that far)."""
    revision: str | None = None


@dataclass(frozen=True)
class SettingRow:
    """One effective setting: its value as shown (secrets hidden) and where it came from."""

    key: str
    value: str
    origin: str  # "default", a file path, "KIOSK_<KEY>" or "command line"
    hidden: bool = False  # the value shown is a summary, the secret is not


def local_midnight(now: datetime) -> datetime:
    """The start of the kiosk's local day containing `now` (timezone-aware)."""
    local = now.astimezone()
    return local.replace(hour=0, minute=0, second=0, microsecond=0)


def database_report(registry: Registry | ManagedByService, now: datetime) -> DatabaseReport:
    """Ask the database for the Database page; a database that does not answer is a report, not an error.

    A service kiosk's report is the registry service's answer to the kiosk's health check.
    """
    from kiosk.maintenance.managed import ManagedByService

    if isinstance(registry, ManagedByService):
        return service_report(registry)
    try:
        registry.ping()
        storage = registry.storage()
        counts = registry.counts(local_midnight(now))
    except KioskError as exc:
        return DatabaseReport(False, exc.code, exc.detail)
    return DatabaseReport(True, storage=storage, counts=counts)


def service_report(registry: ManagedByService) -> DatabaseReport:
    """What the registry service says of itself to this kiosk: answered and took the credential, its probe's findings."""
    health = registry.health()
    code, _, rest = health.detail.partition(": ")
    if health.ok:
        error, detail = None, ""
    elif code in CATALOGUE:  # the kiosk's call failed: SERVICE_UNREACHABLE, SERVICE_CREDENTIAL_REFUSED, ...
        error, detail = code, rest
    else:  # the service answered: its database does not serve (schema not current, no write)
        error, detail = "DATABASE_UNAVAILABLE", health.detail
    return DatabaseReport(health.ok, error, detail, service_url=registry.base_url, schema_state=health.schema_state,
                          revision=health.revision)


def hide_url_password(url: str) -> str:
    """`postgresql+psycopg://kiosk:secret@host/db` -> `postgresql+psycopg://kiosk:***@host/db`."""
    return _URL_PASSWORD.sub(r"\1***@", url)


def settings_rows(values: Mapping[str, object], origins: Mapping[str, str]) -> list[SettingRow]:
    """Every setting with its effective value and origin, in name order; secrets summarised, never shown."""
    rows = []
    for key in sorted(values):
        value = values[key]
        hidden = key in SECRET_SETTINGS
        if key == "technicians" and isinstance(value, Mapping):
            shown = ", ".join(sorted(value)) if value else "-"
        elif key == "database_url":
            shown = hide_url_password(str(value)) if value else ""
            hidden = shown != str(value)
        elif isinstance(value, Mapping):
            shown = ", ".join(f"{k}={v}" for k, v in sorted(value.items()))
        else:
            shown = str(value)
        rows.append(SettingRow(key, shown, origins.get(key, "default"), hidden))
    return rows


def log_tail(log_file: Path, lines: int = LOG_LINES) -> list[str]:
    """The newest `lines` lines of the kiosk's rotating log (reaching into the last rotated file), oldest first, masked.

    A log that does not exist yet is no lines.
    """
    found: list[str] = []
    for path in (log_file, log_file.with_name(log_file.name + ".1")):
        try:
            text = path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            continue
        found = text.splitlines() + found if path != log_file else text.splitlines()
        if len(found) >= lines:
            break
    return [scrub(line) for line in found[-lines:]]


def _cell(text: str) -> str:
    # A spreadsheet must not run what a detail starts with (CSV formula injection).
    return "'" + text if text[:1] in ("=", "+", "-", "@") else text


def audit_csv(records: Iterable[AuditRecord]) -> str:
    """Audit events as CSV (UTC ISO times, details masked): at, kind, kiosk, detail."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["at_utc", "kind", "kiosk_id", "detail"])
    for record in records:
        writer.writerow([record.at.isoformat(), _cell(record.kind), _cell(record.kiosk_id), _cell(scrub(record.detail))])
    return buffer.getvalue()


def write_audit_csv(records: Iterable[AuditRecord], directory: Path, now: datetime) -> Path:
    """Write the CSV into `directory` (made if needed) as audit-YYYYMMDD-HHMMSS.csv; returns its path.

    Raises:
        OSError: when the file cannot be written.
    """
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"audit-{now.astimezone():%Y%m%d-%H%M%S}.csv"
    path.write_text(audit_csv(records), encoding="utf-8")
    return path
