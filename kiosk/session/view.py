"""Provides the steps of a visit and the immutable, masked picture of the session the screens present."""
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


# The five stages of the step indicator, and which stage each step belongs to.
STAGES = ("card", "pin", "child", "check", "activate")
STAGE_OF = {
    Step.INSERT_CARD: 0, Step.READING: 0, Step.HOLDER: 0, Step.PIN: 1, Step.CHILD_ID: 2,
    Step.CHILD_CONFIRM: 2, Step.ELIGIBLE: 3, Step.NOT_ELIGIBLE: 3, Step.REGISTERING: 4,
    Step.ACTIVATION: 4, Step.ACTIVATED: 4,
}
# Steps in which a guardian's visit is under way (idle timeout and card removal apply).
VISIT_STEPS = frozenset(STAGE_OF) | {Step.ERROR}


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
class SessionView:
    """An immutable picture of the session for the screens; holds only masked personal data."""

    step: Step
    lang: str
    card: CardView | None = None
    holder: HolderView | None = None
    pin_tries_left: int | None = None
    pin_error: str | None = None
    child_id_error: str | None = None
    child_id_error_position: int | None = None
    child_id_reason: str | None = None
    child: ChildView | None = None
    decision: EligibilityDecision | None = None
    ticket: TicketView | None = None
    resumed: bool = False
    pending: tuple[PendingView, ...] = ()
    error: str | None = None
    notice: str | None = None
    out_of_service: str | None = None
    service_message: str | None = None  # a technician's words for the guardians while out of service
    large_text: bool = False
    high_contrast: bool = False

    @property
    def stage(self) -> int | None:
        """0-based index into STAGES, None outside a visit."""
        return STAGE_OF.get(self.step)
