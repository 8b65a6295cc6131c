"""Provides the registry's side of activation tickets: issue, look up, activate once, revoke and purge, hashes only."""
from __future__ import annotations

from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlmodel import Session, select

from kiosk.domain import ECardState
from kiosk.errors import KioskError
from kiosk.registry.models import ActivationTicket as TicketRow
from kiosk.registry.models import AuditEvent, ECard, Person
from kiosk.registry.records import RegistrationRefused
from kiosk.tickets import (
    ActivationResult,
    ActivationTicket,
    TicketState,
    activation_key,
    activation_url,
    digest,
    new_token,
    new_user_code,
    normalise_user_code,
)

_FRESH_CODE_ATTEMPTS = 20


def issue(
    session: Session, now: datetime, ecard_id: int, url_base: str, ttl_seconds: int, kiosk_id: str
) -> ActivationTicket:
    """Issue a ticket for a pending e-card and revoke the e-card's earlier unused tickets."""
    if ttl_seconds <= 0:
        raise ValueError("ttl_seconds must be positive")
    ecard = session.get(ECard, ecard_id)
    if ecard is None or ecard.state is ECardState.CANCELLED:
        raise LookupError(f"no pending e-card {ecard_id}")
    if ecard.state is ECardState.ACTIVE:
        raise RegistrationRefused("CHILD_HAS_ECARD", f"e-card {ecard_id} is already active")
    session.exec(
        sa.update(TicketRow)
        .where(TicketRow.ecard_id == ecard_id, TicketRow.used_at.is_(None), TicketRow.revoked.is_(False))
        .values(revoked=True)
    )
    token = new_token()
    user_code = _fresh_user_code(session, now)
    row = TicketRow(
        ecard_id=ecard_id,
        token_hash=digest(token),
        user_code_hash=digest(normalise_user_code(user_code) or ""),
        created_at=now,
        expires_at=now + timedelta(seconds=ttl_seconds),
    )
    session.add(row)
    session.flush()
    assert row.id is not None
    session.add(AuditEvent(at=now, kind="ticket_issued", detail=f"ecard={ecard_id} ticket={row.id}", kiosk_id=kiosk_id))
    return ActivationTicket(
        ticket_id=row.id,
        ecard_id=ecard_id,
        token=token,
        user_code=user_code,
        url=activation_url(url_base, token),
        expires_at=row.expires_at,
    )


def _fresh_user_code(session: Session, now: datetime) -> str:
    """A user code no live ticket has, so a typed code always names one ticket."""
    for _ in range(_FRESH_CODE_ATTEMPTS):
        code = new_user_code()
        clash = session.exec(
            select(TicketRow.id).where(
                TicketRow.user_code_hash == digest(normalise_user_code(code) or ""),
                TicketRow.used_at.is_(None),
                TicketRow.revoked.is_(False),
                TicketRow.expires_at > now,
            )
        ).first()
        if clash is None:
            return code
    raise RuntimeError("no free user code found")  # 20^8 codes: only a broken random source gets here


def state(session: Session, now: datetime, ticket_id: int) -> TicketState:
    """Where a ticket stands.

    Raises:
        KioskError: ACTIVATION_UNKNOWN when there is no such ticket (or it was purged).
    """
    row = session.get(TicketRow, ticket_id)
    if row is None:
        raise KioskError("ACTIVATION_UNKNOWN", f"ticket {ticket_id}")
    return _state_of(row, now)


def _state_of(row: TicketRow, now: datetime) -> TicketState:
    if row.used_at is not None:
        return "activated"
    if row.revoked:
        return "revoked"
    if row.expires_at <= now:
        return "expired"
    return "pending"


def activate(session: Session, now: datetime, presented: str, kiosk_id: str) -> ActivationResult:
    """Use a ticket: mark it used and its e-card ACTIVE, together or not at all.

    Raises:
        KioskError: ACTIVATION_UNKNOWN (no such token or code), ACTIVATION_USED,
            ACTIVATION_EXPIRED (run out, replaced by a newer ticket, or its e-card cancelled).
    """
    key = activation_key(presented)
    if key is None:
        raise KioskError("ACTIVATION_UNKNOWN", "nothing that reads as a token, URL or user code")
    column = TicketRow.token_hash if key.kind == "token" else TicketRow.user_code_hash
    rows = session.exec(select(TicketRow).where(column == key.digest).order_by(TicketRow.id.desc())).all()
    if not rows:
        raise KioskError("ACTIVATION_UNKNOWN", f"no ticket for this {key.kind}")
    # User codes may repeat over time; the live ticket wins, else the newest says what happened.
    row = next((r for r in rows if _state_of(r, now) == "pending"), rows[0])
    found = _state_of(row, now)
    if found == "activated":
        raise KioskError("ACTIVATION_USED", f"ticket {row.id}")
    if found in ("expired", "revoked"):
        raise KioskError("ACTIVATION_EXPIRED", f"ticket {row.id} {found}")
    # Conditional updates: of two apps racing with the same ticket only one gets a row.
    used = session.exec(
        sa.update(TicketRow)
        .where(TicketRow.id == row.id, TicketRow.used_at.is_(None), TicketRow.revoked.is_(False))
        .values(used_at=now)
    )
    if used.rowcount != 1:
        raise KioskError("ACTIVATION_USED", f"ticket {row.id} used meanwhile")
    activated = session.exec(
        sa.update(ECard)
        .where(ECard.id == row.ecard_id, ECard.state == ECardState.PENDING)
        .values(state=ECardState.ACTIVE, activated_at=now)
    )
    if activated.rowcount != 1:
        raise KioskError("ACTIVATION_EXPIRED", f"e-card {row.ecard_id} is no longer pending")
    child_id = session.exec(
        select(Person.resident_id).join(ECard, ECard.child_id == Person.id).where(ECard.id == row.ecard_id)
    ).one()
    session.add(
        AuditEvent(at=now, kind="ecard_activated", detail=f"ecard={row.ecard_id} ticket={row.id}", kiosk_id=kiosk_id)
    )
    assert row.id is not None
    return ActivationResult(ticket_id=row.id, ecard_id=row.ecard_id, child_resident_id=child_id, activated_at=now)


def purge_expired(session: Session, now: datetime) -> int:
    """Delete unused tickets whose time has run out (revoked ones included); used ones stay as the record.

    Returns:
        How many tickets were deleted.
    """
    result = session.exec(sa.delete(TicketRow).where(TicketRow.used_at.is_(None), TicketRow.expires_at <= now))
    return result.rowcount or 0
