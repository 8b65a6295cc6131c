"""Provides children_of: the guardian's children on record with their e-card's state, in one query (the kiosk's picker)."""
from __future__ import annotations

from sqlalchemy import and_
from sqlalchemy.orm import aliased
from sqlmodel import select

from kiosk.domain import ECardState
from kiosk.masking import mask_id, mask_name
from kiosk.registry.database import Database
from kiosk.registry.models import ECard, Guardianship, Person
from kiosk.registry.port import ChildSummary

_LIVE = (ECardState.PENDING, ECardState.ACTIVE)


def children_of(database: Database, guardian_rid: str) -> tuple[ChildSummary, ...]:
    """The guardian's children, eldest first (by the birth date in the ID number), each with its live e-card if any.

    One query over the indexes the registry already has (person.resident_id, guardianship.guardian_id,
    ecard.child_id): a guardian has a handful of children, so the sort happens here.
    """
    guardian, child = aliased(Person), aliased(Person)
    query = (
        select(child.resident_id, child.name, Guardianship.relationship, ECard.id, ECard.state)
        .select_from(Guardianship)
        .join(guardian, guardian.id == Guardianship.guardian_id)
        .join(child, child.id == Guardianship.child_id)
        .outerjoin(ECard, and_(ECard.child_id == child.id, ECard.state.in_(_LIVE)))
        .where(guardian.resident_id == guardian_rid.strip().upper(), child.id != guardian.id)
    )
    with database.transaction("guardian_children") as session:
        rows = session.exec(query).all()
    found: dict[str, ChildSummary] = {}
    for rid, name, relationship, ecard_id, state in rows:
        earlier = found.get(rid)
        if earlier is not None and (earlier.ecard_id or 0) >= (ecard_id or 0):
            continue  # the newest live e-card speaks for the child (two rows only in a breach the console reports)
        found[rid] = ChildSummary(rid, mask_name(name), mask_id(rid), int(rid[6:10]), relationship,
                                  ECardState(state) if state is not None else None, ecard_id)
    return tuple(sorted(found.values(), key=lambda c: (c.resident_id[6:14], c.masked_id)))
