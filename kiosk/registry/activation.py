"""Provides activation tickets in the registry: issue (serialised per e-card), activate once, withdraw, purge."""
from __future__ import annotations

# Lock order, everywhere a ticket changes: the e-card row first, then its tickets. Issuing, activating
# and cancelling all follow it, so two of them on one e-card wait for each other instead of deadlocking,
# and the unique index on the live ticket (models.LIVE_TICKET) holds whatever the isolation level.

import functools
from dataclasses import dataclass
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite
from sqlmodel import Session, select

from kiosk.domain import ECardState
from kiosk.errors import KioskError
from kiosk.registry.models import LIVE_TICKET, AuditEvent, ECard, Person
from kiosk.registry.models import ActivationTicket as TicketRow
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


@dataclass(frozen=True)
class TicketPolicy:
    """How the registry issues tickets: where the QR leads, how long a code lives, how often a kiosk may poll."""

    url_base: str
    ttl_seconds: int
    poll_interval_seconds: float = 1.0

    def __post_init__(self) -> None:
        if self.ttl_seconds <= 0:
            raise ValueError("ttl_seconds must be positive")
        if self.poll_interval_seconds <= 0:
            raise ValueError("poll_interval_seconds must be positive")


def lock_ecard(session: Session, ecard_id: int) -> ECard | None:
    """The e-card, its row locked until the transaction ends (PostgreSQL; SQLite's writer holds the file)."""
    return session.exec(select(ECard).where(ECard.id == ecard_id).with_for_update()).first()


def issue(
    session: Session, now: datetime, ecard_id: int, url_base: str, ttl_seconds: int, kiosk_id: str,
    guardian_id: int | None = None,
) -> ActivationTicket:
    """Issue a ticket for a pending e-card and revoke its live one, serialised on the e-card row."""
    policy = TicketPolicy(url_base, ttl_seconds)
    ecard = lock_ecard(session, ecard_id)
    if ecard is None or ecard.state is ECardState.CANCELLED:
        raise LookupError(f"no pending e-card {ecard_id}")
    if ecard.state is ECardState.ACTIVE:
        raise RegistrationRefused("CHILD_HAS_ECARD", f"e-card {ecard_id} is already active")
    return replace_ticket(session, now, ecard_id, policy, kiosk_id, guardian_id)


def replace_ticket(
    session: Session, now: datetime, ecard_id: int, policy: TicketPolicy, kiosk_id: str, guardian_id: int | None
) -> ActivationTicket:
    """Revoke the e-card's live ticket and add a fresh one; the caller holds the e-card's row lock."""
    session.exec(  # type: ignore[call-overload]
        sa.update(TicketRow).where(TicketRow.ecard_id == ecard_id, sa.text(LIVE_TICKET)).values(revoked=True)
    )
    session.exec(  # type: ignore[call-overload]
        sa.update(ECard).where(ECard.id == ecard_id).values(tickets_issued=ECard.tickets_issued + 1)
    )
    ticket = add_ticket(session, now, ecard_id, policy, kiosk_id, guardian_id)
    session.add(AuditEvent(at=now, kind="ticket_issued", detail=f"ecard={ecard_id} ticket={ticket.ticket_id}",
                           kiosk_id=kiosk_id))
    return ticket


def add_ticket(
    session: Session, now: datetime, ecard_id: int, policy: TicketPolicy, kiosk_id: str, guardian_id: int | None
) -> ActivationTicket:
    """Insert a new live ticket (the e-card has none live now) with a user code no live ticket has."""
    statement = _ticket_insert(session.get_bind().dialect.name)
    connection = session.connection()
    for _ in range(_FRESH_CODE_ATTEMPTS):
        fresh = FreshTicket.draw(now, policy)
        row = {"ecard_id": ecard_id, "token_hash": fresh.token_hash, "user_code_hash": fresh.user_code_hash,
               "created_at": now, "expires_at": fresh.expires_at, "revoked": False, "kiosk_id": kiosk_id,
               "guardian_id": guardian_id}
        ticket_id = connection.execute(statement, row).scalar()
        if ticket_id is not None:
            return fresh.ticket(ticket_id, ecard_id, policy)
    raise RuntimeError("no free user code found")  # 20^8 codes: only a broken random source gets here


@dataclass(frozen=True)
class FreshTicket:
    """A new ticket's secrets before its row is written: the token and user code, their hashes, its expiry."""

    token: str
    user_code: str
    expires_at: datetime

    @classmethod
    def draw(cls, now: datetime, policy: TicketPolicy) -> FreshTicket:
        return cls(new_token(), new_user_code(), now + timedelta(seconds=policy.ttl_seconds))

    @property
    def token_hash(self) -> str:
        return digest(self.token)

    @property
    def user_code_hash(self) -> str:
        return digest(normalise_user_code(self.user_code) or "")

    def ticket(self, ticket_id: int, ecard_id: int, policy: TicketPolicy) -> ActivationTicket:
        """The ticket as the kiosk shows it, once its row `ticket_id` is written."""
        return ActivationTicket(ticket_id=ticket_id, ecard_id=ecard_id, token=self.token, user_code=self.user_code,
                                url=activation_url(policy.url_base, self.token), expires_at=self.expires_at)


@functools.lru_cache(maxsize=None)
def _ticket_insert(dialect: str) -> sa.Insert:
    """The ticket INSERT, built once (its values bound per call).

    A code some live ticket holds already is skipped by the unique index, not by a look first: one
    round trip, and two kiosks drawing the same code at the same moment cannot both get it.
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    table = TicketRow.__table__  # type: ignore[attr-defined]
    return (
        insert(table)
        .on_conflict_do_nothing(index_elements=["user_code_hash"], index_where=sa.text(LIVE_TICKET))
        .returning(table.c.id)
    )


def state(session: Session, now: datetime, ticket_id: int) -> TicketState:
    """Where a ticket stands.

    Raises:
        KioskError: ACTIVATION_UNKNOWN when there is no such ticket (or it was purged).
    """
    return status(session, now, ticket_id)[0]


def status(session: Session, now: datetime, ticket_id: int, kiosk_id: str | None = None) -> tuple[TicketState, datetime]:
    """Where a ticket stands and when it runs out.

    Args:
        kiosk_id: the asking kiosk; another kiosk's ticket is answered as unknown. None: any kiosk's.
    Raises:
        KioskError: ACTIVATION_UNKNOWN when there is no such ticket (or it was purged), or it is another kiosk's.
    """
    row = session.get(TicketRow, ticket_id)
    if row is None or (kiosk_id is not None and row.kiosk_id != kiosk_id):
        raise KioskError("ACTIVATION_UNKNOWN", f"ticket {ticket_id}")
    return _state_of(row, now), row.expires_at


def _state_of(row: TicketRow | sa.Row, now: datetime) -> TicketState:
    if row.used_at is not None:
        return "activated"
    if row.revoked:
        return "revoked"
    if row.expires_at <= now:
        return "expired"
    return "pending"


def activate(session: Session, now: datetime, presented: str, kiosk_id: str) -> ActivationResult:
    """Use a ticket: its e-card ACTIVE and the ticket used, together or not at all, once.

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
    candidate = next((r for r in rows if _state_of(r, now) == "pending"), rows[0])
    _refuse_unless_pending(candidate, now)
    return use(session, now, candidate, kiosk_id)


def use(session: Session, now: datetime, candidate: TicketRow | sa.Row, kiosk_id: str) -> ActivationResult:
    """Use a ticket row that was found pending (activate, and the phone's bound activation, found it).

    `candidate`: the ticket as found (its `id` and `ecard_id` are what count; it is read again under the lock).
    Raises:
        KioskError: ACTIVATION_USED, ACTIVATION_EXPIRED: it changed since it was read (another app, a newer QR).
    """
    # The e-card first (the order issuing takes): of many apps racing with one ticket, one goes on,
    # the others find it used when they get the lock; a concurrent issue waits or is waited for.
    # Core statements built once: the ORM's identity map and unit of work cost more CPU than the five round trips.
    connection = session.connection()
    statements = _use_statements()
    ecard = connection.execute(statements.lock_ecard, {"ecard": candidate.ecard_id}).first()
    pending = ecard is not None and ECardState(ecard.state) is ECardState.PENDING
    detail = f"ecard={candidate.ecard_id} ticket={candidate.id}"
    # The ticket as it stands now that the e-card is ours: used here only if it is still pending. On PostgreSQL
    # the ticket's use, the e-card's activation and the audit event are one statement (data-modifying CTEs, each
    # step only if the one before wrote: one round trip instead of three); SQLite runs them one by one.
    one_trip = connection.dialect.name == "postgresql"
    used = None
    if pending and one_trip:
        used = connection.execute(statements.use_activate_audit, {
            "ticket": candidate.id, "ecard": candidate.ecard_id, "now": now,
            "audit_kind": "ecard_activated", "audit_kiosk": kiosk_id, "audit_detail": detail}).first()
    elif pending:
        used = connection.execute(statements.use_ticket, {"ticket": candidate.id, "now": now}).first()
    if not pending or used is None:
        current = connection.execute(statements.ticket, {"ticket": candidate.id}).first()
        if current is not None:
            _refuse_unless_pending(current, now)
        if not pending:
            state_now = ECardState(ecard.state).value if ecard is not None else "gone"
            raise KioskError("ACTIVATION_USED" if state_now == "active" else "ACTIVATION_EXPIRED",
                             f"e-card {candidate.ecard_id} is {state_now}")
        raise KioskError("ACTIVATION_EXPIRED", f"ticket {candidate.id} gone")
    if not one_trip:
        connection.execute(statements.activate_ecard, {"ecard": candidate.ecard_id, "now": now})
        connection.execute(statements.audit, {"at": now, "kind": "ecard_activated", "kiosk_id": kiosk_id,
                                              "detail": detail})
    assert candidate.id is not None
    return ActivationResult(ticket_id=candidate.id, ecard_id=candidate.ecard_id, child_resident_id=ecard.child_resident_id,
                            activated_at=now)


@dataclass(frozen=True)
class _UseStatements:
    lock_ecard: sa.Select
    use_ticket: sa.Update
    ticket: sa.Select
    activate_ecard: sa.Update
    audit: sa.Insert
    use_activate_audit: sa.Select
    """use_ticket, activate_ecard and audit in one statement (PostgreSQL): a row (the ticket's id) if it was used."""


@functools.lru_cache(maxsize=None)
def _use_statements() -> _UseStatements:
    """The statements of `use`, built once (building them costs more than running them); values bound per call."""
    ecard = ECard.__table__  # type: ignore[attr-defined]
    ticket = TicketRow.__table__  # type: ignore[attr-defined]
    person = Person.__table__  # type: ignore[attr-defined]
    now = sa.bindparam("now", type_=ticket.c.used_at.type)
    audit_table = AuditEvent.__table__  # type: ignore[attr-defined]
    used = (sa.update(ticket)
            .where(ticket.c.id == sa.bindparam("ticket"), sa.text(LIVE_TICKET), ticket.c.expires_at > now)
            .values(used_at=now).returning(ticket.c.id).cte("used"))
    activated = (sa.update(ecard).where(ecard.c.id == sa.bindparam("ecard"), sa.exists(sa.select(used.c.id)))
                 .values(state=ECardState.ACTIVE.value, activated_at=now).returning(ecard.c.id).cte("activated"))
    audited = sa.insert(audit_table).from_select(
        ["at", "kind", "kiosk_id", "detail"],
        # (bound names that are no column's: an UPDATE would take a value named as its column for its SET)
        sa.select(now, sa.bindparam("audit_kind", type_=audit_table.c.kind.type),
                  sa.bindparam("audit_kiosk", type_=audit_table.c.kiosk_id.type),
                  sa.bindparam("audit_detail", type_=audit_table.c.detail.type)).select_from(activated),
    ).cte("audited")
    return _UseStatements(
        use_activate_audit=sa.select(used.c.id).add_cte(activated).add_cte(audited),
        lock_ecard=sa.select(ecard.c.state, person.c.resident_id.label("child_resident_id"))
        .select_from(ecard.join(person, person.c.id == ecard.c.child_id))
        .where(ecard.c.id == sa.bindparam("ecard")).with_for_update(of=ecard),
        use_ticket=sa.update(ticket)
        .where(ticket.c.id == sa.bindparam("ticket"), sa.text(LIVE_TICKET), ticket.c.expires_at > now)
        .values(used_at=now).returning(ticket.c.id),
        ticket=sa.select(ticket.c.id, ticket.c.used_at, ticket.c.revoked, ticket.c.expires_at)
        .where(ticket.c.id == sa.bindparam("ticket")),
        activate_ecard=sa.update(ecard).where(ecard.c.id == sa.bindparam("ecard"))
        .values(state=ECardState.ACTIVE.value, activated_at=now),
        audit=sa.insert(AuditEvent.__table__),  # type: ignore[attr-defined]
    )


def _refuse_unless_pending(row: TicketRow | sa.Row, now: datetime) -> None:
    found = _state_of(row, now)
    if found == "activated":
        raise KioskError("ACTIVATION_USED", f"ticket {row.id}")
    if found in ("expired", "revoked"):
        raise KioskError("ACTIVATION_EXPIRED", f"ticket {row.id} {found}")


def withdraw(session: Session, ticket_id: int, kiosk_id: str) -> bool:
    """Revoke a live ticket shown at this kiosk (the guardian left its QR screen).

    Returns:
        False when it was used, revoked, unknown or shown at another kiosk.
    """
    done = session.exec(  # type: ignore[call-overload]
        sa.update(TicketRow)
        .where(TicketRow.id == ticket_id, TicketRow.kiosk_id == kiosk_id, sa.text(LIVE_TICKET))
        .values(revoked=True)
    )
    return done.rowcount == 1


def purge_batch(connection: sa.Connection, cutoff: datetime, batch_size: int) -> int:
    """Delete at most `batch_size` unused tickets that ran out before `cutoff` (revoked ones included);
    used ones stay as the record.

    Returns:
        How many were deleted (fewer than batch_size: nothing is left to purge).
    """
    doomed = (
        select(TicketRow.id)
        .where(TicketRow.used_at.is_(None), TicketRow.expires_at <= cutoff)  # type: ignore[union-attr]
        .limit(batch_size)
        .scalar_subquery()
    )
    result = connection.execute(sa.delete(TicketRow).where(TicketRow.id.in_(doomed)))  # type: ignore[union-attr]
    return result.rowcount or 0
