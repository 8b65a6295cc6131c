"""Provides the kiosk routes' request bodies (pydantic, strict about shape and size) and their small answers."""
from __future__ import annotations

# Bodies are checked here, before any of them reaches the core: a wrong type, a missing or unknown
# field, an over-long string, a control character or a lone surrogate (which JSON can carry and no
# database column takes) is a 422 naming the field, never a failure deeper down.

from dataclasses import dataclass
from datetime import date, datetime
from typing import Annotated, Literal

from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from kiosk.domain import CardStatus
from kiosk.registry.port import PresentedCard

MAX_ID = 2_147_483_647
"""The largest e-card or ticket ID (the columns are 32-bit integers)."""


def _plain_text(value: str) -> str:
    if any(ord(ch) < 0x20 or 0xD800 <= ord(ch) <= 0xDFFF or ord(ch) == 0x7F for ch in value):
        raise ValueError("must not contain control characters or lone surrogates")
    return value


def Text(min_length: int, max_length: int):  # noqa: N802 - reads as a type in the field declarations
    return Annotated[str, Field(min_length=min_length, max_length=max_length), AfterValidator(_plain_text)]


ResidentIdText = Text(1, 32)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CardBody(_Body):
    """What the kiosk read from the guardian's card (kiosk.registry.port.PresentedCard)."""

    card_number: Text(1, 40)
    spec_version: Text(1, 10)
    expiry_date: date | None
    holder_resident_id: ResidentIdText
    pin_verified: bool

    def presented(self) -> PresentedCard:
        return PresentedCard(self.card_number, self.spec_version, self.expiry_date, self.holder_resident_id,
                             self.pin_verified)


class CardStatusQuery(_Body):
    card_number: Text(1, 40)


class ChildFactsQuery(_Body):
    guardian_rid: ResidentIdText
    child_rid: ResidentIdText


class GuardianQuery(_Body):
    guardian_rid: ResidentIdText


class RegisterBody(_Body):
    card: CardBody
    child_rid: ResidentIdText


class CardOnly(_Body):
    card: CardBody


class AuditBody(_Body):
    kind: Annotated[str, Field(min_length=1, max_length=40, pattern=r"^[A-Za-z][A-Za-z0-9_.-]*$")]
    detail: Text(0, 2000) = ""
    """Cut to the audit column's 500 characters by the registry, as the embedded kiosk's are."""


@dataclass(frozen=True)
class CardStatusAnswer:
    status: CardStatus


@dataclass(frozen=True)
class Withdrawn:
    withdrawn: bool


# ---------------------------------------------------------------- heartbeat (/work/coord/HEARTBEAT.md)
# A heartbeat carries states, counts and catalogue codes only: every field is an enumeration, a number,
# a date, hex or a code, so no name, ID number, card number or free text can ride along.

Count = Annotated[int, Field(strict=True, ge=0, le=10_000_000)]
# Catalogue codes start with a letter: an 18-digit resident ID cannot pass for one.
CatalogueCode = Annotated[str, Field(pattern=r"^[A-Z][A-Z0-9_]{0,39}$")]
OutOfServiceReason = Literal["reader", "psam", "registry", "rules", "technician", "operator"]


class HeartbeatDay(_Body):
    """The kiosk's counts since its local midnight."""

    date: date
    visits: Count
    registrations: Count
    activations: Count
    refusals: Annotated[dict[CatalogueCode, Count], Field(max_length=50)]


class HeartbeatError(_Body):
    code: CatalogueCode
    at: AwareDatetime


class HeartbeatBody(_Body):
    """What a kiosk reports every heartbeat_seconds (the kiosk ID comes from its credential)."""

    version: Annotated[str, Field(max_length=40, pattern=r"^[0-9]{1,6}[.+][0-9A-Za-z.+_-]{1,33}$")]
    """A version (0.1.0, 0.1.0.dev3+g1a2b3c, 0+unknown): digits, then a dot or a plus before anything else."""
    settings_fingerprint: Annotated[str, Field(pattern=r"^[0-9a-f]{16,64}$")]
    uptime_seconds: Annotated[int, Field(strict=True, ge=0, le=10**11)]
    state: Literal["idle", "in_visit", "out_of_service"]
    out_of_service_reasons: Annotated[list[OutOfServiceReason], Field(max_length=6)]
    reader: Literal["ok", "no_reader", "no_card", "error"]
    psam: Literal["ok", "absent", "not_needed", "error"]
    today: HeartbeatDay
    last_errors: Annotated[list[HeartbeatError], Field(max_length=10)]
    technicians_etag: Annotated[str, Field(pattern=r"^[0-9A-Za-z_-]{1,64}$")] | None


class OutOfServiceOrder(BaseModel):
    """The operator's order: the kiosk goes out of service (reason "operator") once no visit is under way."""

    message_zh: str
    message_en: str
    since: datetime


class TechnicianList(BaseModel):
    """Every live technician account: ID -> PIN hash (the format of the kiosk's `technicians` setting)."""

    etag: str
    accounts: dict[str, str]


class HeartbeatAnswer(BaseModel):
    heartbeat_seconds: int
    """The interval the service wants until the next heartbeat."""
    out_of_service: OutOfServiceOrder | None
    """Set: go out of service showing the message; null: lift an operator out-of-service applied before."""
    technicians: TechnicianList | None
    """Null when the kiosk's technicians_etag is current; else the full list ({} means no technician)."""
