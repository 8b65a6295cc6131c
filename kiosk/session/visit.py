"""Provides the visit: everything known about the guardian at the kiosk, kept in one value so it can be dropped whole."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    # A session at its welcome has no visit: what a visit holds loads with the first one.
    from kiosk.domain import CardStatus, GuardianCard
    from kiosk.eligibility import EligibilityDecision
    from kiosk.registry.port import ChildSummary, PresentedCard
    from kiosk.resident_id import ResidentId
    from kiosk.session.view import TicketView


@dataclass(frozen=True)
class Visit:
    """Everything known about the current guardian; dropped whole when the visit ends."""

    card: GuardianCard | None = None
    card_status: CardStatus | None = None
    pin_verified: bool = False
    pin_tries_left: int | None = None
    pin_pad: str | None = None  # the reader's PIN pad: "waiting", "checking", "again" (after a cancel); None: no pad
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
    pending: tuple[tuple[int, str, str], ...] = ()  # (e-card, masked child name, masked child ID), as the registry lists them
    registration: tuple[str, str, str] | None = None  # (guardian, child, idempotency key) of the last consent
    resumed: bool = False  # a registration waiting for activation picked from the list, continued by its e-card
    poll_interval: float = 0.0  # the registry's least time between looks for the activation
    children: tuple[ChildSummary, ...] | None = None  # on record, once the PIN is verified; None: not known yet
    child_typing: bool = False  # the typed entry of an ID number is open (the picker closed)

    @property
    def guardian(self) -> str | None:
        """The guardian's resident ID number, once the card's holder data is read."""
        return self.card.holder.resident_id if self.card is not None and self.card.holder is not None else None

    def without_child(self) -> Visit:
        """The visit back at the child's ID number: the child, the decision and its registration forgotten."""
        return Visit(card=self.card, card_status=self.card_status, pin_verified=self.pin_verified,
                     pin_tries_left=self.pin_tries_left, more_time=self.more_time, pending=self.pending,
                     registration=self.registration, children=self.children)

    def presented_card(self) -> PresentedCard:
        """The guardian's card as the registry is shown it: read, its PIN proved (or not) at this kiosk."""
        from kiosk.registry.port import PresentedCard

        assert self.card is not None
        return PresentedCard.from_card(self.card, self.pin_verified)

    def registration_key(self, offered: str) -> str:
        """The idempotency key of registering this child for this guardian: the one used before in the visit (a retry
        gets the same e-card), else `offered`."""
        child = self.child.text if self.child is not None else None
        if self.registration is not None and self.registration[:2] == (self.guardian, child):
            return self.registration[2]
        return offered
