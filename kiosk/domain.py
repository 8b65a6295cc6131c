"""Provides the domain values the kiosk works with: the guardian's card, its holder, PIN results, the child."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date


class CardStatus(str, enum.Enum):
    """A social security card's status in the registry."""

    NORMAL = "normal"
    LOST = "lost"
    FROZEN = "frozen"
    CANCELLED = "cancelled"
    UNKNOWN = "unknown"  # the registry has no record of the card


@dataclass(frozen=True)
class CardIssuer:
    """The card's issuer data, file EF05 (readable without PIN or external authentication)."""

    card_id_code: bytes  # 16 bytes: area code (3 BCD) + RID D156000005 + 8 card-unique bytes
    card_type: str
    spec_version: str  # "1.00", "2.00", "3.00"
    init_org: str
    issue_date: date | None
    expiry_date: date | None
    card_number: str  # 9 chars, 8 + check char

    @property
    def area_code(self) -> str:
        """The 6-digit administrative area code that starts the card identification code."""
        return self.card_id_code[:3].hex().upper()

    @property
    def needs_external_auth(self) -> bool:
        """3.00 cards hide the holder data behind external authentication with a PSAM."""
        return self.spec_version >= "3.00"


@dataclass(frozen=True)
class CardHolder:
    """The card holder's data, file EF06."""

    resident_id: str  # social security number = resident ID number
    name: str
    sex: str  # "1" male, "2" female
    nation: str  # two-digit nation code, "01" Han
    birthplace: str  # 6-digit region code
    birth_date: date | None


@dataclass(frozen=True)
class GuardianCard:
    """What the kiosk read from the card in the reader.

    `holder` is None when EF06 could not be read (a 3.00 card in a kiosk without a PSAM).
    """

    atr: bytes
    issuer: CardIssuer
    holder: CardHolder | None
    apdu_count: int = 0


PIN_LENGTH = 6
"""Digits in a social security card's PIN: what the keypad takes, the session checks and the card is sent."""


def is_pin_format(pin: str) -> bool:
    """True for exactly PIN_LENGTH ASCII digits (anything else never reaches the card)."""
    return len(pin) == PIN_LENGTH and pin.isascii() and pin.isdigit()


class PinStatus(enum.Enum):
    """The outcome of one VERIFY."""

    VERIFIED = "verified"
    WRONG = "wrong"  # tries_left says how many remain, None when the card did not say (6300)
    BLOCKED = "blocked"  # 6983, or the last try was just used


@dataclass(frozen=True)
class PinResult:
    """The card's answer to a PIN."""

    status: PinStatus
    tries_left: int | None = None


class ECardState(str, enum.Enum):
    """An electronic social security card's life in the registry."""

    PENDING = "pending"  # registered at a kiosk, waiting for the guardian's app to activate it
    ACTIVE = "active"
    CANCELLED = "cancelled"
