"""Provides the moves transitions share: starting and ending a visit, failing a step, deciding about a child."""
from __future__ import annotations

import logging

from kiosk.eligibility import EligibilityFacts, evaluate
from kiosk.masking import mask_id
from kiosk.resident_id import ResidentId
from kiosk.session.effects import Audit, FindPendingECard, IssueTicket, LookUpChild, ReleaseCard, WithdrawTicket
from kiosk.session.state import Change
from kiosk.session.view import Step
from kiosk.session.visit import Visit

log = logging.getLogger("kiosk.session")

TIMEOUT_ERRORS = {"card": "CARD_TIMEOUT", "registry": "REGISTRY_TIMEOUT"}
"""The error a guardian sees when the card, or the registry, does not answer within the deadline."""


def audit(change: Change, kind: str, detail: str) -> None:
    change.do(Audit(kind, detail))


def new_visit(change: Change) -> None:
    """A new guardian's visit: nothing of the one before, a new number for its work's answers."""
    change.set(visit=Visit(), visit_id=change.state.visit_id + 1, flights=(), notice=None, error=None,
               pin_error=None, child_error=None)


def to_welcome(change: Change, notice: str | None) -> None:
    """Back to the welcome screen, in the kiosk's own language and display for whoever comes next."""
    change.set(step=Step.WELCOME, notice=notice, lang=change.ctx.policy.language, large_text=False,
               high_contrast=False)


def end_visit(change: Change, notice: str | None, *, card_gone: bool = False) -> None:
    """Forget the visit (personal data leaves memory), let go of the card, and ask for it back if it is still in.

    Nothing here waits for the card: whether it is in comes from the reader's events.
    """
    state = change.state
    card_in = state.card_in and not card_gone
    if state.step is Step.ACTIVATION and state.visit is not None and state.visit.ticket_id is not None:
        # The guardian left the QR unused: withdrawn, so a photo of the screen is no use to anyone.
        change.do(WithdrawTicket(state.visit.ticket_id))
    change.set(visit=None, flights=(), pin_error=None, child_error=None, error=None, notice=notice, card_in=card_in,
               farewell_at=None, poll_at=None)
    change.do(ReleaseCard(state.visit_id))
    if state.step is Step.OUT_OF_SERVICE:
        return
    if card_in:
        change.set(step=Step.TAKE_CARD)
    else:
        to_welcome(change, notice)


def show_error(change: Change, code: str) -> None:
    change.set(error=code, step=Step.ERROR)
    if code != "DATABASE_UNAVAILABLE":
        audit(change, "error", f"code={code}")


def fail(change: Change, code: str, detail: str = "") -> None:
    """Work failed: a pulled card or a lost reader ends the visit; other failures show their error."""
    step = change.state.step
    log.warning("session step %s failed: %s %s", step.value, code, detail)
    if code == "CARD_REMOVED":
        audit(change, "card_removed", f"step={step.value}")
        end_visit(change, "CARD_REMOVED", card_gone=True)
    elif code in ("READER_LOST", "READER_UNAVAILABLE"):
        audit(change, "reader_lost", detail)
        end_visit(change, code, card_gone=True)
    else:
        show_error(change, code)


def give_up(change: Change, lane: str, name: str) -> None:
    """Work the guardian waits for took longer than the deadline: a catalogued error, the card let go of.

    Every answer still on its way is dropped when it comes (the session waits for none any more).
    """
    code = TIMEOUT_ERRORS[lane]
    log.warning("session step %s: %s did not answer within %s s", change.state.step.value, name,
                change.ctx.policy.work_deadline_seconds)
    change.set(flights=(), pin_error=None)
    change.do(ReleaseCard(change.state.visit_id))
    show_error(change, code)


def look_up_child(change: Change, child: ResidentId, purpose: str) -> None:
    """Ask the registry about the child (the guardian is the card's holder)."""
    guardian = change.visit.guardian
    assert guardian is not None
    change.start(LookUpChild(change.stamp(), guardian, child, purpose))


def decide_again(change: Change, reason: str) -> None:
    """The registry changed under the visit (another kiosk, the app): decide from what it says now.

    The screen stays as it is until the new decision comes.
    """
    log.info("registry changed during the visit, deciding again: %s", reason)
    visit = change.visit
    change.set_visit(ecard_id=None, ticket_id=None, renewals=0, poll_failures=0)
    change.set(poll_at=None)
    assert visit.child is not None
    look_up_child(change, visit.child, "again")


def facts(change: Change, child: dict[str, object] | None = None) -> EligibilityFacts:
    """The facts as the visit knows them; `child` adds what the registry says of the child."""
    visit = change.visit
    extra: dict = child or {}
    return EligibilityFacts(
        today=change.ctx.today,
        card=visit.card,
        card_readable=visit.card is not None and visit.card.holder is not None,
        is_social_security_card=visit.card is not None,
        card_status=visit.card_status,
        pin_verified=visit.pin_verified,
        child_id_text=visit.child_text,
        child_id=visit.child,
        child_known=extra.get("child_known", False),
        relationship=extra.get("relationship"),
        child_ecard_state=extra.get("child_ecard_state"),
        child_ecard_pending_by_this_guardian=extra.get("child_ecard_pending_by_this_guardian", False),
        guardian_children_with_ecards=extra.get("guardian_children_with_ecards", 0),
        child_has_physical_card=extra.get("child_has_physical_card", False),
    )


def decide_card(change: Change) -> None:
    """The card read: the card's own rules (expired, lost, ...) before anything else."""
    region = change.state.region
    assert region is not None
    decision = evaluate(facts(change), region, "card")
    change.set_visit(decision=None if decision.eligible else decision)
    change.set(step=Step.HOLDER if decision.eligible else Step.NOT_ELIGIBLE)


def decide_child(change: Change, child_facts: dict[str, object]) -> None:
    """The child looked up: the whole decision, and the child shown to confirm (or why not)."""
    region = change.state.region
    assert region is not None
    decision = evaluate(facts(change, child_facts), region, "child")
    change.set_visit(decision=decision)
    unknown = {f.code for f in decision.failures} & {"CHILD_UNKNOWN", "NOT_GUARDIAN"}
    change.set(step=Step.NOT_ELIGIBLE if unknown else Step.CHILD_CONFIRM)
    codes = ",".join(f.code for f in decision.failures) or "eligible"
    child = change.visit.child
    assert child is not None
    audit(change, "child_checked", f"child={mask_id(child.text)} decision={codes} resume={decision.resume}")


def settle_child(change: Change) -> None:
    """The child confirmed: register (eligible), resume the pending registration, or say why not."""
    decision = change.visit.decision
    assert decision is not None
    if decision.eligible and decision.resume:
        change.set(step=Step.REGISTERING)
        child = change.visit.child
        assert child is not None
        guardian = change.visit.guardian
        assert guardian is not None
        change.start(FindPendingECard(change.stamp(), guardian, child.text))
    else:
        change.set(step=Step.ELIGIBLE if decision.eligible else Step.NOT_ELIGIBLE)


def issue_ticket(change: Change, ecard_id: int) -> None:
    """Ask for a fresh ticket for the pending e-card, for the guardian whose card is in."""
    change.start(IssueTicket(change.stamp(), ecard_id, change.visit.presented_card()))


def poll_delay(change: Change) -> float:
    """Seconds until the next look for the activation: the kiosk's own pace, never faster than the registry allows."""
    visit = change.state.visit
    return max(change.ctx.policy.poll_seconds, visit.poll_interval if visit is not None else 0.0)
