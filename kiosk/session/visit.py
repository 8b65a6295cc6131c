"""Provides the visit: everything known about the guardian at the kiosk, kept in one place so it can be dropped whole."""
from __future__ import annotations

from dataclasses import dataclass, field

from kiosk.domain import CardStatus, GuardianCard
from kiosk.eligibility import EligibilityDecision
from kiosk.resident_id import ResidentId
from kiosk.session.view import TicketView


@dataclass
class Visit:
    """Everything known about the current guardian; dropped whole when the visit ends."""

    card: GuardianCard | None = None
    card_status: CardStatus | None = None
    pin_verified: bool = False
    pin_tries_left: int | None = None
    child_text: str | None = None
    child: ResidentId | None = None
    child_name: str | None = None
    relationship: str | None = None
    decision: EligibilityDecision | None = None
    ecard_id: int | None = None
    ticket_id: int | None = None
    ticket: TicketView | None = None
    renewals: int = 0
    poll_failures: int = 0
    more_time: int = 0  # how often the guardian asked for more time
    pending: list[tuple[str, str]] = field(default_factory=list)  # (child rid, child name)
