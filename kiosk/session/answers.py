"""Provides what the session does with each answer of its work: the card read, the PIN checked, the child found, ..."""
from __future__ import annotations

import logging
from typing import Callable

from kiosk.domain import GuardianCard, PinStatus
from kiosk.masking import mask_card_number
from kiosk.session import events as ev
from kiosk.session.effects import (CheckCardPresent, ListChildren, ListPending, LookUpCardStatus, PollTicket,
                                   VerifyPinOnPad)
from kiosk.session.moves import (
    audit,
    decide_again,
    decide_card,
    decide_child,
    end_visit,
    fail,
    issue_ticket,
    poll_delay,
    settle_child,
    to_welcome,
)
from kiosk.session.state import Change, Flight
from kiosk.session.view import Step, TicketView

log = logging.getLogger("kiosk.session")


def list_pending(change: Change) -> None:
    """Ask for the guardian's registrations still waiting for activation (offered at the child's ID number)."""
    guardian = change.visit.guardian
    if guardian is not None:
        change.start(ListPending(change.stamp(), guardian), deadline=False)


def list_children(change: Change) -> None:
    """Ask for the guardian's children on record, to be picked with one key (only ever after the PIN is verified)."""
    guardian = change.visit.guardian
    if guardian is not None and change.visit.pin_verified and change.visit.children is None:
        change.start(ListChildren(change.stamp(), guardian), deadline=False)


def look_for_activation(change: Change) -> None:
    """Ask the registry whether the e-card on screen was activated, unless that (or a new code) is under way."""
    visit = change.state.visit
    if change.state.step is not Step.ACTIVATION or visit is None or visit.ticket_id is None:
        return
    if any(f.name in ("poll_ticket", "issue_ticket", "look_up_child") for f in change.state.flights):
        return
    change.set(poll_at=None)
    change.start(PollTicket(change.stamp(), visit.ticket_id))


def poll_failed(change: Change, code: str, detail: str) -> None:
    """A look for the activation failed: tolerated a few times in a row, then shown."""
    failures = change.visit.poll_failures + 1
    change.set_visit(poll_failures=failures)
    change.set(poll_at=change.after(poll_delay(change)))
    if failures >= change.ctx.policy.poll_failures_tolerated:
        fail(change, code, detail)


def check_card_present(change: Change) -> None:
    """Ask the reader whether the card is still in (the safety net for a removal the reader did not report)."""
    if change.state.flight("card_present") is None:
        change.start(CheckCardPresent(change.stamp()), deadline=False)


# ----------------------------------------------------------------------------- answers
def card_read(change: Change, answer: ev.CardRead, flight: Flight) -> None:
    if change.state.step is not Step.READING:
        return
    card = answer.card
    log.info("card read: version %s, card %s, %d APDUs", card.issuer.spec_version,
             mask_card_number(card.issuer.card_number), card.apdu_count)
    if card.holder is None:
        change.set_visit(card=card)
        change.set(error="CARD_NEEDS_PSAM", step=Step.ERROR)
        _card_read_audit(change, card)
    else:
        change.start(LookUpCardStatus(change.stamp(), card))


def card_status_known(change: Change, answer: ev.CardStatusKnown, flight: Flight) -> None:
    if change.state.step is not Step.READING:
        return
    change.set_visit(card=answer.card, card_status=answer.status)
    decide_card(change)
    _card_read_audit(change, answer.card)


def _card_read_audit(change: Change, card: GuardianCard) -> None:
    audit(change, "card_read", f"card={mask_card_number(card.issuer.card_number)} version={card.issuer.spec_version}")


def pin_tries_known(change: Change, answer: ev.PinTriesKnown, flight: Flight) -> None:
    if change.state.step is not Step.PIN or change.visit.pin_tries_left is not None:
        return
    change.set_visit(pin_tries_left=answer.tries)
    if answer.tries == 0:
        change.set(error="PIN_BLOCKED", step=Step.ERROR)
    elif answer.pin_pad:
        wait_for_pin_pad(change)


def wait_for_pin_pad(change: Change) -> None:
    """The reader takes the PIN on its own pad: wait for the card's answer (the guardian takes their time: no deadline;
    the step's idle timeout still ends a visit nobody finishes)."""
    change.set_visit(pin_pad="waiting")
    change.start(VerifyPinOnPad(change.stamp()), deadline=False)


def pin_checked(change: Change, answer: ev.PinChecked, flight: Flight) -> None:
    if change.state.step is not Step.PIN:
        return
    result = answer.result
    change.set_visit(pin_tries_left=result.tries_left)
    if result.status is PinStatus.VERIFIED:
        change.set_visit(pin_verified=True)
        change.set(pin_error=None, step=Step.CHILD_ID)
    elif result.status is PinStatus.BLOCKED:
        change.set(pin_error=None, error="PIN_BLOCKED", step=Step.ERROR)
    else:
        change.set(pin_error="PIN_WRONG")
        if flight.name == "verify_pin_pad":
            wait_for_pin_pad(change)  # the next try on the pad, with the warning before the last one
    audit(change, "pin_" + result.status.value, f"tries_left={result.tries_left}")
    if result.status is PinStatus.VERIFIED:
        list_children(change)
        list_pending(change)


def child_found(change: Change, answer: ev.ChildFound, flight: Flight) -> None:
    facts = dict(answer.facts)
    change.set(child_error=None)
    change.set_visit(child_text=answer.child.text, child=answer.child, child_name=answer.name,
                     relationship=facts["relationship"], ecard_id=None, ticket_id=None, ticket=None, renewals=0)
    decide_child(change, facts)
    if answer.purpose == "pending" and change.state.step is Step.CHILD_CONFIRM:
        settle_child(change)  # the guardian picked the pending registration: straight on to its QR code


def pending_ecard(change: Change, answer: ev.PendingECard, flight: Flight) -> None:
    if answer.ecard_id is None:
        decide_again(change, "no pending e-card any more")
        return
    audit(change, "ecard_resumed", f"ecard={answer.ecard_id}")
    issue_ticket(change, answer.ecard_id)


def ticket_issued(change: Change, answer: ev.TicketIssued, flight: Flight) -> None:
    visit = change.visit
    assert answer.expires_at is not None
    change.set_visit(ecard_id=answer.ecard_id, ticket_id=answer.ticket_id, poll_interval=answer.poll_interval_seconds,
                     ticket=TicketView(answer.user_code, answer.url, answer.expires_at, visit.renewals))
    change.set(step=Step.ACTIVATION)


def already_activated(change: Change, answer: ev.AlreadyActivated, flight: Flight) -> None:
    if change.visit.child is not None:
        decide_again(change, "activated meanwhile")  # the child's e-card is active: the rules say what now
        return
    change.set_visit(ecard_id=answer.ecard_id, ticket_id=None)  # a registration picked from the list: it is done
    change.set(step=Step.ACTIVATED)


def ticket_state(change: Change, answer: ev.TicketState, flight: Flight) -> None:
    visit = change.visit
    policy = change.ctx.policy
    change.set_visit(poll_failures=0, poll_interval=max(visit.poll_interval, answer.poll_interval_seconds))
    change.set(poll_at=change.after(poll_delay(change)))
    if answer.state == "activated":
        change.set(step=Step.ACTIVATED)
    elif answer.state in ("expired", "revoked"):
        if visit.renewals >= policy.activation_max_renewals:
            audit(change, "activation_abandoned", f"ecard={visit.ecard_id}")
            end_visit(change, "SESSION_TIMEOUT")
            return
        assert visit.ecard_id is not None
        change.set_visit(renewals=visit.renewals + 1)
        issue_ticket(change, visit.ecard_id)


def pending_listed(change: Change, answer: ev.PendingListed, flight: Flight) -> None:
    change.set_visit(pending=answer.pending)


def children_listed(change: Change, answer: ev.ChildrenListed, flight: Flight) -> None:
    change.set_visit(children=answer.children)


def card_presence(change: Change, answer: ev.CardPresence, flight: Flight) -> None:
    change.set(card_in=answer.present)
    if change.state.step is Step.TAKE_CARD and not answer.present:
        to_welcome(change, None)


def registry_changed(change: Change, answer: ev.RegistryChanged, flight: Flight) -> None:
    if change.visit.child is None:
        # A registration picked from the list no longer waits (cancelled, or the rules now say no): the list again.
        log.info("a resumed registration no longer fits: %s", answer.reason)
        change.set_visit(resumed=False, ecard_id=None, ticket_id=None, ticket=None, pending=())
        change.set(step=Step.CHILD_ID, poll_at=None)
        list_pending(change)
        return
    decide_again(change, answer.reason)


def work_failed(change: Change, answer: ev.WorkFailed, flight: Flight) -> None:
    code, detail = answer.code, answer.detail
    if flight.name == "pin_tries" and code not in ("CARD_REMOVED", "READER_LOST", "READER_UNAVAILABLE"):
        # Only advice: the PIN can still be tried, with the counter unknown.
        log.warning("PIN try counter unavailable: %s %s", code, detail)
    elif flight.name == "verify_pin" and code == "PIN_FORMAT":
        change.set(pin_error="PIN_FORMAT")
    elif flight.name == "verify_pin_pad" and code == "PIN_PAD_CANCELLED":
        # No try spent. The pad waits again once the guardian asks (OK on the kiosk): a pad nobody types on
        # stops asking, and the step's idle timeout ends the visit.
        change.set(pin_error="PIN_PAD_CANCELLED")
        change.set_visit(pin_pad="again")
    elif flight.name == "poll_ticket":
        poll_failed(change, code, detail)
    elif flight.name == "list_pending":
        log.warning("pending registrations unavailable: %s %s", code, detail)
    elif flight.name == "list_children":
        log.warning("the guardian's children unavailable, the ID number is typed: %s %s", code, detail)
        change.set_visit(children=())
    elif flight.name == "card_present":
        card_presence(change, ev.CardPresence(answer.stamp, False), flight)
    else:
        fail(change, code, detail)


ANSWERS: dict[type[ev.Answer], Callable[[Change, ev.Answer, Flight], None]] = {  # type: ignore[dict-item]
    ev.CardRead: card_read,
    ev.CardStatusKnown: card_status_known,
    ev.PinTriesKnown: pin_tries_known,
    ev.PinChecked: pin_checked,
    ev.ChildFound: child_found,
    ev.AlreadyActivated: already_activated,
    ev.PendingECard: pending_ecard,
    ev.TicketIssued: ticket_issued,
    ev.TicketState: ticket_state,
    ev.PendingListed: pending_listed,
    ev.ChildrenListed: children_listed,
    ev.CardPresence: card_presence,
    ev.RegistryChanged: registry_changed,
    ev.WorkFailed: work_failed,
}
"""The answer of each kind of work, and what it does to the state."""
