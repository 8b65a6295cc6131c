"""Provides synthetic families for registry tests: a guardian with a normal card and a young child, in bulk."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import sqlalchemy as sa

from kiosk.registry import Registry
from kiosk.registry.models import Guardianship, Person, SocialSecurityCard
from kiosk.registry.port import PresentedCard
from kiosk.resident_id import check_char

CARD_VALID_UNTIL = date(2035, 1, 1)


def resident_id(born: date, serial: int, area: str = "430103") -> str:
    """A valid ID number (GB 11643 check character) for someone born that day; serial 0-999."""
    first17 = f"{area}{born:%Y%m%d}{serial:03d}"
    return first17 + check_char(first17)


@dataclass(frozen=True)
class Family:
    guardian: str
    card_number: str
    child: str

    @property
    def card(self) -> PresentedCard:
        return PresentedCard(self.card_number, "3.00", CARD_VALID_UNTIL, self.guardian, True)


def add_families(registry: Registry, count: int, start: int = 0) -> list[Family]:
    """Add `count` families (numbered from `start`): guardian born 1985, child born 2020, a normal 3.00 card."""
    families = []
    for n in range(start, start + count):
        day, serial = divmod(n, 1000)
        families.append(Family(resident_id(date(1985, 1, 1) + timedelta(days=day), serial),
                               f"F{n:08d}", resident_id(date(2020, 1, 1) + timedelta(days=day), serial)))
    with registry.database.connection("families", writes=True) as connection:
        connection.execute(sa.insert(Person.__table__), [  # type: ignore[attr-defined]
            {"resident_id": rid, "name": name, "birth_date": born, "sex": "1", "has_physical_card": False}
            for f in families
            for rid, name, born in ((f.guardian, "王大", date(1985, 1, 1)), (f.child, "王小明", date(2020, 1, 1)))
        ])
        ids = dict(connection.execute(sa.select(Person.resident_id, Person.id).where(  # type: ignore[call-overload]
            Person.resident_id.in_([r for f in families for r in (f.guardian, f.child)]))).all())
        connection.execute(sa.insert(SocialSecurityCard.__table__), [  # type: ignore[attr-defined]
            {"card_number": f.card_number, "holder_id": ids[f.guardian], "status": "normal", "spec_version": "3.00"}
            for f in families
        ])
        connection.execute(sa.insert(Guardianship.__table__), [  # type: ignore[attr-defined]
            {"guardian_id": ids[f.guardian], "child_id": ids[f.child], "relationship": "father"} for f in families
        ])
    return families
