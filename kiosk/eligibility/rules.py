"""Provides the eligibility rules: one small check per rule, each with a stable code and the phase it belongs to."""
from __future__ import annotations

import enum
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from kiosk.domain import CardStatus, ECardState
from kiosk.eligibility.facts import EligibilityFacts
from kiosk.resident_id import ResidentId, ResidentIdError, ResidentIdReason

if TYPE_CHECKING:
    from kiosk.eligibility.region import Region


class Phase(str, enum.Enum):
    """When a rule can first be decided in a visit."""

    CARD = "card"  # right after the card is read
    PIN = "pin"  # after the PIN was checked
    CHILD = "child"  # after the child's ID number was entered

    @property
    def covered(self) -> tuple[Phase, ...]:
        """This phase and the ones before it: evaluating a phase re-checks the earlier ones."""
        order = list(Phase)
        return tuple(order[: order.index(self) + 1])


@dataclass(frozen=True)
class Breach:
    """A rule that failed; `variant` picks a more precise text from the region file (e.g. "lost")."""

    variant: str | None = None


Check = Callable[[EligibilityFacts, "Region"], "Breach | None"]


@dataclass(frozen=True)
class Rule:
    """One eligibility rule."""

    code: str
    phase: Phase
    check: Check
    variants: tuple[str, ...] = ()
    """The variants `check` may name; the region file may give each its own text."""
    required: bool = False
    """A region cannot switch the rule off: it guards who is at the kiosk and what the registry holds."""


def card_unreadable(facts: EligibilityFacts, region: Region) -> Breach | None:
    """The card (or, on a 3.00 card without a PSAM, its holder data) could not be read."""
    if facts.card is not None and facts.card.holder is None:
        return Breach("holder_hidden")
    return None if facts.card_readable else Breach()


def not_social_security_card(facts: EligibilityFacts, region: Region) -> Breach | None:
    """The card answered but has no social security application."""
    return Breach() if facts.card_readable and not facts.is_social_security_card else None


def card_expired(facts: EligibilityFacts, region: Region) -> Breach | None:
    """The card's expiry date lies before today."""
    expiry = facts.card.issuer.expiry_date if facts.card is not None else None
    return Breach() if expiry is not None and expiry < facts.today else None


def card_not_normal(facts: EligibilityFacts, region: Region) -> Breach | None:
    """The registry has the card as lost, frozen or cancelled, or does not know it."""
    status = facts.card_status
    if status is None or status is CardStatus.NORMAL:
        return None
    return Breach(status.value)


def pin_not_verified(facts: EligibilityFacts, region: Region) -> Breach | None:
    """The PIN has not been proved."""
    return None if facts.pin_verified else Breach()


def child_id_invalid(facts: EligibilityFacts, region: Region) -> Breach | None:
    """No valid ID number was entered for the child; the variant says what is wrong with it."""
    if facts.child_id is not None:
        return None
    if not (facts.child_id_text or "").strip():
        return Breach("missing")
    try:
        ResidentId.parse(facts.child_id_text or "", today=facts.today)
    except ResidentIdError as exc:
        return Breach(exc.reason.value)
    return Breach()  # the text is valid but was not taken as the child's number


def child_too_old(facts: EligibilityFacts, region: Region) -> Breach | None:
    """The child has reached the age from which they apply themselves."""
    if facts.child_id is None:
        return None
    return Breach() if facts.child_id.age_on(facts.today) >= region.age_limit else None


def child_unknown(facts: EligibilityFacts, region: Region) -> Breach | None:
    """The registry has no person with the child's ID number."""
    return Breach() if facts.child_id is not None and not facts.child_known else None


def not_guardian(facts: EligibilityFacts, region: Region) -> Breach | None:
    """No guardianship between the card holder and the child is on record."""
    if facts.child_id is None or not facts.child_known:
        return None
    return Breach() if facts.relationship is None else None


def child_has_ecard(facts: EligibilityFacts, region: Region) -> Breach | None:
    """The child already has an active e-card (a pending one is resumed, not refused)."""
    return Breach() if facts.child_ecard_state is ECardState.ACTIVE else None


def child_slots_full(facts: EligibilityFacts, region: Region) -> Breach | None:
    """The guardian's other children already take every child slot the region allows.

    A child whose e-card is already active or pending takes no new slot.
    """
    if facts.child_id is None or not facts.child_known:
        return None
    if facts.child_ecard_state in (ECardState.ACTIVE, ECardState.PENDING):
        return None
    return Breach() if facts.guardian_children_with_ecards >= region.child_slots else None


def physical_card_required(facts: EligibilityFacts, region: Region) -> Breach | None:
    """The region issues e-cards only to children who already hold a physical card."""
    if not region.physical_card_required or facts.child_id is None or not facts.child_known:
        return None
    return None if facts.child_has_physical_card else Breach()


RULES: tuple[Rule, ...] = (
    Rule("CARD_UNREADABLE", Phase.CARD, card_unreadable, ("holder_hidden",), required=True),
    Rule("NOT_SOCIAL_SECURITY_CARD", Phase.CARD, not_social_security_card, required=True),
    Rule("CARD_EXPIRED", Phase.CARD, card_expired),
    Rule(
        "CARD_NOT_NORMAL",
        Phase.CARD,
        card_not_normal,
        tuple(status.value for status in CardStatus if status is not CardStatus.NORMAL),
    ),
    Rule("PIN_NOT_VERIFIED", Phase.PIN, pin_not_verified, required=True),
    Rule(
        "CHILD_ID_INVALID",
        Phase.CHILD,
        child_id_invalid,
        ("missing", *(reason.value for reason in ResidentIdReason)),
        required=True,
    ),
    Rule("CHILD_TOO_OLD", Phase.CHILD, child_too_old),
    Rule("CHILD_UNKNOWN", Phase.CHILD, child_unknown, required=True),
    Rule("NOT_GUARDIAN", Phase.CHILD, not_guardian, required=True),
    Rule("CHILD_HAS_ECARD", Phase.CHILD, child_has_ecard, required=True),
    Rule("CHILD_SLOTS_FULL", Phase.CHILD, child_slots_full),
    Rule("PHYSICAL_CARD_REQUIRED", Phase.CHILD, physical_card_required),
)
"""Every rule, in the order the decision lists failures."""

RULES_BY_CODE: dict[str, Rule] = {rule.code: rule for rule in RULES}
