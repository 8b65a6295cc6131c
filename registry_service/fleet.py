"""Provides the fleet: each kiosk's latest heartbeat kept, the answer it gets, and its colour (green, amber, red) and reasons."""
from __future__ import annotations

# A heartbeat is the upsert of the kiosk's row joined to its live credential, returning its operator order
# and the live technician list (to compare etags): one statement on PostgreSQL, two in one transaction on
# SQLite. The colour is derived when asked, from the age of the latest heartbeat against the service's
# interval (HEARTBEAT.md): green within 2 intervals and in service, amber past 2, red past 4 or out of
# service (or never heard from).

import functools
import json
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from kiosk.ports import Clock
from kiosk.registry.database import Database, unavailable_as_kiosk_error
from kiosk.registry.models import LIVE_CREDENTIAL, AuditEvent, KioskCredential, KioskHeartbeat, KioskOrder
from registry_service.credentials import Credentials
from registry_service.technicians import etag_of, live_list_json
from registry_service.wire import HeartbeatBody

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
        postgres = database.dialect == "postgresql"
        # The kiosk's row is upserted from its live credential's: a credential that is not live keeps nothing
        # and returns no row, and only then is the credential looked up again, to say why it is refused.
        fields = [column.name for column in _BEAT.columns if column.name != "kiosk_id"]
        live = sa.select(_CREDENTIAL.c.kiosk_id, *(sa.bindparam(name, type_=_BEAT.c[name].type) for name in fields)
                         ).where(_CREDENTIAL.c.secret_hash == sa.bindparam("digest"), sa.text(LIVE_CREDENTIAL))
        statement = (postgresql.insert if postgres else sqlite.insert)(_BEAT).from_select(["kiosk_id", *fields], live)
        updated = {name: statement.excluded[name] for name in fields if name != "beats"}
        upsert = statement.on_conflict_do_update(index_elements=["kiosk_id"],
                                                 set_={**updated, "beats": _BEAT.c.beats + 1}).returning(_BEAT.c.kiosk_id)
        answer = (_ORDER.c.message_zh, _ORDER.c.message_en, _ORDER.c.since,
                  live_list_json(database.dialect).label("technicians"))
        if postgres:
            # One statement on autocommit: no BEGIN and COMMIT round trips, the upsert atomic by itself.
            beat = upsert.cte("beat")
            self._beat: sa.Select | None = sa.select(beat.c.kiosk_id, *answer).select_from(
                beat.outerjoin(_ORDER, _ORDER.c.kiosk_id == beat.c.kiosk_id))
            self._autocommit = database.engine.execution_options(isolation_level="AUTOCOMMIT")
        else:
            self._beat = None
            self._upsert = upsert
            one = sa.select(sa.literal(1).label("one")).subquery("one")
            self._answer_of = sa.select(*answer).select_from(
                one.outerjoin(_ORDER, _ORDER.c.kiosk_id == sa.bindparam("kiosk")))
        self._opening = f'{{"heartbeat_seconds":{int(heartbeat_seconds)},"out_of_service":'.encode()
        self._quiet = self._opening + b'null,"technicians":null}'

    # ------------------------------------------------------------------ kiosks
    def heartbeat(self, credentials: Credentials, digest: str, body: HeartbeatBody) -> bytes:
        """Keep the heartbeat of the kiosk whose live credential's SHA-256 is `digest` (Credentials.digest); its
        answer (HeartbeatAnswer: the interval, the operator's order, the technician list if its etag is stale) as
        JSON bytes. 500 kiosks every 15 s is 33 of these a second: on PostgreSQL one statement, on SQLite two in
        one transaction.

        Raises:
            CredentialRefused: unknown or revoked (nothing kept).
            KioskError: DATABASE_UNAVAILABLE.
        """
        values = self._row(digest, body)
        if self._beat is not None:
            with unavailable_as_kiosk_error("keep a heartbeat"), self._autocommit.connect() as connection:
                row = connection.execute(self._beat, values).first()
                if row is None:
                    raise credentials.refuse(connection, digest)
        else:
            with self._database.connection("keep a heartbeat", writes=True) as connection:
                kiosk = connection.execute(self._upsert, values).scalar()
                if kiosk is None:
                    raise credentials.refuse(connection, digest)
                row = connection.execute(self._answer_of, {"kiosk": kiosk}).one()
        etag, technicians = _technicians(row.technicians)
        if row.message_zh is None and etag == body.technicians_etag:
            return self._quiet
        order = b"null" if row.message_zh is None else json.dumps(
            {"message_zh": row.message_zh, "message_en": row.message_en, "since": _iso(row.since)},
            ensure_ascii=False, separators=(",", ":")).encode("utf-8")
        return b"".join((self._opening, order, b',"technicians":',
                         b"null" if etag == body.technicians_etag else technicians, b"}"))

    def _row(self, digest: str, body: HeartbeatBody) -> dict:
        return {
            "digest": digest, "received_at": self._clock.now(), "version": body.version,
            "settings_fingerprint": body.settings_fingerprint, "uptime_seconds": body.uptime_seconds,
            "state": body.state, "reasons": ",".join(dict.fromkeys(body.out_of_service_reasons)),
            "reader": body.reader, "psam": body.psam, "day": body.today.date, "visits": body.today.visits,
            "registrations": body.today.registrations, "activations": body.today.activations,
            "refusals": json.dumps(body.today.refusals, sort_keys=True),
            "last_errors": json.dumps([{"code": e.code, "at": _iso(e.at)} for e in body.last_errors]),
            "technicians_etag": body.technicians_etag, "beats": 1,
        }

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


@functools.lru_cache(maxsize=8)
def _technicians(listed: str) -> tuple[str, bytes]:
    """(etag, the answer's "technicians" as JSON bytes) of the live list as `live_list_json` gives it: worked out
    once per list, which changes only when an operator adds or revokes an account."""
    accounts = json.loads(listed)
    etag = etag_of(accounts)
    return etag, json.dumps({"etag": etag, "accounts": accounts}, ensure_ascii=False,
                            separators=(",", ":")).encode("utf-8")


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
