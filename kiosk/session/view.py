"""Provides the steps of a visit, the guardian's actions, and the immutable, masked picture of the session the screens present."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime

from kiosk.eligibility import EligibilityDecision


class Step(str, enum.Enum):
    """Where the visit stands; each step has one screen."""

    WELCOME = "welcome"
    INSERT_CARD = "insert_card"
    READING = "reading"
    HOLDER = "holder"
    PIN = "pin"
    CHILD_ID = "child_id"
    CHILD_CONFIRM = "child_confirm"
    ELIGIBLE = "eligible"
    NOT_ELIGIBLE = "not_eligible"
    REGISTERING = "registering"
    ACTIVATION = "activation"
    ACTIVATED = "activated"
    TAKE_CARD = "take_card"
    ERROR = "error"
    OUT_OF_SERVICE = "out_of_service"


class Action(str, enum.Enum):
    """What the guardian may ask of the session; the view says which are allowed now (`SessionView.actions`).

    The values are the automation interface's command names.
    """

    START = "START"
    CONFIRM_HOLDER = "CONFIRM_HOLDER"
    ENTER_PIN = "ENTER_PIN"
    ENTER_CHILD = "ENTER_CHILD"
    RESUME_PENDING = "RESUME_PENDING"
    PICK_CHILD = "PICK_CHILD"
    TYPE_CHILD = "TYPE_CHILD"
    CONFIRM_CHILD = "CONFIRM_CHILD"
    ANOTHER_CHILD = "ANOTHER_CHILD"
    REGISTER = "REGISTER"
    RETRY = "RETRY"
    FINISH = "FINISH"
    MORE_TIME = "MORE_TIME"


# The five stages of the step indicator (which step belongs to which: kiosk.session.steps).
STAGES = ("card", "pin", "child", "check", "activate")


@dataclass(frozen=True)
class CardView:
    """The card's issuer data (EF05) as shown on screen, readable even where the holder data is not."""

    card_number: str  # masked
    spec_version: str
    expiry: date | None
    area_code: str


@dataclass(frozen=True)
class HolderView:
    """The card holder as shown on screen: masked."""

    name: str
    resident_id: str
    card_number: str
    spec_version: str
    expiry: date | None


@dataclass(frozen=True)
class ChildView:
    """The child as shown on screen: masked; name only once the guardianship is on record."""

    name: str
    resident_id: str
    age: int
    sex: str
    relationship: str | None


@dataclass(frozen=True)
class TicketView:
    """The activation ticket on screen."""

    user_code: str
    url: str
    expires_at: datetime
    renewals: int


@dataclass(frozen=True)
class PendingView:
    """A registration of this guardian still waiting for activation."""

    child_name: str
    child_id: str


@dataclass(frozen=True)
class ChildChoice:
    """One of the guardian's children as the picker lists it: masked, with the e-card's state (None, pending, active)."""

    name: str
    resident_id: str
    birth_year: int
    ecard: str | None


@dataclass(frozen=True)
class SessionView:
    """An immutable picture of the session for the screens; holds only masked personal data."""

    step: Step
    lang: str
    card: CardView | None = None
    holder: HolderView | None = None
    pin_tries_left: int | None = None
    pin_error: str | None = None
    pin_pad: str | None = None
    """The PIN is typed on the reader's own PIN pad: "waiting" for it, "checking" it, "again" (cancelled on the pad:
    OK on the kiosk lets the pad take it again); None: on the kiosk's keypad."""
    child_id_error: str | None = None
    child_id_error_position: int | None = None
    child_id_reason: str | None = None
    child: ChildView | None = None
    decision: EligibilityDecision | None = None
    ticket: TicketView | None = None
    resumed: bool = False
    pending: tuple[PendingView, ...] = ()
    children: tuple[ChildChoice, ...] | None = None
    """The guardian's children to pick from, once the PIN is verified; None while not (yet) known."""
    child_typing: bool = False
    """The guardian opened the typed entry of a child's ID number (or no child is listed)."""
    error: str | None = None
    notice: str | None = None
    out_of_service: str | None = None
    service_message: str | None = None  # a technician's words for the guardians while out of service
    large_text: bool = False
    high_contrast: bool = False
    actions: tuple[Action, ...] = ()
    """What the guardian may do now; the session refuses anything else, screens draw their buttons from it."""
    stage: int | None = None
    """0-based index into STAGES, None outside a visit."""
    age_limit: int | None = None
    """The age under which the regional rules give a child an e-card (None while there are no rules)."""

    def allows(self, action: Action) -> bool:
        """True when `action` is one the session takes now."""
        return action in self.actions
