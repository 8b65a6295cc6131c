"""Provides the fleet: each kiosk's latest heartbeat kept, the answer it gets, and its colour (green, amber, red) and reasons."""
from __future__ import annotations

# A heartbeat is one transaction: the upsert of the kiosk's row, the read of its operator order and
# of the live technician list (to compare etags). The colour is derived when asked, from the age of
# the latest heartbeat against the service's interval (HEARTBEAT.md): green within 2 intervals and in
# service, amber past 2, red past 4 or out of service (or never heard from).

import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from kiosk.ports import Clock
from kiosk.registry.database import Database
from kiosk.registry.models import LIVE_CREDENTIAL, AuditEvent, KioskCredential, KioskHeartbeat, KioskOrder
from registry_service.technicians import etag_of, live_accounts
from registry_service.wire import HeartbeatAnswer, HeartbeatBody, OutOfServiceOrder, TechnicianList

Colour = Literal["green", "amber", "red"]
COLOURS: tuple[Colour, ...] = ("green", "amber", "red")
_BEAT = KioskHeartbeat.__table__  # type: ignore[attr-defined]
_ORDER = KioskOrder.__table__  # type: ignore[attr-defined]
_CREDENTIAL = KioskCredential.__table__  # type: ignore[attr-defined]
_AUDIT = AuditEvent.__table__  # type: ignore[attr-defined]


@dataclass(frozen=True)
class Order:
    message_zh: str
    message_en: str
    since: datetime
    operator_id: str


@dataclass(frozen=True)
class KioskStatus:
    """One kiosk as the console and /metrics show it."""

    kiosk_id: str
    colour: Colour
    reasons: tuple[str, ...]
    """Why it is not green (or what it reports): "never", "missed", "out_of_service:<reason>", "reader:<state>"..."""
    received_at: datetime | None
    age_seconds: float | None
    version: str = ""
    state: str = ""
    reader: str = ""
    psam: str = ""
    day: date | None = None
    visits: int = 0
    registrations: int = 0
    activations: int = 0
    refusals: dict[str, int] = field(default_factory=dict)
    last_errors: tuple[tuple[str, str], ...] = ()
    order: Order | None = None
    uptime_seconds: int = 0
    settings_fingerprint: str = ""


def colour_of(age_seconds: float | None, state: str, interval: float) -> tuple[Colour, tuple[str, ...]]:
    """The colour of a kiosk whose latest heartbeat is `age_seconds` old (None: never), reporting `state`."""
    if age_seconds is None:
        return "red", ("never",)
    if age_seconds > 4 * interval:
        return "red", ("missed",)
    if state == "out_of_service":
        return "red", ()
    if age_seconds > 2 * interval:
        return "amber", ("missed",)
    return "green", ()


class Fleet:
    def __init__(self, database: Database, clock: Clock, heartbeat_seconds: int) -> None:
        self._database = database
        self._clock = clock
        self.heartbeat_seconds = heartbeat_seconds
        insert = postgresql.insert if database.dialect == "postgresql" else sqlite.insert
        statement = insert(_BEAT)
        updated = {column.name: statement.excluded[column.name] for column in _BEAT.columns
                   if column.name not in ("kiosk_id", "beats")}
        self._upsert = statement.on_conflict_do_update(index_elements=["kiosk_id"],
                                                       set_={**updated, "beats": _BEAT.c.beats + 1})
        self._order_of = sa.select(_ORDER).where(_ORDER.c.kiosk_id == sa.bindparam("kiosk"))

    # ------------------------------------------------------------------ kiosks
    def heartbeat(self, kiosk_id: str, body: HeartbeatBody) -> HeartbeatAnswer:
        """Keep the kiosk's heartbeat; answer the interval, its operator order, the technician list if stale."""
        now = self._clock.now()
        row = {
            "kiosk_id": kiosk_id, "received_at": now, "version": body.version,
            "settings_fingerprint": body.settings_fingerprint, "uptime_seconds": body.uptime_seconds,
            "state": body.state, "reasons": ",".join(dict.fromkeys(body.out_of_service_reasons)),
            "reader": body.reader, "psam": body.psam, "day": body.today.date, "visits": body.today.visits,
            "registrations": body.today.registrations, "activations": body.today.activations,
            "refusals": json.dumps(body.today.refusals, sort_keys=True),
            "last_errors": json.dumps([{"code": e.code, "at": _iso(e.at)} for e in body.last_errors]),
            "technicians_etag": body.technicians_etag, "beats": 1,
        }
        with self._database.connection("keep a heartbeat", writes=True) as connection:
            connection.execute(self._upsert, row)
            order = connection.execute(self._order_of, {"kiosk": kiosk_id}).first()
            accounts = live_accounts(connection)
        etag = etag_of(accounts)
        return HeartbeatAnswer(
            heartbeat_seconds=self.heartbeat_seconds,
            out_of_service=OutOfServiceOrder(message_zh=order.message_zh, message_en=order.message_en,
                                             since=order.since) if order is not None else None,
            technicians=None if body.technicians_etag == etag else TechnicianList(etag=etag, accounts=accounts),
        )

    def statuses(self, kiosk_id: str | None = None) -> list[KioskStatus]:
        """Every kiosk with a live credential or a heartbeat kept, by ID (or the one named)."""
        live, beating = sa.select(_CREDENTIAL.c.kiosk_id).where(sa.text(LIVE_CREDENTIAL)), sa.select(_BEAT.c.kiosk_id)
        if kiosk_id is not None:
            live, beating = live.where(_CREDENTIAL.c.kiosk_id == kiosk_id), beating.where(_BEAT.c.kiosk_id == kiosk_id)
        known = sa.union(live, beating).subquery("known")
        query = (sa.select(known.c.kiosk_id, *(c for c in _BEAT.columns if c.name != "kiosk_id"), _ORDER.c.message_zh, _ORDER.c.message_en, _ORDER.c.since,
                           _ORDER.c.operator_id)
                 .select_from(known.outerjoin(_BEAT, _BEAT.c.kiosk_id == known.c.kiosk_id)
                              .outerjoin(_ORDER, _ORDER.c.kiosk_id == known.c.kiosk_id))
                 .order_by(known.c.kiosk_id))
        now = self._clock.now()
        with self._database.connection("read the fleet") as connection:
            rows = connection.execute(query).mappings().all()
        return [self._status(row, now) for row in rows]

    def _status(self, row: sa.RowMapping, now: datetime) -> KioskStatus:
        order = (Order(row["message_zh"], row["message_en"], row["since"], row["operator_id"])
                 if row["message_zh"] is not None else None)
        received = row["received_at"]
        age = None if received is None else max(0.0, (now - received).total_seconds())
        colour, reasons = colour_of(age, row["state"] or "", self.heartbeat_seconds)
        kiosk = row["kiosk_id"]
        if received is None:
            return KioskStatus(kiosk, colour, reasons + (("order",) if order else ()), None, None, order=order)
        extra = [f"out_of_service:{reason}" for reason in (row["reasons"] or "").split(",") if reason]
        extra += [f"reader:{row['reader']}"] if row["reader"] not in ("ok", "no_card") else []
        extra += [f"psam:{row['psam']}"] if row["psam"] not in ("ok", "not_needed") else []
        if order is not None and "out_of_service:operator" not in extra:
            extra.append("order")  # ordered out, not applied yet (a visit under way, or no heartbeat since)
        errors = tuple((e.get("code", ""), e.get("at", "")) for e in json.loads(row["last_errors"] or "[]"))
        return KioskStatus(
            kiosk, colour, reasons + tuple(extra), received, age, row["version"], row["state"], row["reader"],
            row["psam"], row["day"], row["visits"], row["registrations"], row["activations"],
            json.loads(row["refusals"] or "{}"), errors, order, row["uptime_seconds"], row["settings_fingerprint"])

    # ------------------------------------------------------------------ operator orders
    def order_out(self, kiosk_id: str, message_zh: str, message_en: str, operator_id: str) -> None:
        """Order the kiosk out of service with the message (replacing an earlier order's)."""
        with self._database.connection("order a kiosk out of service", writes=True) as connection:
            connection.execute(_ORDER.delete().where(_ORDER.c.kiosk_id == kiosk_id))
            connection.execute(_ORDER.insert().values(kiosk_id=kiosk_id, message_zh=message_zh, message_en=message_en,
                                                      since=self._clock.now(), operator_id=operator_id))

    def put_back(self, kiosk_id: str) -> bool:
        """Lift the operator's order; False when there was none."""
        with self._database.connection("put a kiosk back in service", writes=True) as connection:
            return connection.execute(_ORDER.delete().where(_ORDER.c.kiosk_id == kiosk_id)).rowcount == 1

    def audit_trail(self, kiosk_id: str, limit: int = 100) -> list[tuple[datetime, str, str]]:
        """The kiosk's audit events, newest first (the index on kiosk_id, at): (at, kind, masked detail)."""
        with self._database.connection("read a kiosk's audit trail") as connection:
            rows = connection.execute(sa.select(_AUDIT.c.at, _AUDIT.c.kind, _AUDIT.c.detail)
                                      .where(_AUDIT.c.kiosk_id == kiosk_id)
                                      .order_by(_AUDIT.c.at.desc(), _AUDIT.c.id.desc()).limit(limit)).all()
        return [(at, kind, detail) for at, kind, detail in rows]


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
