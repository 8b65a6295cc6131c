"""Provides the registry's side of the maintenance console: counts, size, pending activations, cancel, audit, consistency."""
from __future__ import annotations

# Every console query stays within a few index probes however big the registry grows (the
# benchmark, bench/registry.py, times each at 1k and at 1M people): counts come from the running
# tallies, the consistency rules from partial indexes that hold only the rows breaking them,
# pending activations from an index of pending e-cards by age, audit kinds by skipping through the
# (kind, id) index, audit events from it newest first.

from datetime import datetime, timezone
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from kiosk.domain import ECardState
from kiosk.registry import tallies
from kiosk.registry.models import BREACHES, LIVE_TICKET, ActivationTicket, AuditEvent, ECard, Person
from kiosk.registry.records import AuditRecord, ConsistencyFinding, PendingActivation, RegistryCounts, StorageInfo

EXAMPLES = 5
"""How many offending row ids a consistency finding names."""

CONSISTENCY_RULES = (
    "ACTIVE_WITHOUT_TIME",
    "ACTIVATION_TIME_NOT_ACTIVE",
    "SEVERAL_LIVE_ECARDS",
    "APPLICANT_NOT_GUARDIAN",
    "SELF_GUARDIANSHIP",
    "USED_TICKET_NOT_ACTIVE",
    "LIVE_TICKET_NOT_PENDING",
    "SEVERAL_LIVE_TICKETS",
    "TICKET_ENDS_BEFORE_START",
    "PENDING_WITHOUT_TICKET",
)
"""The rules `consistency` checks, in the order it reports them."""

ENFORCED = {"SEVERAL_LIVE_ECARDS": "uq_ecard_live_child", "SEVERAL_LIVE_TICKETS": "uq_ticket_live_ecard"}
"""Rules a unique index keeps: while it is there, nothing can break them."""


def counts(session: Session, now: datetime, day_start: datetime) -> RegistryCounts:
    """The registry in numbers; `day_start` is the kiosk's local midnight (timezone-aware).

    One SELECT: the tallies, and three index range reads (today's registrations, the unused codes that
    have not run out yet, the newest write). Every write of a ticket writes an audit event with it
    (issued, activated), so the newest write is the newest of audit events, registrations, activations.
    """
    unexpired = select(func.count()).select_from(ActivationTicket).where(
        ActivationTicket.expires_at > now, ActivationTicket.used_at.is_(None))  # type: ignore[union-attr]
    query = tallies.tally_query().add_columns(
        select(func.count()).select_from(ECard).where(ECard.created_at >= day_start).scalar_subquery(),
        unexpired.scalar_subquery(),
        select(func.max(AuditEvent.at)).scalar_subquery(),
        select(func.max(ECard.created_at)).scalar_subquery(),
        select(func.max(ECard.activated_at)).scalar_subquery(),
    )
    row = session.connection().execute(query).one()
    tally = tallies.Tally(*(int(value) for value in row[:6]))
    today, unexpired_unused = int(row[6]), int(row[7])
    found = [_aware(stamp) for stamp in row[8:11] if stamp is not None]
    return RegistryCounts(
        registrations_today=today,
        pending=tally.ecards_pending,
        activated=tally.ecards_active,
        cancelled=tally.ecards_cancelled,
        expired_tickets=tally.tickets_unused - unexpired_unused,
        people=tally.persons,
        audit_events=tally.audit_events,
        last_write=max(found) if found else None,
    )


def _aware(value: datetime | str) -> datetime:
    # Aggregates bypass the column type on some backends: a naive value (or SQLite's text) is UTC as stored.
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def storage(session: Session, engine: sa.Engine, url: str) -> StorageInfo:
    """The backend, the URL it was opened with (password hidden) and the database's size."""
    backend = engine.dialect.name
    try:
        location = sa.engine.make_url(url).render_as_string(hide_password=True)
    except sa.exc.ArgumentError:
        location = engine.url.render_as_string(hide_password=True)
    size: int | None = None
    if backend == "sqlite":
        pages = session.exec(sa.text("PRAGMA page_count")).one()[0]  # type: ignore[call-overload]
        page_size = session.exec(sa.text("PRAGMA page_size")).one()[0]  # type: ignore[call-overload]
        size = int(pages) * int(page_size)
    elif backend == "postgresql":
        size = int(session.exec(sa.text("SELECT pg_database_size(current_database())")).one()[0])  # type: ignore[call-overload]
    return StorageInfo(backend, location, size)


def pending_activations(session: Session, limit: int) -> list[PendingActivation]:
    """Every pending e-card (any guardian, any kiosk), oldest first, with its live code's end (None: none live)."""
    child, applicant = aliased(Person), aliased(Person)
    # The live ticket (at most one, unique index) of each listed e-card: one probe per row.
    live_code = (
        select(func.max(ActivationTicket.expires_at))
        .where(ActivationTicket.ecard_id == ECard.id, sa.text(LIVE_TICKET))
        .correlate(ECard)
        .scalar_subquery()
    )
    rows = session.connection().execute(
        select(ECard.id, child.resident_id, child.name, applicant.resident_id, ECard.created_at, ECard.kiosk_id,
               live_code)
        .join(child, child.id == ECard.child_id)
        .join(applicant, applicant.id == ECard.applicant_id)
        .where(ECard.state == ECardState.PENDING)
        .order_by(ECard.created_at, ECard.id)
        .limit(limit)
    ).all()
    return [
        PendingActivation(ecard_id, child_id, name, applicant_id, _aware(created), kiosk_id,
                          _aware(expires) if expires is not None else None)
        for ecard_id, child_id, name, applicant_id, created, kiosk_id, expires in rows
    ]


def cancel_pending(session: Session, now: datetime, ecard_id: int, kiosk_id: str, reason: str) -> bool:
    """Cancel a pending e-card and revoke its unused codes; the child may be registered again.

    Returns:
        True when it was pending and is now cancelled; False when it was not pending (any more).
    """
    changed = session.exec(
        sa.update(ECard).where(ECard.id == ecard_id, ECard.state == ECardState.PENDING)
        .values(state=ECardState.CANCELLED)
    )
    if changed.rowcount != 1:
        return False
    session.exec(  # the e-card's live ticket; the others are revoked already
        sa.update(ActivationTicket).where(ActivationTicket.ecard_id == ecard_id, sa.text(LIVE_TICKET)).values(revoked=True)
    )
    session.add(AuditEvent(at=now, kind="ecard_cancelled", detail=f"ecard={ecard_id} {reason}"[:500], kiosk_id=kiosk_id))
    return True


def audit_events(session: Session, kinds: Sequence[str] | None, limit: int) -> list[AuditRecord]:
    """Audit events, newest first; only those of `kinds` when given (each kind read newest first from its index)."""
    columns = (AuditEvent.id, AuditEvent.at, AuditEvent.kind, AuditEvent.detail, AuditEvent.kiosk_id)
    if not kinds:
        query = select(*columns).order_by(AuditEvent.id.desc()).limit(limit)
    else:
        per_kind = [
            select(select(*columns).where(AuditEvent.kind == kind).order_by(AuditEvent.id.desc()).limit(limit)
                   .subquery(f"k{number}"))
            for number, kind in enumerate(dict.fromkeys(kinds))
        ]
        merged = sa.union_all(*per_kind).subquery("merged") if len(per_kind) > 1 else per_kind[0].subquery("merged")
        query = select(merged).order_by(merged.c.id.desc()).limit(limit)
    rows = session.connection().execute(query).all()
    return [AuditRecord(_aware(at), kind, detail, kiosk_id) for _, at, kind, detail, kiosk_id in rows]


_KINDS = sa.text(
    "WITH RECURSIVE kinds(kind) AS ("
    " SELECT min(kind) FROM audit_event"
    " UNION ALL"
    " SELECT (SELECT min(a.kind) FROM audit_event a WHERE a.kind > kinds.kind) FROM kinds WHERE kinds.kind IS NOT NULL"
    ") SELECT kind FROM kinds WHERE kind IS NOT NULL"
)


def audit_kinds(session: Session) -> list[str]:
    """Every kind of audit event recorded, in name order: one index probe per kind, not a pass over the events."""
    return [row[0] for row in session.connection().execute(_KINDS)]


def consistency(session: Session, now: datetime) -> list[ConsistencyFinding]:
    """Check the rules of CONSISTENCY_RULES; one finding per rule, count 0 where it holds.

    Two round trips while the registry is consistent: which unique indexes are there, and one SELECT
    counting every rule (each a probe of its breach index); the breakers' ids only where a rule breaks.
    """
    connection = session.connection()
    present = _unique_indexes(connection, list(ENFORCED.values()))
    live_not_pending = (
        select(ActivationTicket.id).join(ECard, ECard.id == ActivationTicket.ecard_id)
        .where(ActivationTicket.expires_at > now, ActivationTicket.used_at.is_(None),  # type: ignore[union-attr]
               ActivationTicket.revoked.is_(False), ECard.state != ECardState.PENDING)  # type: ignore[attr-defined]
    )
    # SQLite without statistics may take another index that merely narrows the rows (an index on
    # activated_at for "active without activation time"): INDEXED BY holds it to the breach index.
    hint = " INDEXED BY {index}" if connection.dialect.name == "sqlite" else ""
    queries: dict[str, sa.Select] = {
        code: sa.select(sa.literal_column("id")).select_from(sa.text(b.table + hint.format(index=b.index)))
        .where(sa.text(b.where))
        for code, b in BREACHES.items()
    }
    queries["LIVE_TICKET_NOT_PENDING"] = live_not_pending
    for code, index in ENFORCED.items():
        if index not in present:  # the database no longer keeps it: count the hard way
            queries[code] = _several(code, now)
    counted = connection.execute(sa.select(*(
        select(func.count()).select_from(query.subquery()).scalar_subquery().label(code.lower())
        for code, query in queries.items()
    ))).one()
    totals = dict(zip(queries, (int(value) for value in counted)))
    findings = []
    for code in CONSISTENCY_RULES:
        if code not in totals:
            findings.append(ConsistencyFinding(code, 0, (), ENFORCED[code]))
            continue
        total = totals[code]
        examples = ()
        if total:
            rows = connection.execute(queries[code].order_by(sa.text("1")).limit(EXAMPLES)).all()
            examples = tuple(int(row[0]) for row in rows)
        findings.append(ConsistencyFinding(code, total, examples))
    return findings


def _several(code: str, now: datetime) -> sa.Select:
    if code == "SEVERAL_LIVE_ECARDS":
        return (select(ECard.child_id).where(ECard.state != ECardState.CANCELLED)
                .group_by(ECard.child_id).having(func.count(ECard.id) > 1))
    return (select(ActivationTicket.ecard_id).where(ActivationTicket.expires_at > now, sa.text(LIVE_TICKET))
            .group_by(ActivationTicket.ecard_id).having(func.count(ActivationTicket.id) > 1))


def _unique_indexes(connection: sa.Connection, names: list[str]) -> set[str]:
    """Which of the named unique indexes the database has (and, on PostgreSQL, can use)."""
    if connection.dialect.name == "postgresql":
        query = sa.text("SELECT c.relname FROM pg_index i JOIN pg_class c ON c.oid = i.indexrelid"
                        " WHERE c.relname = ANY(:names) AND i.indisunique AND i.indisvalid")
        return {row[0] for row in connection.execute(query, {"names": names})}
    query = sa.text("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND name IN "
                    f"({', '.join(f':n{i}' for i in range(len(names)))})")
    rows = connection.execute(query, {f"n{i}": name for i, name in enumerate(names)})
    return {name for name, sql in rows if sql and "UNIQUE" in sql.upper()}
