"""Provides EligibilityFacts: everything the session learnt that the eligibility rules look at."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from kiosk.domain import CardStatus, ECardState, GuardianCard
from kiosk.resident_id import ResidentId


@dataclass(frozen=True)
class EligibilityFacts:
    """What is known about the guardian, the card and the child at one moment of a visit.

    Facts not known yet keep their "nothing known" value; rules about them then stay silent
    until the phase that looks at them.
    """

    today: date
    card: GuardianCard | None
    """What was read from the card; None when nothing could be read."""
    card_readable: bool
    """The card answered and its data could be read (issuer and holder)."""
    is_social_security_card: bool
    """The social security application (SSSE) could be selected on the card."""
    card_status: CardStatus | None
    """The card's status in the registry; None when it was not looked up."""
    pin_verified: bool
    child_id_text: str | None
    """The child's ID number as typed; None before it was entered."""
    child_id: ResidentId | None
    """The child's ID number when `child_id_text` is a valid one, else None."""
    child_known: bool
    """The child is a person in the registry."""
    relationship: str | None
    """The guardian's relationship to the child on record ("father", "mother", "guardian"), None if none."""
    child_ecard_state: ECardState | None
    """The state of the child's newest e-card that is not cancelled; None when there is none."""
    child_ecard_pending_by_this_guardian: bool
    """The child's pending e-card was registered by this guardian (not by another one)."""
    guardian_children_with_ecards: int
    """This guardian's other children that have an active or pending e-card."""
    child_has_physical_card: bool
    """The child already holds a physical social security card."""
