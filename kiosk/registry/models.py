"""Provides the registry's tables (SQLModel): people, cards, guardianships, e-cards, tickets, audit events, the fleet."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timezone
from typing import Any, Optional

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from kiosk.domain import CardStatus, ECardState


class UtcDateTime(sa.types.TypeDecorator):
    """A point in time stored as UTC without a zone (SQLite keeps none) and read back timezone-aware."""

    impl = sa.DateTime
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("the registry stores timezone-aware times only")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        return value.replace(tzinfo=timezone.utc) if value.tzinfo is None else value.astimezone(timezone.utc)


def _enum_column(enum_type: type, nullable: bool = False) -> Any:
    # Values ("normal"), not member names, and no database enum type: the same on SQLite and PostgreSQL.
    return sa.Column(
        sa.Enum(enum_type, native_enum=False, length=16, values_callable=lambda members: [m.value for m in members]),
        nullable=nullable,
    )


def _utc_column(nullable: bool = False, index: bool = False) -> Any:
    return sa.Column(UtcDateTime(), nullable=nullable, index=index)


class Person(SQLModel, table=True):
    """Someone the registry knows: a guardian or a child."""

    __tablename__ = "person"

    id: Optional[int] = Field(default=None, primary_key=True)
    resident_id: str = Field(max_length=18, unique=True, index=True)
    name: str = Field(max_length=60)
    birth_date: date
    sex: str = Field(max_length=1)  # "1" male, "2" female
    has_physical_card: bool = False


class SocialSecurityCard(SQLModel, table=True):
    """A physical social security card and its status."""

    __tablename__ = "social_security_card"

    id: Optional[int] = Field(default=None, primary_key=True)
    card_number: str = Field(max_length=9, unique=True, index=True)
    holder_id: int = Field(foreign_key="person.id", index=True)
    status: CardStatus = Field(sa_column=_enum_column(CardStatus))
    spec_version: str = Field(max_length=4)


@dataclass(frozen=True)
class Breach:
    """A consistency rule whose breakers a partial index keeps: empty when the rule holds, so the check costs a probe."""

    table: str
    index: str
    where: str


BREACHES = {
    "ACTIVE_WITHOUT_TIME": Breach("ecard", "ix_breach_active_without_time", "state = 'active' AND activated_at IS NULL"),
    "ACTIVATION_TIME_NOT_ACTIVE": Breach(
        "ecard", "ix_breach_activation_time_not_active", "state = 'pending' AND activated_at IS NOT NULL"),
    "APPLICANT_NOT_GUARDIAN": Breach("ecard", "ix_breach_applicant_unlinked", "applicant_unlinked"),
    "SELF_GUARDIANSHIP": Breach("guardianship", "ix_breach_self_guardianship", "guardian_id = child_id"),
    "USED_TICKET_NOT_ACTIVE": Breach("activation_ticket", "ix_breach_used_ticket_not_active", "used_unactivated"),
    "TICKET_ENDS_BEFORE_START": Breach(
        "activation_ticket", "ix_breach_ticket_ends_before_start", "expires_at <= created_at"),
    "PENDING_WITHOUT_TICKET": Breach("ecard", "ix_breach_pending_without_ticket", "state = 'pending' AND tickets_issued = 0"),
}
"""The consistency rules that are a predicate on one row (flags kept by triggers for the cross-row ones), by code."""


def _breach_indexes(table: str) -> tuple[sa.Index, ...]:
    return tuple(
        sa.Index(b.index, "id", sqlite_where=sa.text(b.where), postgresql_where=sa.text(b.where))
        for b in BREACHES.values() if b.table == table
    )


class Guardianship(SQLModel, table=True):
    """A guardian-child relationship on record."""

    __tablename__ = "guardianship"
    __table_args__ = (sa.UniqueConstraint("guardian_id", "child_id", name="uq_guardianship_pair"),
                      *_breach_indexes("guardianship"))

    id: Optional[int] = Field(default=None, primary_key=True)
    guardian_id: int = Field(foreign_key="person.id", index=True)
    child_id: int = Field(foreign_key="person.id", index=True)
    relationship: str = Field(max_length=16)  # "father", "mother", "guardian"


class ECard(SQLModel, table=True):
    """A child's electronic social security card, registered by a guardian."""

    __tablename__ = "ecard"
    __table_args__ = (
        # At most one e-card per child that is not cancelled: a second registration, even a
        # concurrent one from another kiosk, fails here instead of creating a duplicate.
        sa.Index(
            "uq_ecard_live_child",
            "child_id",
            unique=True,
            sqlite_where=sa.text("state != 'cancelled'"),
            postgresql_where=sa.text("state != 'cancelled'"),
        ),
        sa.Index("ix_ecard_created_at", "created_at"),  # registrations today; the newest write
        sa.Index("ix_ecard_activated_at", "activated_at"),  # the newest write
        # The console's pending activations, oldest first, without reading the active ones.
        sa.Index("ix_ecard_pending_since", "created_at", "id",
                 sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'")),
        *_breach_indexes("ecard"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="person.id", index=True)
    applicant_id: int = Field(foreign_key="person.id", index=True)
    state: ECardState = Field(sa_column=_enum_column(ECardState))
    level: int = 1
    created_at: datetime = Field(sa_column=_utc_column())
    activated_at: Optional[datetime] = Field(default=None, sa_column=_utc_column(nullable=True))
    kiosk_id: str = Field(default="", max_length=40)
    tickets_issued: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """How many activation codes were ever issued for it (purged ones too): a pending e-card with none lost its first QR."""
    applicant_unlinked: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    """Kept by triggers: no guardianship links its applicant to its child (consistency rule APPLICANT_NOT_GUARDIAN)."""


LIVE_TICKET = "used_at IS NULL AND NOT revoked"
"""A ticket that may still be used (or has merely run out): at most one per e-card, its user code unique among them."""


class ActivationTicket(SQLModel, table=True):
    """One activation QR code / user code for an e-card; only hashes of its secrets are kept."""

    __tablename__ = "activation_ticket"
    __table_args__ = (
        # Issuing revokes the e-card's live ticket and adds one: two kiosks doing it at once can
        # no longer leave two valid codes, whatever the isolation level.
        sa.Index("uq_ticket_live_ecard", "ecard_id", unique=True,
                 sqlite_where=sa.text(LIVE_TICKET), postgresql_where=sa.text(LIVE_TICKET)),
        # A typed code names one live ticket, also when two kiosks draw the same code at once.
        sa.Index("uq_ticket_live_user_code", "user_code_hash", unique=True,
                 sqlite_where=sa.text(LIVE_TICKET), postgresql_where=sa.text(LIVE_TICKET)),
        # Unused codes by expiry: what a purge deletes and the console counts, without the used ones.
        sa.Index("ix_ticket_unused_expiry", "expires_at",
                 sqlite_where=sa.text("used_at IS NULL"), postgresql_where=sa.text("used_at IS NULL")),
        *_breach_indexes("activation_ticket"),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    ecard_id: int = Field(foreign_key="ecard.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_code_hash: str = Field(max_length=64, index=True)
    created_at: datetime = Field(sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column())
    used_at: Optional[datetime] = Field(default=None, sa_column=_utc_column(nullable=True))
    revoked: bool = False
    kiosk_id: str = Field(default="", max_length=40, sa_column_kwargs={"server_default": ""})
    """The kiosk the code was shown at (a resumed registration may be shown at another kiosk than the first)."""
    guardian_id: Optional[int] = Field(default=None, foreign_key="person.id")
    """The guardian the code was issued to, at the kiosk; only their app may use it. None: a last-release ticket."""
    used_unactivated: bool = Field(default=False, sa_column_kwargs={"server_default": sa.false()})
    """Kept by triggers: used, but its e-card is not active (consistency rule USED_TICKET_NOT_ACTIVE)."""
    wrong_tries: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """How often an app user who is not its guardian presented it (kiosk.registry.phone)."""
    locked_at: Optional[datetime] = Field(default=None, sa_column=_utc_column(nullable=True))
    """When wrong_tries reached the limit: locked tickets are revoked too, and say access_denied to every app."""


class RegistrationRequest(SQLModel, table=True):
    """A registration a kiosk asked for under an idempotency key: a retry with the same key gets the same e-card."""

    __tablename__ = "registration_request"

    kiosk_id: str = Field(max_length=40, primary_key=True)
    idempotency_key: str = Field(max_length=64, primary_key=True)
    guardian_id: int = Field(foreign_key="person.id")
    child_id: int = Field(foreign_key="person.id")
    ecard_id: int = Field(foreign_key="ecard.id")
    created_at: datetime = Field(sa_column=_utc_column(index=True))


class AuditEvent(SQLModel, table=True):
    """Something that happened at a kiosk; `detail` holds masked personal data only."""

    __tablename__ = "audit_event"
    # The newest events of a kind, and the kinds themselves (skipping through it), without a scan.
    __table_args__ = (
        sa.Index("ix_audit_event_kind_id", "kind", "id"),
        sa.Index("ix_audit_event_kiosk_id_at", "kiosk_id", "at"),  # one kiosk's trail, newest first (the fleet console)
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc_column(index=True))
    kind: str = Field(max_length=40)
    detail: str = Field(default="", max_length=500)
    kiosk_id: str = Field(default="", max_length=40)


LIVE_CREDENTIAL = "revoked_at IS NULL"


class KioskCredential(SQLModel, table=True):
    """A kiosk's service credential: only the SHA-256 of its secret is kept; revoked ones stay as the record."""

    __tablename__ = "kiosk_credential"
    # One live credential per kiosk; a kiosk whose credential was revoked (lost, stolen, replaced box)
    # gets a new one, and the revoked rows stay to say why a request with them was refused.
    __table_args__ = (
        sa.Index("ix_kiosk_credential_live", "kiosk_id", unique=True,
                 sqlite_where=sa.text(LIVE_CREDENTIAL), postgresql_where=sa.text(LIVE_CREDENTIAL)),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    kiosk_id: str = Field(max_length=40, index=True)
    secret_hash: str = Field(max_length=64, unique=True, index=True)
    created_at: datetime = Field(sa_column=_utc_column())
    revoked_at: Optional[datetime] = Field(default=None, sa_column=_utc_column(nullable=True))
    revoked_reason: Optional[str] = Field(default=None, max_length=200)
    """What the operator said when revoking it (told to the kiosk's technician in the 401)."""


class Throttle(SQLModel, table=True):
    """A counter of hits per key in a window (wrong codes per phone client, wrong tries per ticket,
    polls per ticket), kept in the database so every service worker and replica sees the same."""

    __tablename__ = "throttle"

    key: str = Field(max_length=120, primary_key=True)
    window_start: datetime = Field(sa_column=_utc_column(index=True))
    hits: int = 0


class RegistryTally(SQLModel, table=True):
    """Running counts the console shows without counting: kept by triggers on the counted tables.

    The sum over all rows is the count. PostgreSQL spreads the writers over TALLY_SHARDS rows (by
    backend), so concurrent registrations do not queue on one row; SQLite, one writer at a time, has one.
    """

    __tablename__ = "registry_tally"

    shard: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    persons: int = Field(default=0, sa_type=sa.BigInteger)
    audit_events: int = Field(default=0, sa_type=sa.BigInteger)
    ecards_pending: int = Field(default=0, sa_type=sa.BigInteger)
    ecards_active: int = Field(default=0, sa_type=sa.BigInteger)
    ecards_cancelled: int = Field(default=0, sa_type=sa.BigInteger)
    tickets_unused: int = Field(default=0, sa_type=sa.BigInteger)


TALLY_SHARDS = 64
"""Rows of registry_tally on PostgreSQL (SQLite: 1)."""


class KioskHeartbeat(SQLModel, table=True):
    """The latest heartbeat of each kiosk (the registry service's fleet console): no personal data, only
    states, counts and catalogue codes; `refusals` and `last_errors` are the kiosk's JSON, bounded."""

    __tablename__ = "kiosk_heartbeat"

    kiosk_id: str = Field(max_length=40, primary_key=True)
    received_at: datetime = Field(sa_column=_utc_column())
    version: str = Field(max_length=40)
    settings_fingerprint: str = Field(max_length=64)
    uptime_seconds: int = Field(sa_type=sa.BigInteger)
    state: str = Field(max_length=16)
    reasons: str = Field(default="", max_length=120)
    """The out-of-service reasons, comma-separated (reader, psam, registry, rules, technician, operator)."""
    reader: str = Field(max_length=16)
    psam: str = Field(max_length=16)
    day: date
    visits: int = 0
    registrations: int = 0
    activations: int = 0
    refusals: str = Field(default="{}", max_length=3000)
    """{"CODE": count} of the kiosk's day, JSON."""
    last_errors: str = Field(default="[]", max_length=1500)
    """[{"code", "at"}], newest first, at most 10, JSON."""
    technicians_etag: Optional[str] = Field(default=None, max_length=64)
    beats: int = Field(default=0, sa_type=sa.BigInteger)
    """Heartbeats received from the kiosk since its first."""


class KioskOrder(SQLModel, table=True):
    """An operator's out-of-service order for a kiosk, with the message its screen shows; gone when lifted."""

    __tablename__ = "kiosk_order"

    kiosk_id: str = Field(max_length=40, primary_key=True)
    message_zh: str = Field(max_length=200)
    message_en: str = Field(max_length=200)
    since: datetime = Field(sa_column=_utc_column())
    operator_id: str = Field(max_length=40)


LIVE_TECHNICIAN = "revoked_at IS NULL"


class TechnicianAccount(SQLModel, table=True):
    """A technician's kiosk maintenance PIN, as the salted slow hash the kiosks check (kiosk.maintenance.passwords)."""

    __tablename__ = "technician"
    __table_args__ = (
        sa.Index("ix_technician_live", "technician_id", unique=True,
                 sqlite_where=sa.text(LIVE_TECHNICIAN), postgresql_where=sa.text(LIVE_TECHNICIAN)),
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    technician_id: str = Field(max_length=20)
    pin_hash: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=_utc_column())
    revoked_at: Optional[datetime] = Field(default=None, sa_column=_utc_column(nullable=True))


class OperatorAccount(SQLModel, table=True):
    """Someone who may use the service's operator console: a salted slow password hash, the wrong tries."""

    __tablename__ = "operator"

    id: Optional[int] = Field(default=None, primary_key=True)
    operator_id: str = Field(max_length=40, unique=True, index=True)
    password_hash: str = Field(max_length=200)
    created_at: datetime = Field(sa_column=_utc_column())
    wrong_tries: int = Field(default=0, sa_column_kwargs={"server_default": "0"})
    """Wrong passwords since the last right one (or unlock)."""
    locked_at: Optional[datetime] = Field(default=None, sa_column=_utc_column(nullable=True))
    """When wrong_tries reached the limit: no sign-in until `ecard-registry operator unlock`."""


class OperatorSession(SQLModel, table=True):
    """A signed-in console session: only the SHA-256 of its cookie is kept, with its CSRF token and end."""

    __tablename__ = "operator_session"

    token_hash: str = Field(max_length=64, primary_key=True)
    operator_id: int = Field(foreign_key="operator.id", index=True)
    csrf_token: str = Field(max_length=64)
    created_at: datetime = Field(sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column(index=True))

TABLES = [
    model.__table__  # type: ignore[attr-defined]
    for model in (
        Person, SocialSecurityCard, Guardianship, ECard, ActivationTicket, AuditEvent,
        RegistrationRequest, KioskCredential, Throttle, RegistryTally,
        KioskHeartbeat, KioskOrder, TechnicianAccount, OperatorAccount, OperatorSession,
    )
]
"""The registry's tables, in an order that creates referenced tables first."""

REGISTRY_METADATA = SQLModel.metadata
"""The metadata the registry's tables belong to (Alembic compares a database with it, table by table of TABLES)."""
TABLE_NAMES = frozenset(table.name for table in TABLES)
