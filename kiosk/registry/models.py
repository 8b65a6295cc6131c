"""Provides the registry's tables (SQLModel): people, cards, guardianships, e-cards, tickets, audit events."""
from __future__ import annotations

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


class Guardianship(SQLModel, table=True):
    """A guardian-child relationship on record."""

    __tablename__ = "guardianship"
    __table_args__ = (sa.UniqueConstraint("guardian_id", "child_id", name="uq_guardianship_pair"),)

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
    )

    id: Optional[int] = Field(default=None, primary_key=True)
    child_id: int = Field(foreign_key="person.id", index=True)
    applicant_id: int = Field(foreign_key="person.id", index=True)
    state: ECardState = Field(sa_column=_enum_column(ECardState))
    level: int = 1
    created_at: datetime = Field(sa_column=_utc_column())
    activated_at: Optional[datetime] = Field(default=None, sa_column=_utc_column(nullable=True))
    kiosk_id: str = Field(default="", max_length=40)


class ActivationTicket(SQLModel, table=True):
    """One activation QR code / user code for an e-card; only hashes of its secrets are kept."""

    __tablename__ = "activation_ticket"

    id: Optional[int] = Field(default=None, primary_key=True)
    ecard_id: int = Field(foreign_key="ecard.id", index=True)
    token_hash: str = Field(max_length=64, unique=True, index=True)
    user_code_hash: str = Field(max_length=64, index=True)
    created_at: datetime = Field(sa_column=_utc_column())
    expires_at: datetime = Field(sa_column=_utc_column(index=True))
    used_at: Optional[datetime] = Field(default=None, sa_column=_utc_column(nullable=True))
    revoked: bool = False


class AuditEvent(SQLModel, table=True):
    """Something that happened at a kiosk; `detail` holds masked personal data only."""

    __tablename__ = "audit_event"

    id: Optional[int] = Field(default=None, primary_key=True)
    at: datetime = Field(sa_column=_utc_column(index=True))
    kind: str = Field(max_length=40, index=True)
    detail: str = Field(default="", max_length=500)
    kiosk_id: str = Field(default="", max_length=40)


TABLES = [model.__table__ for model in (Person, SocialSecurityCard, Guardianship, ECard, ActivationTicket, AuditEvent)]
"""The registry's tables, in an order that creates referenced tables first."""

REGISTRY_METADATA = SQLModel.metadata
"""The metadata the registry's tables belong to (Alembic compares a database with it, table by table of TABLES)."""
TABLE_NAMES = frozenset(table.name for table in TABLES)
