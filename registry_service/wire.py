"""Provides the kiosk routes' request bodies (pydantic, strict about shape and size) and their small answers."""
from __future__ import annotations

# Bodies are checked here, before any of them reaches the core: a wrong type, a missing or unknown
# field, an over-long string, a control character or a lone surrogate (which JSON can carry and no
# database column takes) is a 422 naming the field, never a failure deeper down.

from dataclasses import dataclass
from datetime import date
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict, Field

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
