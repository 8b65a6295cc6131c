"""Provides the registry's one-query look at a guardian and a child: everything the eligibility rules need."""
from __future__ import annotations

# One SELECT answers what five separate questions used to (the child, the guardianship, the child's
# live e-card, the guardian's other children with e-cards, the card's status), plus, for a
# registration, the idempotency key's earlier request. It starts from a one-row table and joins
# everything else on the side, so it answers with one row also when nobody is known.

from dataclasses import dataclass

import sqlalchemy as sa
from sqlalchemy.orm import aliased
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


def lock_people(session: Session, *resident_ids: str) -> None:
    """Lock the people a registration is about (PostgreSQL), in id order so two registrations never deadlock.

    A child's registrations then happen one after the other, and so do a guardian's (the child slots
    are counted per guardian): the second one sees what the first one wrote.
    """
    if session.get_bind().dialect.name != "postgresql":
        return  # SQLite: the writing transaction holds the whole file already (BEGIN IMMEDIATE)
    session.execute(
        sa.select(Person.id).where(Person.resident_id.in_([normal_rid(r) for r in resident_ids]))  # type: ignore[attr-defined]
        .order_by(Person.id).with_for_update()
    ).all()


def look(
    session: Session,
    guardian_rid: str,
    child_rid: str | None = None,
    *,
    ecard_id: int | None = None,
    card_number: str | None = None,
    request: tuple[str, str] | None = None,
    lock_ecard: bool = False,
) -> Looked | None:
    """Look at the guardian and the child named by `child_rid`, or the child of e-card `ecard_id`.

    Args:
        card_number: the guardian's card, whose status to give (UNKNOWN when not given).
        request: (kiosk id, idempotency key) of a registration, to find its earlier request.
        lock_ecard: lock the row of e-card `ecard_id` (PostgreSQL) until the transaction ends.
    Returns:
        The look; None only for a look by e-card when there is no such e-card.
    """
    child, guardian = aliased(Person, name="child"), aliased(Person, name="guardian")
    card = aliased(SocialSecurityCard, name="card")
    other, other_link = aliased(ECard, name="other"), aliased(Guardianship, name="other_link")
    slots = (
        sa.select(sa.func.count(sa.func.distinct(other.child_id)))
        .select_from(other)
        .join(other_link, other_link.child_id == other.child_id)
        .where(other_link.guardian_id == guardian.id, other.state.in_(LIVE_STATES),  # type: ignore[attr-defined]
               other.child_id != sa.func.coalesce(child.id, -1))
        .correlate(guardian, child)
        .scalar_subquery()
    )
    if ecard_id is None:
        ecard = aliased(ECard, name="live")
        ask = sa.select(sa.literal_column("1").label("one")).subquery("ask")
        tree = sa.outerjoin(ask, child, child.resident_id == normal_rid(child_rid or "")).outerjoin(
            ecard, sa.and_(ecard.child_id == child.id, ecard.state != ECardState.CANCELLED))
    else:
        ecard = aliased(ECard, name="target")
        tree = sa.join(ecard, child, child.id == ecard.child_id)
    tree = (
        tree.outerjoin(guardian, guardian.resident_id == normal_rid(guardian_rid))
        .outerjoin(Guardianship, sa.and_(Guardianship.guardian_id == guardian.id, Guardianship.child_id == child.id))
        .outerjoin(card, card.card_number == normal_rid(card_number or ""))
    )
    columns = [
        child.id, child.resident_id, child.name, child.has_physical_card, guardian.id, Guardianship.relationship,
        ecard.id, ecard.state, ecard.applicant_id, slots.label("slots"), card.status, card.holder_id,
    ]
    if request is not None:
        asked = aliased(RegistrationRequest, name="asked")
        tree = tree.outerjoin(asked, sa.and_(asked.kiosk_id == request[0], asked.idempotency_key == request[1]))
        columns += [asked.ecard_id, asked.guardian_id, asked.child_id]
    query = sa.select(*columns).select_from(tree)
    if ecard_id is not None:
        query = query.where(ecard.id == ecard_id)
        if lock_ecard:
            query = query.with_for_update(of=ecard)
    else:
        query = query.order_by(ecard.id.desc()).limit(1)  # the unique index keeps it to one anyway
    row = session.execute(query).first()
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
