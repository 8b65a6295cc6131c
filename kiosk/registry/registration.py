"""Provides registration in one transaction, every rule checked again from the records, idempotent by key."""
from __future__ import annotations

# Every eligibility rule is checked again from the registry's own records, the e-card and its first
# ticket are written together, a retry with the kiosk's key gets the same e-card; resuming, renewing
# and cancelling a pending e-card go under the same rules.
#
# The kiosk's decision counts for nothing here: the facts come from the registry's rows (read under
# the row locks the write needs) and from the card facts the kiosk presents, and the same rules
# (kiosk.eligibility, the region's file) decide. Each function runs inside one writing transaction
# of the caller's (Registry) and returns the port's plain values.

import functools
import re
from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session

from kiosk.domain import CardHolder, CardIssuer, ECardState, GuardianCard
from kiosk.eligibility import EligibilityFacts, Region, evaluate
from kiosk.masking import mask_id
from kiosk.registry import activation, upkeep
from kiosk.registry.activation import TicketPolicy
from kiosk.registry.lookup import Looked, lock_people, look, normal_rid
from kiosk.registry.models import LIVE_TICKET, AuditEvent, ECard, RegistrationRequest
from kiosk.registry.models import ActivationTicket as TicketRow
from kiosk.registry.port import IssuedTicket, PresentedCard, Refusal, Registration
from kiosk.registry.records import RequestRejected
from kiosk.resident_id import ResidentId, ResidentIdError
from kiosk.tickets import ActivationTicket

IDEMPOTENCY_KEY = re.compile(r"[\x21-\x7e]{8,64}")
"""What a kiosk may send as its idempotency key (a UUID, say): visible ASCII, 8 to 64 characters."""
IDENTITY_RULES = frozenset(
    {"CARD_UNREADABLE", "NOT_SOCIAL_SECURITY_CARD", "CARD_EXPIRED", "CARD_NOT_NORMAL", "PIN_NOT_VERIFIED",
     "CHILD_UNKNOWN", "NOT_GUARDIAN"}
)
"""The rules that say who may cancel a pending e-card: the holder of a good card, proved, a guardian of the child."""


class RegistrationRaced(Exception):
    """Another writer (one that takes no row locks: the last release's kiosks) registered the same child
    between our look and our write: the transaction is rolled back and tried once more."""


@dataclass(frozen=True)
class Desk:
    """Who asks and under which rules: the kiosk (from its credential or settings), the region, the tickets, the time."""

    kiosk_id: str
    region: Region
    policy: TicketPolicy
    now: datetime

    @property
    def today(self) -> date:
        """The date where the registry runs (as the kiosk's session counts it)."""
        return self.now.astimezone().date()


def register(session: Session, desk: Desk, card: PresentedCard, child_text: str, key: str) -> Registration:
    """Register a pending e-card and its first ticket, or say why not (see kiosk.registry.port.RegistryPort.register).

    Raises:
        RequestRejected: IDEMPOTENCY_KEY_INVALID, IDEMPOTENCY_KEY_REUSED.
        RegistrationRaced: a writer without row locks got there first (try again).
    """
    if not IDEMPOTENCY_KEY.fullmatch(key):
        raise RequestRejected("IDEMPOTENCY_KEY_INVALID", "expected 8-64 visible ASCII characters")
    guardian_rid, child_rid = normal_rid(card.holder_resident_id), normal_rid(child_text)
    lock_people(session, guardian_rid, child_rid)
    looked = look(session, guardian_rid, child_rid, card_number=card.card_number, request=(desk.kiosk_id, key))
    assert looked is not None  # a look by ID number always has its one row
    if looked.request_ecard_id is not None:
        if (looked.request_guardian_id, looked.request_child_id) != (looked.guardian_id, looked.child_id):
            raise RequestRejected("IDEMPOTENCY_KEY_REUSED", f"key of e-card {looked.request_ecard_id}, another request")
        return _replay(session, desk, looked)
    decision = evaluate(facts_for(looked, card, child_text, desk.today), desk.region, "child")
    if not decision.eligible:
        codes = ",".join(decision.codes)
        session.add(AuditEvent(at=desk.now, kind="registration_refused", kiosk_id=desk.kiosk_id,
                               detail=f"child={mask_id(child_rid)} guardian={mask_id(guardian_rid)} codes={codes}"))
        return Registration("refused", refusals=tuple(Refusal(f.code, f.variant) for f in decision.failures))
    if decision.resume:
        return Registration("already_pending", ecard_id=looked.ecard_id)
    assert looked.child_id is not None and looked.guardian_id is not None
    connection = session.connection()  # Core from here: the ORM's unit of work costs more CPU than the writes
    if connection.dialect.name == "postgresql":
        try:
            return _write_in_one(connection, desk, looked, key, guardian_rid, child_rid)
        except _CodeTaken as taken:  # the drawn user code was a live ticket's: the e-card alone is written
            return _after_ecard(session, desk, looked, key, guardian_rid, child_rid, taken.ecard_id)
    try:
        ecard_id = connection.execute(
            _ecard_insert(),
            {"child_id": looked.child_id, "applicant_id": looked.guardian_id, "created_at": desk.now,
             "kiosk_id": desk.kiosk_id, **_NEW_ECARD},
        ).scalar_one()
    except IntegrityError:
        raise RegistrationRaced() from None
    return _after_ecard(session, desk, looked, key, guardian_rid, child_rid, ecard_id)


_NEW_ECARD = {"state": ECardState.PENDING.value, "level": 1, "tickets_issued": 1}
"""What every new e-card is: pending, level 1 (identity and queries), its first ticket issued with it."""


def _registered_tail(child_rid: str, guardian_rid: str) -> str:
    """The ecard_registered audit event's detail after its `ecard=<id>`: who, masked."""
    return f" child={mask_id(child_rid)} guardian={mask_id(guardian_rid)}"


def _after_ecard(session: Session, desk: Desk, looked: Looked, key: str, guardian_rid: str, child_rid: str,
                 ecard_id: int) -> Registration:
    """The pending e-card `ecard_id` is written: its first ticket, the idempotency key, the two audit events."""
    assert looked.guardian_id is not None
    connection = session.connection()
    ticket = activation.add_ticket(session, desk.now, ecard_id, desk.policy, desk.kiosk_id, looked.guardian_id)
    connection.execute(_request_insert(), {
        "kiosk_id": desk.kiosk_id, "idempotency_key": key, "guardian_id": looked.guardian_id,
        "child_id": looked.child_id, "ecard_id": ecard_id, "created_at": desk.now})
    connection.execute(_registered_audit(), {
        "at": desk.now, "kiosk_id": desk.kiosk_id,
        "registered": f"ecard={ecard_id}{_registered_tail(child_rid, guardian_rid)}",
        "issued": f"ecard={ecard_id} ticket={ticket.ticket_id}"})
    return Registration("registered", ecard_id, issued(ticket, desk.policy))


def _write_in_one(connection: sa.Connection, desk: Desk, looked: Looked, key: str, guardian_rid: str,
                  child_rid: str) -> Registration:
    """PostgreSQL: the registration's four INSERTs (e-card, first ticket, idempotency key, two audit events) as one
    statement, one round trip instead of four.

    Raises:
        _CodeTaken: the ticket's drawn user code was a live ticket's (the unique index skipped it, so only the
            e-card was written): the caller goes on as on SQLite, drawing codes again.
        RegistrationRaced: a writer without row locks got there first (the one live e-card per child's index).
    """
    fresh = activation.FreshTicket.draw(desk.now, desk.policy)
    try:
        row = connection.execute(_one_trip_writes(), {
            "w_child_id": looked.child_id, "w_guardian_id": looked.guardian_id, "w_now": desk.now,
            "w_kiosk_id": desk.kiosk_id, "w_token_hash": fresh.token_hash, "w_user_code_hash": fresh.user_code_hash,
            "w_expires_at": fresh.expires_at, "w_key": key, "w_registered_tail": _registered_tail(child_rid, guardian_rid),
        }).one()
    except IntegrityError as exc:
        if getattr(getattr(exc.orig, "diag", None), "table_name", None) == ECard.__tablename__:
            raise RegistrationRaced() from None
        raise
    if row.ticket_id is None:
        raise _CodeTaken(row.ecard_id)
    return Registration("registered", row.ecard_id, issued(fresh.ticket(row.ticket_id, row.ecard_id, desk.policy),
                                                             desk.policy))


class _CodeTaken(Exception):
    def __init__(self, ecard_id: int) -> None:
        super().__init__(ecard_id)
        self.ecard_id = ecard_id


@functools.lru_cache(maxsize=None)
def _one_trip_writes() -> sa.Select:
    """_write_in_one's statement, built once: data-modifying CTEs, each INSERT fed by the one before (no ticket: no
    idempotency key nor audit events). Its bound names are no column's (an INSERT would take a value named as
    one of its columns for that column)."""
    ecard, ticket = ECard.__table__, TicketRow.__table__  # type: ignore[attr-defined]
    request, audit = RegistrationRequest.__table__, AuditEvent.__table__  # type: ignore[attr-defined]

    def bound(name: str, column: sa.Column) -> sa.BindParameter:
        return sa.bindparam(f"w_{name}", type_=column.type)

    at, kiosk = bound("now", ecard.c.created_at), bound("kiosk_id", ecard.c.kiosk_id)
    guardian, child = bound("guardian_id", ecard.c.applicant_id), bound("child_id", ecard.c.child_id)
    def defaults(table: sa.Table, given: list[str]) -> dict[str, sa.ColumnElement]:
        # The columns' Python-side defaults, which SQLAlchemy fills in only for an INSERT that is the statement itself.
        return {c.name: sa.literal(c.default.arg, c.type) for c in table.c  # type: ignore[union-attr]
                if c.default is not None and not c.primary_key and c.name not in given}

    made_values = {"child_id": child, "applicant_id": guardian, "created_at": at, "kiosk_id": kiosk, **_NEW_ECARD}
    made = (sa.insert(ecard).values(**made_values, **defaults(ecard, list(made_values)))
            .returning(ecard.c.id).cte("made"))
    first_columns = ["ecard_id", "token_hash", "user_code_hash", "created_at", "expires_at", "revoked", "kiosk_id",
                     "guardian_id"]
    first_defaults = defaults(ticket, first_columns)
    first = (postgresql.insert(ticket).from_select(
        [*first_columns, *first_defaults],
        sa.select(made.c.id, bound("token_hash", ticket.c.token_hash), bound("user_code_hash", ticket.c.user_code_hash),
                  at, bound("expires_at", ticket.c.expires_at), sa.false(), kiosk, guardian, *first_defaults.values()))
        .on_conflict_do_nothing(index_elements=["user_code_hash"], index_where=sa.text(LIVE_TICKET))
        .returning(ticket.c.id, ticket.c.ecard_id).cte("first"))
    asked = sa.insert(request).from_select(
        ["kiosk_id", "idempotency_key", "guardian_id", "child_id", "ecard_id", "created_at"],
        sa.select(kiosk, bound("key", request.c.idempotency_key), guardian, child, first.c.ecard_id, at)).cte("asked")
    ecard_text = sa.literal("ecard=") + sa.cast(first.c.ecard_id, sa.String)
    told = sa.insert(audit).from_select(["at", "kind", "kiosk_id", "detail"], sa.union_all(
        sa.select(at, sa.literal("ecard_registered", audit.c.kind.type), kiosk,
                  ecard_text + bound("registered_tail", audit.c.detail)),
        sa.select(at, sa.literal("ticket_issued", audit.c.kind.type), kiosk,
                  ecard_text + sa.literal(" ticket=") + sa.cast(first.c.id, sa.String)),
    )).cte("told")
    return (sa.select(made.c.id.label("ecard_id"), first.c.id.label("ticket_id"))
            .select_from(made.outerjoin(first, sa.true())).add_cte(asked).add_cte(told))


@functools.lru_cache(maxsize=None)
def _ecard_insert() -> sa.Insert:
    """The pending e-card's INSERT .. RETURNING its id, built once."""
    table = ECard.__table__  # type: ignore[attr-defined]
    return sa.insert(table).returning(table.c.id)


@functools.lru_cache(maxsize=None)
def _request_insert() -> sa.Insert:
    """The idempotency key's INSERT, built once."""
    return sa.insert(RegistrationRequest.__table__)  # type: ignore[attr-defined]


@functools.lru_cache(maxsize=None)
def _registered_audit() -> sa.TextClause:
    """A registration's two audit events (ecard_registered, ticket_issued) as one INSERT of two rows, built once
    (a driver-side executemany costs more than the statement). Text, not a multi-VALUES insert(): SQLAlchemy
    caches no compiled form of those, and compiled it again at every registration."""
    table = AuditEvent.__table__  # type: ignore[attr-defined]
    return sa.text(
        f"INSERT INTO {table.name} (at, kind, kiosk_id, detail) VALUES"
        " (:at, 'ecard_registered', :kiosk_id, :registered), (:at, 'ticket_issued', :kiosk_id, :issued)"
    ).bindparams(sa.bindparam("at", type_=table.c.at.type), sa.bindparam("kiosk_id", type_=table.c.kiosk_id.type),
                 sa.bindparam("registered", type_=table.c.detail.type), sa.bindparam("issued", type_=table.c.detail.type))


def _replay(session: Session, desk: Desk, looked: Looked) -> Registration:
    """The same registration asked again: the same e-card, and a fresh ticket while it is pending."""
    ecard_id = looked.request_ecard_id
    assert ecard_id is not None
    ecard = activation.lock_ecard(session, ecard_id)
    assert ecard is not None  # e-cards are never deleted
    if ecard.state is ECardState.ACTIVE:
        return Registration("activated", ecard_id)
    if ecard.state is ECardState.CANCELLED:
        return Registration("cancelled", ecard_id)
    ticket = activation.replace_ticket(session, desk.now, ecard_id, desk.policy, desk.kiosk_id, looked.guardian_id)
    return Registration("replayed", ecard_id, issued(ticket, desk.policy))


def issue(session: Session, desk: Desk, ecard_id: int, card: PresentedCard) -> Registration:
    """A fresh ticket for a pending e-card, for the guardian presenting the card (resume or renew).

    Raises:
        RequestRejected: ECARD_UNKNOWN.
    """
    looked = _look_at(session, ecard_id, card)
    if looked.ecard_state is ECardState.CANCELLED:
        return Registration("cancelled", ecard_id)
    decision = evaluate(facts_for(looked, card, looked.child_resident_id or "", desk.today), desk.region, "child")
    refusals = tuple(Refusal(f.code, f.variant) for f in decision.failures if f.code != "CHILD_HAS_ECARD")
    if refusals:
        return Registration("refused", ecard_id, refusals=refusals)
    if looked.ecard_state is ECardState.ACTIVE:
        return Registration("activated", ecard_id)
    ticket = activation.replace_ticket(session, desk.now, ecard_id, desk.policy, desk.kiosk_id, looked.guardian_id)
    return Registration("issued", ecard_id, issued(ticket, desk.policy))


def cancel(session: Session, desk: Desk, ecard_id: int, card: PresentedCard) -> Registration:
    """The guardian presenting the card cancels the pending e-card of their child.

    Raises:
        RequestRejected: ECARD_UNKNOWN.
    """
    looked = _look_at(session, ecard_id, card)
    if looked.ecard_state is ECardState.CANCELLED:
        return Registration("cancelled", ecard_id)
    decision = evaluate(facts_for(looked, card, looked.child_resident_id or "", desk.today), desk.region, "child")
    refusals = tuple(Refusal(f.code, f.variant) for f in decision.failures if f.code in IDENTITY_RULES)
    if refusals:
        return Registration("refused", ecard_id, refusals=refusals)
    if looked.ecard_state is ECardState.ACTIVE:
        return Registration("activated", ecard_id)
    upkeep.cancel_pending(session, desk.now, ecard_id, desk.kiosk_id, f"by=guardian {mask_id(card.holder_resident_id)}")
    return Registration("cancelled", ecard_id)


def _look_at(session: Session, ecard_id: int, card: PresentedCard) -> Looked:
    looked = look(session, card.holder_resident_id, ecard_id=ecard_id, card_number=card.card_number, lock_ecard=True)
    if looked is None:
        raise RequestRejected("ECARD_UNKNOWN", f"e-card {ecard_id}")
    return looked


def facts_for(looked: Looked, card: PresentedCard, child_text: str, today: date) -> EligibilityFacts:
    """The facts the rules judge: the card as presented (its status from the records), the child from the records."""
    try:
        child_id: ResidentId | None = ResidentId.parse(child_text, today=today)
    except ResidentIdError:
        child_id = None
    presented = GuardianCard(
        atr=b"",
        issuer=CardIssuer(card_id_code=b"", card_type="", spec_version=card.spec_version, init_org="",
                          issue_date=None, expiry_date=card.expiry_date, card_number=card.card_number),
        holder=CardHolder(resident_id=card.holder_resident_id, name="", sex="", nation="", birthplace="",
                          birth_date=None),
    )
    known = looked.child_known and child_id is not None
    return EligibilityFacts(
        today=today,
        card=presented,
        card_readable=True,
        is_social_security_card=True,
        card_status=looked.card_status,
        pin_verified=card.pin_verified,
        child_id_text=child_text,
        child_id=child_id,
        child_known=known,
        relationship=looked.relationship if known else None,
        child_ecard_state=looked.ecard_state if known else None,
        child_ecard_pending_by_this_guardian=bool(
            known and looked.ecard_state is ECardState.PENDING and looked.ecard_applicant_id == looked.guardian_id
        ),
        guardian_children_with_ecards=looked.guardian_children_with_ecards,
        child_has_physical_card=looked.child_has_physical_card if known else False,
    )


def issued(ticket: ActivationTicket, policy: TicketPolicy) -> IssuedTicket:
    """The port's view of a ticket just issued."""
    return IssuedTicket(ticket.ticket_id, ticket.ecard_id, ticket.user_code, ticket.url, ticket.expires_at,
                        policy.poll_interval_seconds)
