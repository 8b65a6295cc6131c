"""Provides load_demo(): fills an empty registry with the fictional people, cards and e-cards of a demo file."""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlmodel import Session

from kiosk.domain import CardStatus, ECardState
from kiosk.registry.models import ECard, Guardianship, Person, SocialSecurityCard
from kiosk.registry.store import Registry
from kiosk.resident_id import ResidentId, ResidentIdError

RELATIONSHIPS = ("father", "mother", "guardian")
_KEYS = {
    "person": ({"resident_id", "name"}, {"has_physical_card"}),
    "card": ({"number", "holder", "status", "spec_version"}, set()),
    "guardianship": ({"guardian", "child", "relationship"}, set()),
    "ecard": ({"child", "applicant", "state", "created_at"}, {"activated_at", "kiosk_id"}),
}


class DemoDataError(ValueError):
    """A demo file that cannot be loaded; the message names the file and the entry."""

    def __init__(self, path: Path, where: str, problem: str) -> None:
        super().__init__(f"{path}: {where}: {problem}")


@dataclass(frozen=True)
class _Entry:
    table: str
    index: int
    values: dict[str, Any]

    @property
    def where(self) -> str:
        return f"{self.table}[{self.index}]"


def load_demo(registry: Registry, path: Path | str) -> bool:
    """Load the demo file into the registry if the registry is empty (after `create_all()`).

    Everything is written in one transaction: a bad entry leaves the registry as empty as it was.

    Returns:
        True when the demo data was loaded, False when the registry already held people.
    Raises:
        DemoDataError: the file is unreadable or inconsistent (names the entry).
        KioskError: DATABASE_UNAVAILABLE.
    """
    path = Path(path)
    entries = _read(path)
    if not registry.is_empty():
        return False
    with registry.database.transaction("load_demo", writes=True) as session:
        _write(session, path, entries)
    return True


def _read(path: Path) -> dict[str, list[_Entry]]:
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise DemoDataError(path, "file", str(exc)) from None
    unknown = sorted(set(document) - set(_KEYS))
    if unknown:
        raise DemoDataError(path, unknown[0], f"unknown table; known: {', '.join(_KEYS)}")
    entries: dict[str, list[_Entry]] = {}
    for table, (required, optional) in _KEYS.items():
        entries[table] = []
        for index, values in enumerate(document.get(table, [])):
            entry = _Entry(table, index, values)
            missing = sorted(required - set(values))
            extra = sorted(set(values) - required - optional)
            if missing or extra:
                raise DemoDataError(path, entry.where, f"missing {missing}, unknown {extra}")
            entries[table].append(entry)
    return entries


def _write(session: Session, path: Path, entries: dict[str, list[_Entry]]) -> None:
    people: dict[str, Person] = {}
    for entry in entries["person"]:
        rid = _resident_id(path, entry, "resident_id")
        if rid.text in people:
            raise DemoDataError(path, entry.where, f"{rid.masked} appears twice")
        person = Person(
            resident_id=rid.text,
            name=str(entry.values["name"]),
            birth_date=rid.birth_date,
            sex=rid.sex,
            has_physical_card=bool(entry.values.get("has_physical_card", False)),
        )
        session.add(person)
        people[rid.text] = person
    session.flush()

    def person_id(entry: _Entry, key: str) -> int:
        rid = _resident_id(path, entry, key)
        if rid.text not in people:
            raise DemoDataError(path, f"{entry.where}.{key}", f"{rid.masked} is not among the people")
        person_id = people[rid.text].id
        assert person_id is not None
        return person_id

    for entry in entries["card"]:
        session.add(
            SocialSecurityCard(
                card_number=str(entry.values["number"]).upper(),
                holder_id=person_id(entry, "holder"),
                status=_choice(path, entry, "status", CardStatus),
                spec_version=str(entry.values["spec_version"]),
            )
        )
    for entry in entries["guardianship"]:
        relationship = entry.values["relationship"]
        if relationship not in RELATIONSHIPS:
            raise DemoDataError(path, f"{entry.where}.relationship", f"expected one of {', '.join(RELATIONSHIPS)}")
        session.add(
            Guardianship(
                guardian_id=person_id(entry, "guardian"), child_id=person_id(entry, "child"), relationship=relationship
            )
        )
    for entry in entries["ecard"]:
        state = _choice(path, entry, "state", ECardState)
        session.add(
            ECard(
                child_id=person_id(entry, "child"),
                applicant_id=person_id(entry, "applicant"),
                state=state,
                created_at=_moment(path, entry, "created_at"),
                activated_at=_moment(path, entry, "activated_at") if "activated_at" in entry.values else None,
                kiosk_id=str(entry.values.get("kiosk_id", "DEMO")),
                # Every demo e-card was registered at a kiosk long ago, with its first QR code (purged since).
                tickets_issued=1,
            )
        )


def _resident_id(path: Path, entry: _Entry, key: str) -> ResidentId:
    try:
        return ResidentId.parse(str(entry.values[key]))
    except ResidentIdError as exc:
        raise DemoDataError(path, f"{entry.where}.{key}", f"not a valid ID number ({exc.reason.value})") from None


def _choice(path: Path, entry: _Entry, key: str, enum_type: Any) -> Any:
    try:
        return enum_type(entry.values[key])
    except ValueError:
        allowed = ", ".join(member.value for member in enum_type)
        raise DemoDataError(path, f"{entry.where}.{key}", f"expected one of {allowed}") from None


def _moment(path: Path, entry: _Entry, key: str) -> datetime:
    value = entry.values[key]
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise DemoDataError(path, f"{entry.where}.{key}", "expected a date-time with a zone, e.g. 2024-03-01T02:15:00Z")
    return value
