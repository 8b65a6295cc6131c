"""Provides the effects a transition asks for: the card and registry work the runner carries out for the session.

An effect is a value: it says what to do, never does it. `kiosk.session.card_work` and
`kiosk.session.registry_work` do it; the answer comes back as a stamped event (`kiosk.session.events`).
Personal data in an effect is kept out of its repr, so no log line shows it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar

from kiosk.domain import GuardianCard
from kiosk.registry.port import PresentedCard
from kiosk.resident_id import ResidentId
from kiosk.session.events import Stamp


class Effect:
    """Work for the runner; `lane` says whether it talks to the card or to the registry."""

    lane: ClassVar[str]
    name: ClassVar[str]


class Work(Effect):
    """Work the session waits for: its answer is stamped with `stamp`."""

    stamp: Stamp


# ----------------------------------------------------------------------------- the card
@dataclass(frozen=True)
class ReadCard(Work):
    lane: ClassVar[str] = "card"
    name: ClassVar[str] = "read_card"
    stamp: Stamp


@dataclass(frozen=True)
class AskPinTries(Work):
    lane: ClassVar[str] = "card"
    name: ClassVar[str] = "pin_tries"
    stamp: Stamp


@dataclass(frozen=True)
class VerifyPin(Work):
    lane: ClassVar[str] = "card"
    name: ClassVar[str] = "verify_pin"
    stamp: Stamp
    pin: str = field(repr=False)


@dataclass(frozen=True)
class VerifyPinOnPad(Work):
    """The guardian types the PIN on the reader's own PIN pad: the kiosk waits for the card's answer, never the PIN."""

    lane: ClassVar[str] = "card"
    name: ClassVar[str] = "verify_pin_pad"
    stamp: Stamp


@dataclass(frozen=True)
class CheckCardPresent(Work):
    lane: ClassVar[str] = "card"
    name: ClassVar[str] = "card_present"
    stamp: Stamp


@dataclass(frozen=True)
class ReleaseCard(Effect):
    """Let go of the card read in `visit` (nothing happens when a newer visit has read the card since)."""

    lane: ClassVar[str] = "card"
    name: ClassVar[str] = "release_card"
    visit: int


# ----------------------------------------------------------------------------- the registry
@dataclass(frozen=True)
class LookUpCardStatus(Work):
    """The card's status in the registry (lost, frozen, ...); the card read travels along until it is known."""

    lane: ClassVar[str] = "registry"
    name: ClassVar[str] = "card_status"
    stamp: Stamp
    card: GuardianCard = field(repr=False)


@dataclass(frozen=True)
class LookUpChild(Work):
    lane: ClassVar[str] = "registry"
    name: ClassVar[str] = "look_up_child"
    stamp: Stamp
    guardian: str = field(repr=False)
    child: ResidentId = field(repr=False)
    purpose: str = "typed"  # echoed in the answer: "typed", "pending" or "again"


@dataclass(frozen=True)
class RegisterECard(Work):
    """Register the child's e-card and its first ticket in one call: the guardian consented, so it is written even when
    the visit ends meanwhile. `idempotency_key` is this registration's, the same on every retry of it."""

    lane: ClassVar[str] = "registry"
    name: ClassVar[str] = "register_ecard"
    stamp: Stamp
    card: PresentedCard = field(repr=False)
    child: str = field(repr=False)
    idempotency_key: str = field(default="", repr=False)


@dataclass(frozen=True)
class IssueTicket(Work):
    """A fresh ticket for a pending e-card (resumed, or a renewed QR); the registry checks the rules again."""

    lane: ClassVar[str] = "registry"
    name: ClassVar[str] = "issue_ticket"
    stamp: Stamp
    ecard_id: int
    card: PresentedCard = field(repr=False)


@dataclass(frozen=True)
class FindPendingECard(Work):
    lane: ClassVar[str] = "registry"
    name: ClassVar[str] = "find_pending_ecard"
    stamp: Stamp
    guardian: str = field(repr=False)
    child: str = field(repr=False)


@dataclass(frozen=True)
class WithdrawTicket(Effect):
    """Revoke the ticket on screen that the guardian left unused (their QR is no use to anyone after the visit)."""

    lane: ClassVar[str] = "registry"
    name: ClassVar[str] = "withdraw_ticket"
    ticket_id: int


@dataclass(frozen=True)
class PollTicket(Work):
    lane: ClassVar[str] = "registry"
    name: ClassVar[str] = "poll_ticket"
    stamp: Stamp
    ticket_id: int


@dataclass(frozen=True)
class ListPending(Work):
    lane: ClassVar[str] = "registry"
    name: ClassVar[str] = "list_pending"
    stamp: Stamp
    guardian: str = field(repr=False)


@dataclass(frozen=True)
class ListChildren(Work):
    """The guardian's children on record (asked once the PIN is verified, never before)."""

    lane: ClassVar[str] = "registry"
    name: ClassVar[str] = "list_children"
    stamp: Stamp
    guardian: str = field(repr=False)


@dataclass(frozen=True)
class Audit(Effect):
    """An audit event (masked detail only); written whatever happens to the visit."""

    lane: ClassVar[str] = "registry"
    name: ClassVar[str] = "audit"
    kind: str
    detail: str


SURVIVES_THE_VISIT: tuple[type[Effect], ...] = (RegisterECard, Audit, WithdrawTicket)
"""Work carried out even when its visit ended before it started (a consent is the guardian's decision)."""
