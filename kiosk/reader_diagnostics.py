"""Provides the reader diagnostics' port: what the maintenance console asks of the kiosk's readers, and the values
it gets back (slots and decoded ATRs, the PSAM check, the card self-test, raw APDUs, reader events).

Apart from kiosk.ports: only the console needs these, and it loads after the kiosk's first screen.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol


@dataclass(frozen=True)
class AtrFacts:
    """What an answer to reset says, decoded as far as ISO/IEC 7816-3 and -4 allow.

    The historical bytes are the card maker's: the national specification says they carry the
    chip maker, COS, card maker and a serial, but not in which layout, so the chip maker stays
    unknown unless the bytes say it in a standard form.
    """

    convention: str  # "direct" (3B), "inverse" (3F) or "invalid"
    protocols: tuple[str, ...]  # ("T=0",), ("T=0", "T=1"), ...
    interface: tuple[tuple[str, str], ...]  # ("TA1", "Fi=372 Di=1"), ("TC1", "00"), ...
    historical: bytes
    category: str  # "80" compact-TLV, "00" compact-TLV + status, "10" DIR reference, "proprietary", "none"
    objects: tuple[tuple[int, bytes], ...]  # compact-TLV objects (tag 1..15, value) in the historical bytes
    leftover: bytes  # historical bytes that did not parse as compact-TLV
    text: str  # printable ASCII runs of 3 or more in the historical bytes ("SS03"), "" when none
    chip_maker: str | None  # None: not stated in a standard form (usual for social security cards)
    check: str  # "ok", "wrong" or "absent" (TCK, needed only when a protocol other than T=0 is offered)
    problems: tuple[str, ...] = ()  # technical notes on an ATR that is cut short or malformed


@dataclass(frozen=True)
class ReaderSlotStatus:
    """One reader slot as the maintenance console shows it."""

    number: int
    name: str
    role: str  # "guardian", "psam" or "other"
    card_present: bool
    atr: bytes  # empty without a card, and for a mute card
    mute: bool = False
    atr_facts: AtrFacts | None = None


@dataclass(frozen=True)
class PsamStatus:
    """Whether the kiosk's PSAM is there and computes cryptograms."""

    configured: bool  # the kiosk has a PSAM slot
    present: bool
    working: bool
    atr: bytes = b""
    error: str | None = None  # a catalogued code when it is not working
    detail: str = ""  # technical: status words, PC/SC errors


@dataclass(frozen=True)
class SelfTestItem:
    """One data item of a card self-test: where it lives and what came back (masked)."""

    file: str  # "EF05" or "EF06"
    tag: int
    status: str  # "ok", "missing", "optional_missing", "refused", "invalid"
    value: str = ""  # masked where it is personal data
    detail: str = ""  # technical, for "invalid" and "refused"


@dataclass(frozen=True)
class CardSelfTest:
    """The outcome of reading every item of the card in the guardian's reader."""

    passed: bool
    atr: bytes = b""
    spec_version: str | None = None
    items: tuple[SelfTestItem, ...] = ()
    authenticated: bool | None = None  # 3.00 cards: external authentication through the PSAM worked
    apdus: int = 0
    milliseconds: float = 0.0
    error: str | None = None  # a catalogued code when the test could not run to its end
    detail: str = ""


@dataclass(frozen=True)
class ApduExchange:
    """One command APDU sent from the console and the card's raw answer (no GET RESPONSE added)."""

    slot: str
    command: bytes
    data: bytes
    sw: int
    milliseconds: float


@dataclass(frozen=True)
class ReaderEventRecord:
    """A reader or card event, stamped with the kiosk's clock."""

    at: datetime
    reader: str
    kind: str  # "card_inserted", "card_removed", "reader_added", "reader_removed"
    atr: bytes = b""


class ReaderDiagnostics(Protocol):
    """What the maintenance console can do with the kiosk's readers (devices/ implements it: simulated and PC/SC).

    Every method but `events` blocks (card or PC/SC I/O): call it from a worker thread.
    Nothing here touches a guardian's visit: the console suspends visits while it is up.
    """

    def slots(self) -> list[ReaderSlotStatus]:
        """Returns:
            Every reader slot the kiosk can see, numbered, with its role, card and decoded ATR.
        Raises:
            KioskError: READER_UNAVAILABLE when there is no reader service at all.
        """
        ...

    def psam(self) -> PsamStatus:
        """Check the PSAM slot: a card there, and one test cryptogram computed."""
        ...

    def self_test(self) -> CardSelfTest:
        """Read every item of the card in the guardian's reader (through the PSAM on 3.00 cards) and say what is missing.

        The card's PIN is never sent. Failures come back in the result, not raised.
        """
        ...

    def send_apdu(self, slot: str, command: bytes) -> ApduExchange:
        """Send one raw command APDU to the card in the slot named `slot` (a name from `slots`).

        Raises:
            KioskError: CARD_ABSENT, CARD_MUTE, CARD_REMOVED, CARD_COMMUNICATION, READER_BUSY,
                READER_UNAVAILABLE; ValueError for bytes that are not a short command APDU.
        """
        ...

    def events(self) -> list[ReaderEventRecord]:
        """Returns:
            The latest reader and card events, newest first (held in memory; does not block).
        """
        ...
