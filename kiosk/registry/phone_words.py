"""Provides the words for what the phone side answers: one catalogue key per outcome, for the phone page and `kiosk.py activate --as`."""
from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.i18n import N_

if TYPE_CHECKING:
    from kiosk.registry.phone import PhoneAnswer

OUTCOME_KEYS = {
    "activated": N_("phone.outcome.activated"), "access_denied": N_("phone.outcome.access_denied"),
    "locked": N_("phone.outcome.locked"), "expired_token": N_("phone.outcome.expired_token"),
    "already_used": N_("phone.outcome.already_used"), "invalid_code": N_("phone.outcome.invalid_code"),
    "slow_down": N_("phone.outcome.slow_down"), "csrf": N_("phone.outcome.csrf"),
    "no_identity": N_("phone.outcome.no_identity"),
}
"""Outcome (as the phone page's `data-outcome` names it) -> its catalogue key (kiosk/locale)."""


def answer_outcome(answer: PhoneAnswer) -> str:
    """The outcome an activation answer is shown as: a wrong identity that used the ticket's last try says "locked"."""
    if answer.outcome == "access_denied" and answer.tries_left == 0 and answer.ticket_id is not None:
        return "locked"
    return answer.outcome
