"""Provides the technician accounts on the service: added and revoked by the operator, handed to kiosks with their heartbeat."""
from __future__ import annotations

# The etag is the SHA-256 of the live list itself, so every worker and replica computes the same one
# from the database without a version counter to keep: revoking (or adding) changes it, and the next
# heartbeat of every kiosk holding the old one carries the new list.

import hashlib
import json
from dataclasses import dataclass
from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql
from sqlalchemy.exc import IntegrityError

from kiosk.errors import KioskError
from kiosk.maintenance.passwords import TECHNICIAN_ID_PATTERN, hash_pin
from kiosk.ports import Clock
from kiosk.registry.database import Database
from kiosk.registry.models import LIVE_TECHNICIAN, TechnicianAccount

_TABLE = TechnicianAccount.__table__  # type: ignore[attr-defined]
LIVE_ACCOUNTS = sa.select(_TABLE.c.technician_id, _TABLE.c.pin_hash).where(sa.text(LIVE_TECHNICIAN)).order_by(
    _TABLE.c.technician_id)


class TechnicianProblem(Exception):
    """A technician command that cannot be done (an ID in use, none live, a PIN not 5-12 digits)."""


@dataclass(frozen=True)
class TechnicianRecord:
    technician_id: str
    created_at: datetime
    revoked_at: datetime | None


def etag_of(accounts: dict[str, str]) -> str:
    """The list's etag: 32 hex digits of the SHA-256 of its canonical JSON."""
    return hashlib.sha256(json.dumps(accounts, sort_keys=True).encode()).hexdigest()[:32]


def live_accounts(connection: sa.Connection) -> dict[str, str]:
    return {row.technician_id: row.pin_hash for row in connection.execute(LIVE_ACCOUNTS)}


def live_list_json(dialect: str) -> sa.ScalarSelect:
    """The live accounts as the text of one JSON object, ID -> PIN hash by ID ("{}": none), for a statement that
    reads them beside other work (the heartbeat's): PostgreSQL's string_agg of to_json pairs, SQLite's
    json_group_object. Its etag is `etag_of` of the object it parses to."""
    if dialect == "postgresql":
        pair = sa.func.concat(sa.cast(sa.func.to_json(_TABLE.c.technician_id), sa.Text), ":",
                              sa.cast(sa.func.to_json(_TABLE.c.pin_hash), sa.Text))
        pairs = sa.func.string_agg(pair, postgresql.aggregate_order_by(sa.literal(","), _TABLE.c.technician_id))
        return sa.select(sa.func.concat("{", sa.func.coalesce(pairs, ""), "}")).where(
            sa.text(LIVE_TECHNICIAN)).scalar_subquery()
    ordered = LIVE_ACCOUNTS.subquery("live")
    return sa.select(sa.func.json_group_object(ordered.c.technician_id, ordered.c.pin_hash)).scalar_subquery()


class Technicians:
    def __init__(self, database: Database, clock: Clock) -> None:
        self._database = database
        self._clock = clock

    def add(self, technician_id: str, pin: str) -> None:
        """A new live account with the PIN's salted scrypt hash.

        Raises:
            TechnicianProblem: a malformed ID or PIN, or the ID has a live account (revoke it first).
        """
        if not TECHNICIAN_ID_PATTERN.match(technician_id):
            raise TechnicianProblem(f"technician ID {technician_id!r} must be 1 to 20 letters, digits, '-' or '_'")
        try:
            stored = hash_pin(pin)
        except ValueError as exc:
            raise TechnicianProblem(str(exc)) from None
        try:
            with self._database.transaction("add a technician", writes=True) as session:
                session.add(TechnicianAccount(technician_id=technician_id, pin_hash=stored, created_at=self._clock.now()))
        except KioskError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise TechnicianProblem(f"technician {technician_id} has a live account: revoke it first "
                                        f"(ecard-registry technician revoke {technician_id})") from None
            raise

    def revoke(self, technician_id: str) -> None:
        """Revoke the live account: kiosks drop it at their next heartbeat.

        Raises:
            TechnicianProblem: no live account of that ID.
        """
        with self._database.transaction("revoke a technician", writes=True) as session:
            done = session.execute(sa.update(_TABLE).where(_TABLE.c.technician_id == technician_id,
                                                           sa.text(LIVE_TECHNICIAN)).values(revoked_at=self._clock.now()))
        if done.rowcount != 1:
            raise TechnicianProblem(f"technician {technician_id} has no live account")

    def records(self) -> tuple[TechnicianRecord, ...]:
        with self._database.connection("list technicians") as connection:
            rows = connection.execute(sa.select(_TABLE.c.technician_id, _TABLE.c.created_at, _TABLE.c.revoked_at)
                                      .order_by(_TABLE.c.technician_id, _TABLE.c.id)).all()
        return tuple(TechnicianRecord(*row) for row in rows)

    def current(self) -> tuple[str, dict[str, str]]:
        """(etag, {ID: hash}) of the live accounts."""
        with self._database.connection("read technicians") as connection:
            accounts = live_accounts(connection)
        return etag_of(accounts), accounts
