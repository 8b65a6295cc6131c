"""Provides the registry's one-query look at a guardian and a child: everything the eligibility rules need."""
from __future__ import annotations

# One SELECT answers what five separate questions used to (the child, the guardianship, the child's
# live e-card, the guardian's other children with e-cards, the card's status), plus, for a
# registration, the idempotency key's earlier request. It starts from a one-row table and joins
# everything else on the side, so it answers with one row also when nobody is known.

import functools
from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session

from kiosk.domain import CardStatus, ECardState
from kiosk.registry.models import ECard, Guardianship, Person, RegistrationRequest, SocialSecurityCard

LIVE_STATES = (ECardState.PENDING, ECardState.ACTIVE)


@dataclass(frozen=True)
class Looked:
    """What the registry holds about one guardian and one child, with the row ids a write needs."""

    child_id: int | None
    child_resident_id: str | None
    child_name: str | None
    child_has_physical_card: bool
    guardian_id: int | None
    relationship: str | None
    ecard_id: int | None
    """The child's e-card that is not cancelled (for a look by e-card: that e-card, whatever its state)."""
    ecard_state: ECardState | None
    ecard_applicant_id: int | None
    guardian_children_with_ecards: int
    card_status: CardStatus
    """UNKNOWN also when the card is on record as someone else's than the guardian's."""
    request_ecard_id: int | None = None
    request_guardian_id: int | None = None
    request_child_id: int | None = None

    @property
    def child_known(self) -> bool:
        return self.child_id is not None


def normal_rid(text: str) -> str:
    """An ID number as the registry stores it."""
    return text.strip().upper()


@functools.lru_cache(maxsize=None)
def _query(by_ecard: bool, with_request: bool, lock: bool) -> sa.Select:
    """The look's SELECT, built once per shape (building it costs more than running it); values are bound."""
    person = Person.__table__  # type: ignore[attr-defined]
    child, guardian = person.alias("child"), person.alias("guardian")
    link = Guardianship.__table__.alias("link")  # type: ignore[attr-defined]
    card = SocialSecurityCard.__table__.alias("card")  # type: ignore[attr-defined]
    other = ECard.__table__.alias("other")  # type: ignore[attr-defined]
    other_link = Guardianship.__table__.alias("other_link")  # type: ignore[attr-defined]
    slots = (
        sa.select(sa.func.count(sa.func.distinct(other.c.child_id)))
        .select_from(other.join(other_link, other_link.c.child_id == other.c.child_id))
        .where(other_link.c.guardian_id == guardian.c.id,
               other.c.state.in_([state.value for state in LIVE_STATES]),
               other.c.child_id != sa.func.coalesce(child.c.id, -1))
        .correlate(guardian, child)
        .scalar_subquery()
    )
    if not by_ecard:
        ecard = ECard.__table__.alias("live")  # type: ignore[attr-defined]
        ask = sa.select(sa.literal_column("1").label("one")).subquery("ask")
        tree = sa.outerjoin(ask, child, child.c.resident_id == sa.bindparam("child")).outerjoin(
            ecard, sa.and_(ecard.c.child_id == child.c.id, ecard.c.state != ECardState.CANCELLED.value))
    else:
        ecard = ECard.__table__.alias("target")  # type: ignore[attr-defined]
        tree = sa.join(ecard, child, child.c.id == ecard.c.child_id)
    tree = (
        tree.outerjoin(guardian, guardian.c.resident_id == sa.bindparam("guardian"))
        .outerjoin(link, sa.and_(link.c.guardian_id == guardian.c.id, link.c.child_id == child.c.id))
        .outerjoin(card, card.c.card_number == sa.bindparam("card"))
    )
    columns = [
        child.c.id, child.c.resident_id, child.c.name, child.c.has_physical_card, guardian.c.id, link.c.relationship,
        ecard.c.id, ecard.c.state, ecard.c.applicant_id, slots.label("slots"), card.c.status, card.c.holder_id,
    ]
    if with_request:
        asked = RegistrationRequest.__table__.alias("asked")  # type: ignore[attr-defined]
        tree = tree.outerjoin(asked, sa.and_(asked.c.kiosk_id == sa.bindparam("kiosk"),
                                             asked.c.idempotency_key == sa.bindparam("key")))
        columns += [asked.c.ecard_id, asked.c.guardian_id, asked.c.child_id]
    query = sa.select(*columns).select_from(tree)
    if by_ecard:
        query = query.where(ecard.c.id == sa.bindparam("ecard"))
        if lock:
            query = query.with_for_update(of=ecard)
    else:
        query = query.order_by(ecard.c.id.desc()).limit(1)  # the unique index keeps it to one anyway
    return query


def lock_people(session: Session, *resident_ids: str) -> None:
    """Lock the people a registration is about (PostgreSQL), in id order so two registrations never deadlock.

    A child's registrations then happen one after the other, and so do a guardian's (the child slots
    are counted per guardian): the second one sees what the first one wrote.
    """
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the writing transaction holds the whole file already (BEGIN IMMEDIATE)
    values = {f"rid{i}": normal_rid(r) for i, r in enumerate(resident_ids)}
    session.connection().execute(_lock_query(len(values)), values).all()


@functools.lru_cache(maxsize=None)
def _lock_query(count: int) -> sa.Select:
    """lock_people's SELECT .. FOR UPDATE for `count` ID numbers, built once (one bound value each, not an
    expanding IN whose SQL is made again at every call)."""
    person = Person.__table__  # type: ignore[attr-defined]
    return (
        sa.select(person.c.id).where(person.c.resident_id.in_([sa.bindparam(f"rid{i}") for i in range(count)]))
        .order_by(person.c.id).with_for_update()
    )


def look(
    session: Session | sa.Connection,
    guardian_rid: str,
    child_rid: str | None = None,
    *,
    ecard_id: int | None = None,
    card_number: str | None = None,
    request: tuple[str, str] | None = None,
    lock_ecard: bool = False,
) -> Looked | None:
    """Look at the guardian and the child named by `child_rid`, or the child of e-card `ecard_id` (one statement,
    in the caller's transaction: a Session's, or a Core connection's).

    Args:
        card_number: the guardian's card, whose status to give (UNKNOWN when not given).
        request: (kiosk id, idempotency key) of a registration, to find its earlier request.
        lock_ecard: lock the row of e-card `ecard_id` (PostgreSQL) until the transaction ends.
    Returns:
        The look; None only for a look by e-card when there is no such e-card.
    """
    query = _query(ecard_id is not None, request is not None, lock_ecard and ecard_id is not None)
    values = {"guardian": normal_rid(guardian_rid), "card": normal_rid(card_number or "")}
    if ecard_id is None:
        values["child"] = normal_rid(child_rid or "")
    else:
        values["ecard"] = ecard_id
    if request is not None:
        values["kiosk"], values["key"] = request
    connection = session.connection() if isinstance(session, Session) else session
    row = connection.execute(query, values).first()
    if row is None:
        return None
    status = CardStatus.UNKNOWN
    if row[10] is not None and row[11] is not None and row[11] == row[4]:
        status = CardStatus(row[10])
    extra = tuple(row[12:15]) if request is not None else (None, None, None)
    return Looked(
        child_id=row[0], child_resident_id=row[1], child_name=row[2], child_has_physical_card=bool(row[3]),
        guardian_id=row[4], relationship=row[5], ecard_id=row[6],
        ecard_state=ECardState(row[7]) if row[7] is not None else None, ecard_applicant_id=row[8],
        guardian_children_with_ecards=int(row[9] or 0), card_status=status,
        request_ecard_id=extra[0], request_guardian_id=extra[1], request_child_id=extra[2],
    )
