"""Provides evaluate(): the eligibility decision for one phase of a visit, with reasons and next steps."""
from __future__ import annotations

from dataclasses import dataclass

from kiosk.domain import ECardState
from kiosk.eligibility.facts import EligibilityFacts
from kiosk.eligibility.region import Region
from kiosk.eligibility.rules import RULES, Phase
from kiosk.text import LocalText


@dataclass(frozen=True)
class RuleFailure:
    """One rule the guardian or the child does not meet, in the region's words."""

    code: str
    reason: LocalText
    next_step: LocalText
    legal_basis: LocalText
    variant: str | None = None


@dataclass(frozen=True)
class EligibilityDecision:
    """Whether the visit may go on, and if not, every reason in rule order.

    `resume` is True when the child is eligible and already has a pending e-card (registered
    by this or another of the child's guardians): the kiosk shows a fresh QR code for it
    instead of registering a second one.
    """

    eligible: bool
    failures: tuple[RuleFailure, ...]
    resume: bool
    phase: Phase = Phase.CHILD

    @property
    def codes(self) -> tuple[str, ...]:
        """The codes of the failed rules."""
        return tuple(failure.code for failure in self.failures)


def evaluate(facts: EligibilityFacts, region: Region, phase: Phase | str) -> EligibilityDecision:
    """Apply the region's rules of `phase` and of every phase before it.

    Args:
        facts: what the session knows now.
        region: the regional rules (limits, enabled rules, texts).
        phase: "card", "pin" or "child".
    Raises:
        ValueError: for an unknown phase.
    """
    phase = Phase(phase)
    failures = []
    for rule in RULES:
        if rule.phase not in phase.covered or not region.is_enabled(rule.code):
            continue
        breach = rule.check(facts, region)
        if breach is None:
            continue
        text = region.text_for(rule.code, breach.variant)
        failures.append(RuleFailure(rule.code, text.reason, text.next_step, text.legal_basis, breach.variant))
    eligible = not failures
    resume = eligible and phase is Phase.CHILD and facts.child_ecard_state is ECardState.PENDING
    return EligibilityDecision(eligible=eligible, failures=tuple(failures), resume=resume, phase=phase)
