"""Provides the registry's side of the maintenance console: counts, size, pending activations, cancelling one,
audit search, and a consistency check."""
from __future__ import annotations

from datetime import datetime
from typing import Sequence

import sqlalchemy as sa
from sqlalchemy.orm import aliased
from sqlmodel import Session, func, select

from kiosk.domain import ECardState
from kiosk.registry.models import LIVE_TICKET, ActivationTicket, AuditEvent, ECard, Guardianship, Person
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


def _count(session: Session, query: sa.Select) -> int:
    return int(session.exec(query).one())  # type: ignore[call-overload]


def counts(session: Session, now: datetime, day_start: datetime) -> RegistryCounts:
    """The registry in numbers; `day_start` is the kiosk's local midnight (timezone-aware)."""
    def ecards(state: ECardState) -> int:
        return _count(session, select(func.count(ECard.id)).where(ECard.state == state))

    expired = _count(session, select(func.count(ActivationTicket.id)).where(
        ActivationTicket.used_at.is_(None), ActivationTicket.expires_at <= now))
    today = _count(session, select(func.count(ECard.id)).where(ECard.created_at >= day_start))
    stamps = [
        session.exec(select(func.max(column))).one()  # type: ignore[call-overload]
        for column in (AuditEvent.at, ECard.created_at, ECard.activated_at, ActivationTicket.created_at,
                       ActivationTicket.used_at)
    ]
    found = [_aware(stamp) for stamp in stamps if stamp is not None]
    return RegistryCounts(
        registrations_today=today,
        pending=ecards(ECardState.PENDING),
        activated=ecards(ECardState.ACTIVE),
        cancelled=ecards(ECardState.CANCELLED),
        expired_tickets=expired,
        people=_count(session, select(func.count(Person.id))),
        audit_events=_count(session, select(func.count(AuditEvent.id))),
        last_write=max(found) if found else None,
    )


def _aware(value: datetime) -> datetime:
    # Aggregates bypass the column type on some backends: a naive value is UTC as stored.
    from datetime import timezone

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
    """Every pending e-card (any guardian, any kiosk), oldest first, with its newest unused code's end."""
    child, applicant = aliased(Person), aliased(Person)
    newest_code = (
        select(ActivationTicket.ecard_id, func.max(ActivationTicket.expires_at).label("expires_at"))
        .where(ActivationTicket.used_at.is_(None), ActivationTicket.revoked.is_(False))
        .group_by(ActivationTicket.ecard_id)
        .subquery()
    )
    rows = session.exec(
        select(ECard.id, child.resident_id, child.name, applicant.resident_id, ECard.created_at, ECard.kiosk_id,
               newest_code.c.expires_at)
        .join(child, child.id == ECard.child_id)
        .join(applicant, applicant.id == ECard.applicant_id)
        .join(newest_code, newest_code.c.ecard_id == ECard.id, isouter=True)
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
    """Audit events, newest first; only those of `kinds` when given."""
    query = select(AuditEvent).order_by(AuditEvent.id.desc()).limit(limit)
    if kinds:
        query = query.where(AuditEvent.kind.in_(list(kinds)))
    return [AuditRecord(row.at, row.kind, row.detail, row.kiosk_id) for row in session.exec(query).all()]


def audit_kinds(session: Session) -> list[str]:
    """Every kind of audit event recorded, in name order."""
    return list(session.exec(select(AuditEvent.kind).distinct().order_by(AuditEvent.kind)).all())


def consistency(session: Session, now: datetime) -> list[ConsistencyFinding]:
    """Check the rules of CONSISTENCY_RULES; one finding per rule, count 0 where it holds."""
    live_ticket = sa.and_(ActivationTicket.used_at.is_(None), ActivationTicket.revoked.is_(False),
                          ActivationTicket.expires_at > now)
    guardianship = (
        select(Guardianship.id)
        .where(Guardianship.guardian_id == ECard.applicant_id, Guardianship.child_id == ECard.child_id)
        .exists()
    )
    several_live_ecards = (
        select(ECard.child_id).where(ECard.state != ECardState.CANCELLED)
        .group_by(ECard.child_id).having(func.count(ECard.id) > 1)
    )
    several_live_tickets = (
        select(ActivationTicket.ecard_id).where(live_ticket)
        .group_by(ActivationTicket.ecard_id).having(func.count(ActivationTicket.id) > 1)
    )
    queries: dict[str, sa.Select] = {
        "ACTIVE_WITHOUT_TIME": select(ECard.id).where(ECard.state == ECardState.ACTIVE, ECard.activated_at.is_(None)),
        "ACTIVATION_TIME_NOT_ACTIVE": select(ECard.id).where(
            ECard.state == ECardState.PENDING, ECard.activated_at.is_not(None)),
        "SEVERAL_LIVE_ECARDS": several_live_ecards,
        "APPLICANT_NOT_GUARDIAN": select(ECard.id).where(~guardianship),
        "SELF_GUARDIANSHIP": select(Guardianship.id).where(Guardianship.guardian_id == Guardianship.child_id),
        "USED_TICKET_NOT_ACTIVE": select(ActivationTicket.id).join(ECard, ECard.id == ActivationTicket.ecard_id)
        .where(ActivationTicket.used_at.is_not(None), ECard.state != ECardState.ACTIVE),
        "LIVE_TICKET_NOT_PENDING": select(ActivationTicket.id).join(ECard, ECard.id == ActivationTicket.ecard_id)
        .where(live_ticket, ECard.state != ECardState.PENDING),
        "SEVERAL_LIVE_TICKETS": several_live_tickets,
        "TICKET_ENDS_BEFORE_START": select(ActivationTicket.id).where(
            ActivationTicket.expires_at <= ActivationTicket.created_at),
        # Registered, but its first QR code never issued (a kiosk killed between the two, before they
        # were one transaction): the guardian left with nothing to scan.
        "PENDING_WITHOUT_TICKET": select(ECard.id).where(ECard.state == ECardState.PENDING, ECard.tickets_issued == 0),
    }
    findings = []
    for code in CONSISTENCY_RULES:
        query = queries[code]
        total = _count(session, select(func.count()).select_from(query.subquery()))
        examples = tuple(int(row) for row in session.exec(query.limit(EXAMPLES)).all()) if total else ()
        findings.append(ConsistencyFinding(code, total, examples))
    return findings
