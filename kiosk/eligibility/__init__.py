"""Provides the eligibility check: facts, rules, regional rule files and the decision."""
from __future__ import annotations

from kiosk.eligibility.decision import EligibilityDecision, RuleFailure, evaluate
from kiosk.eligibility.facts import EligibilityFacts
from kiosk.eligibility.region import Region, RegionFileError, RuleText, RuleTexts, load_region
from kiosk.eligibility.rules import RULES, RULES_BY_CODE, Breach, Phase, Rule

__all__ = [
    "RULES",
    "RULES_BY_CODE",
    "Breach",
    "EligibilityDecision",
    "EligibilityFacts",
    "Phase",
    "Region",
    "RegionFileError",
    "Rule",
    "RuleFailure",
    "RuleText",
    "RuleTexts",
    "evaluate",
    "load_region",
]
