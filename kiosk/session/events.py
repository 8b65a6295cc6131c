"""Provides the events a session takes: the guardian's actions, the reader's and the kiosk's news, the clock's tick,
and the answers of the work it asked for (stamped with the visit and the work they belong to)."""
from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from datetime import datetime
from typing import ClassVar

from kiosk.domain import CardStatus, GuardianCard, PinResult
from kiosk.eligibility import Region
from kiosk.registry.port import ChildSummary
from kiosk.resident_id import ResidentId
from kiosk.session.view import Action


class Event:
    """Something that happened to the session."""


# ----------------------------------------------------------------------------- the guardian
class GuardianEvent(Event):
    """A guardian's action; the session takes it only where `SessionView.actions` allows `action`."""

    action: ClassVar[Action]


@dataclass(frozen=True)
class Begin(GuardianEvent):
    action: ClassVar[Action] = Action.START


@dataclass(frozen=True)
class ConfirmHolder(GuardianEvent):
    action: ClassVar[Action] = Action.CONFIRM_HOLDER


@dataclass(frozen=True)
class PinTyped(GuardianEvent):
    action: ClassVar[Action] = Action.ENTER_PIN
    pin: str = field(repr=False)  # never in a log line


@dataclass(frozen=True)
class ChildIdTyped(GuardianEvent):
    action: ClassVar[Action] = Action.ENTER_CHILD
    text: str = field(repr=False)


@dataclass(frozen=True)
class ResumePending(GuardianEvent):
    action: ClassVar[Action] = Action.RESUME_PENDING
    index: int


@dataclass(frozen=True)
class PickChild(GuardianEvent):
    """One of the children listed (`SessionView.children`) picked; a pending e-card resumes."""

    action: ClassVar[Action] = Action.PICK_CHILD
    index: int


@dataclass(frozen=True)
class TypeChild(GuardianEvent):
    """The guardian wants to type the ID number of a child not listed (or back to the list: `open=False`)."""

    action: ClassVar[Action] = Action.TYPE_CHILD
    open: bool = True


@dataclass(frozen=True)
class ConfirmChild(GuardianEvent):
    action: ClassVar[Action] = Action.CONFIRM_CHILD


@dataclass(frozen=True)
class AnotherChild(GuardianEvent):
    action: ClassVar[Action] = Action.ANOTHER_CHILD


def new_registration_key() -> str:
    """An idempotency key for one registration (the registry's 8-64 visible ASCII characters)."""
    return "reg-" + secrets.token_urlsafe(18)


@dataclass(frozen=True)
class Consent(GuardianEvent):
    action: ClassVar[Action] = Action.REGISTER
    # Chosen here, outside the pure transition; a registration retried in the visit keeps its first key.
    idempotency_key: str = field(default_factory=new_registration_key, repr=False)


@dataclass(frozen=True)
class Retry(GuardianEvent):
    action: ClassVar[Action] = Action.RETRY


@dataclass(frozen=True)
class Finish(GuardianEvent):
    action: ClassVar[Action] = Action.FINISH


@dataclass(frozen=True)
class EndVisit(Event):
    """The kiosk ends any visit as the guardian's finish would, at any step (a technician comes, the kiosk stops)."""


@dataclass(frozen=True)
class MoreTime(GuardianEvent):
    action: ClassVar[Action] = Action.MORE_TIME


@dataclass(frozen=True)
class Touch(Event):
    """Any key or tap: the guardian is there."""


@dataclass(frozen=True)
class SetLanguage(Event):
    lang: str


@dataclass(frozen=True)
class SetDisplay(Event):
    large_text: bool | None = None
    high_contrast: bool | None = None


# ----------------------------------------------------------------------------- the reader, the kiosk, the clock
@dataclass(frozen=True)
class CardInserted(Event):
    pass


@dataclass(frozen=True)
class CardRemoved(Event):
    pass


@dataclass(frozen=True)
class OutOfService(Event):
    reason: str
    message: str | None = None
    between_visits: bool = False  # True: declined while a visit is under way
    message_en: str | None = None  # the same words in English, shown instead while the kiosk speaks English


@dataclass(frozen=True)
class BackInService(Event):
    reason: str | None  # None: every reason is over


@dataclass(frozen=True)
class RulesChanged(Event):
    region: Region


@dataclass(frozen=True)
class Tick(Event):
    """Time passed: timers, deadlines and the activation poll are looked at."""


@dataclass(frozen=True)
class CheckActivation(Event):
    """Look at once whether the guardian's app activated the e-card (the phone just scanned)."""


# ----------------------------------------------------------------------------- answers of the work
@dataclass(frozen=True)
class Stamp:
    """Which visit, and which piece of its work, an answer belongs to."""

    visit: int
    serial: int


@dataclass(frozen=True)
class Answer(Event):
    """The answer of a piece of work; dropped unless the session still waits for it."""

    stamp: Stamp


@dataclass(frozen=True)
class WorkFailed(Answer):
    code: str  # catalogued
    detail: str = ""


@dataclass(frozen=True)
class RegistryChanged(Answer):
    """The registry changed under the visit (another kiosk, the app): the registration no longer fits."""

    reason: str = ""


@dataclass(frozen=True)
class CardRead(Answer):
    card: GuardianCard = field(repr=False)


@dataclass(frozen=True)
class CardStatusKnown(Answer):
    card: GuardianCard = field(repr=False)
    status: CardStatus


@dataclass(frozen=True)
class PinTriesKnown(Answer):
    tries: int | None
    pin_pad: bool = False  # the reader takes the PIN on its own pad


@dataclass(frozen=True)
class PinPadEntered(Event):
    """The reader's PIN pad says the PIN was confirmed: the card is checking it (the PIN itself never comes)."""

    stamp: Stamp


@dataclass(frozen=True)
class PinChecked(Answer):
    result: PinResult


@dataclass(frozen=True)
class ChildFound(Answer):
    """The child looked up: the name on record and what the registry says of the child (the eligibility facts)."""

    child: ResidentId = field(repr=False)
    name: str | None = field(repr=False)
    facts: tuple[tuple[str, object], ...] = field(repr=False)
    purpose: str = "typed"  # "typed", "pending" (resume it), "again" (the registry changed)


@dataclass(frozen=True)
class TicketIssued(Answer):
    """A registration (the e-card and its first ticket, one transaction) or a fresh ticket for a pending e-card."""

    ecard_id: int
    ticket_id: int
    user_code: str
    url: str = field(repr=False)
    expires_at: datetime | None = None
    poll_interval_seconds: float = 0.0
    """The least time between two looks for the activation the registry allows (0: the kiosk's own)."""


@dataclass(frozen=True)
class AlreadyActivated(Answer):
    """The e-card the visit resumed or renewed is active already (the app was faster): nothing to show but that."""

    ecard_id: int


@dataclass(frozen=True)
class PendingECard(Answer):
    """The child's e-card still waiting for activation, or None when there is none any more."""

    ecard_id: int | None


@dataclass(frozen=True)
class TicketState(Answer):
    state: str  # "pending", "activated", "expired", "revoked"
    poll_interval_seconds: float = 0.0


@dataclass(frozen=True)
class PendingListed(Answer):
    pending: tuple[tuple[int, str, str], ...] = field(repr=False)  # (e-card, masked child name, masked child ID)


@dataclass(frozen=True)
class ChildrenListed(Answer):
    children: tuple[ChildSummary, ...] = field(repr=False)


@dataclass(frozen=True)
class CardPresence(Answer):
    present: bool
