"""Provides `transition`: the one place that decides what happens next, from a state and an event to the next state
and the effects to run. Pure: no I/O, no clock, no lock (the time comes in the context)."""
from __future__ import annotations

import logging
from typing import Callable

from kiosk.domain import ECardState, is_pin_format
from kiosk.resident_id import ResidentId, ResidentIdError
from kiosk.session import events as ev
from kiosk.session.answers import ANSWERS, wait_for_pin_pad, check_card_present, list_children, list_pending, look_for_activation, poll_failed
from kiosk.session.effects import RegisterECard, VerifyPin
from kiosk.session.moves import (
    audit,
    issue_ticket,
    end_visit,
    give_up,
    look_up_child,
    new_visit,
    settle_child,
    to_welcome,
)
from kiosk.session.state import Change, Context, Outcome, SessionState
from kiosk.session.steps import STEPS, VISIT_STEPS, idle_timeout
from kiosk.session.view import Step

log = logging.getLogger("kiosk.session")


def transition(state: SessionState, event: ev.Event, ctx: Context) -> Outcome:
    """The next state after `event`, and the effects to run for it.

    The caller has checked that a guardian's event is allowed now and that an answer is one
    the state waits for.
    """
    change = Change(state, ctx)
    if isinstance(event, ev.Answer):
        flight = next(f for f in state.flights if f.serial == event.stamp.serial)
        change.landed(event.stamp)
        ANSWERS[type(event)](change, event, flight)
    else:
        HANDLERS[type(event)](change, event)
    if change.declined:
        return Outcome(state, taken=False)
    if change.state.step is not state.step:
        _enter(change)
    return change.outcome()


def _enter(change: Change) -> None:
    """A step was entered: a full idle period, the step's own timers, the work the step starts."""
    now, spec = change.ctx.now, STEPS[change.state.step]
    farewell = change.after(change.ctx.policy.farewell_seconds) if spec.farewell else None
    change.set(since=now, last_activity=now, farewell_at=farewell, poll_at=None)
    if spec.enter is not None:
        spec.enter(change)


def _touch(change: Change) -> None:
    change.set(last_activity=change.ctx.now)


# ----------------------------------------------------------------------------- the guardian
def begin(change: Change, event: ev.Begin) -> None:
    new_visit(change)
    change.set(step=Step.READING if change.state.card_in else Step.INSERT_CARD)


def confirm_holder(change: Change, event: ev.ConfirmHolder) -> None:
    _touch(change)
    change.set(step=Step.PIN)


def pin_typed(change: Change, event: ev.PinTyped) -> None:
    _touch(change)
    if change.visit.pin_pad == "again":  # OK on the kiosk: the reader's pad takes the PIN again (nothing typed counts)
        change.set(pin_error=None)
        wait_for_pin_pad(change)
        return
    if not is_pin_format(event.pin):
        change.set(pin_error="PIN_FORMAT")  # nothing reaches the card
        return
    change.start(VerifyPin(change.stamp(), event.pin))


def child_id_typed(change: Change, event: ev.ChildIdTyped) -> None:
    _touch(change)
    try:
        child = ResidentId.parse(event.text, today=change.ctx.today)
    except ResidentIdError as exc:
        change.set(child_error=("CHILD_ID_FORMAT", exc.position, exc.reason.value))
        return
    look_up_child(change, child, "typed")


def resume_pending(change: Change, event: ev.ResumePending) -> None:
    """Continue a registration waiting for activation: the child looked up and decided again, then a fresh ticket.

    The pending list names the child masked only; the child's ID number comes from the guardian's children on
    record (the same e-card). Without it, the e-card's fresh ticket is asked for straight away (the registry
    checks the rules there).
    """
    _touch(change)
    pending = change.visit.pending
    if not 0 <= event.index < len(pending):
        return
    ecard_id = pending[event.index][0]
    on_record = [c for c in change.visit.children or () if c.ecard_id == ecard_id]
    if len(on_record) == 1:
        try:
            child = ResidentId.parse(on_record[0].resident_id, today=change.ctx.today)
        except ResidentIdError:
            log.warning("a pending registration's child ID number does not parse")
        else:
            look_up_child(change, child, "pending")
            return
    change.set_visit(resumed=True)
    change.set(step=Step.REGISTERING)
    audit(change, "ecard_resumed", f"ecard={ecard_id}")
    issue_ticket(change, ecard_id)


def pick_child(change: Change, event: ev.PickChild) -> None:
    """A child picked from the list: looked up as if typed; one whose e-card is pending resumes it (as RESUME_PENDING)."""
    _touch(change)
    children = change.visit.children or ()
    if not 0 <= event.index < len(children):
        return
    picked = children[event.index]
    try:
        child = ResidentId.parse(picked.resident_id, today=change.ctx.today)
    except ResidentIdError:
        log.warning("a listed child's ID number does not parse")
        return
    change.set(child_error=None)
    look_up_child(change, child, "pending" if picked.ecard_state is ECardState.PENDING else "typed")


def type_child(change: Change, event: ev.TypeChild) -> None:
    _touch(change)
    change.set(child_error=None)
    change.set_visit(child_typing=event.open)


def confirm_child(change: Change, event: ev.ConfirmChild) -> None:
    _touch(change)
    settle_child(change)


def another_child(change: Change, event: ev.AnotherChild) -> None:
    _touch(change)
    change.set(visit=change.visit.without_child(), child_error=None, step=Step.CHILD_ID)
    change.set_visit(children=None)  # listed again: the e-card just registered (or refused) changed a state
    list_children(change)
    list_pending(change)


def consent(change: Change, event: ev.Consent) -> None:
    visit = change.visit
    assert visit.guardian is not None and visit.child is not None
    key = visit.registration_key(event.idempotency_key)
    change.set_visit(registration=(visit.guardian, visit.child.text, key))
    change.set(step=Step.REGISTERING)
    change.start(RegisterECard(change.stamp(), visit.presented_card(), visit.child.text, key))


def retry(change: Change, event: ev.Retry) -> None:
    audit(change, "retry", "read the card again after an error")
    # A registration that failed on the way keeps its idempotency key: registering the same child again for the
    # same guardian gets the e-card the registry may have written, never a second one.
    registration = change.state.visit.registration if change.state.visit is not None else None
    new_visit(change)
    change.set_visit(registration=registration)
    change.set(step=Step.READING)


def finish(change: Change, event: ev.Event | None = None) -> None:
    """The guardian is done (or a closing screen's time ran out): ask for the card back and forget the visit."""
    step = change.state.step
    if step is Step.TAKE_CARD:
        if change.state.card_in:
            check_card_present(change)  # gone without the reader saying so? then welcome
        else:
            to_welcome(change, None)
        return
    if step in (Step.WELCOME, Step.OUT_OF_SERVICE):
        return
    end_visit(change, None)
    audit(change, "session_finished", f"step={step.value}")


def end_any_visit(change: Change, event: ev.EndVisit) -> None:
    if change.state.visit is not None and change.state.step is not Step.OUT_OF_SERVICE:
        finish(change)


def more_time(change: Change, event: ev.MoreTime) -> None:
    if change.state.visit is not None:
        change.set_visit(more_time=change.visit.more_time + 1)
    log.info("more time asked at step %s", change.state.step.value)
    _touch(change)


def touch(change: Change, event: ev.Touch) -> None:
    _touch(change)


def set_language(change: Change, event: ev.SetLanguage) -> None:
    change.set(lang="en" if event.lang == "en" else "zh")
    _touch(change)


def set_display(change: Change, event: ev.SetDisplay) -> None:
    if event.large_text is not None:
        change.set(large_text=event.large_text)
    if event.high_contrast is not None:
        change.set(high_contrast=event.high_contrast)
    _touch(change)


# ----------------------------------------------------------------------------- the reader and the kiosk
def card_inserted(change: Change, event: ev.CardInserted) -> None:
    change.set(card_in=True)
    if change.state.step not in (Step.WELCOME, Step.INSERT_CARD):
        return
    if change.state.visit is None:
        new_visit(change)
    change.set(notice=None, error=None, step=Step.READING)


def card_removed(change: Change, event: ev.CardRemoved) -> None:
    """The card left the reader: the visit ends at once, whatever step it was in."""
    change.set(card_in=False)
    step = change.state.step
    if step is Step.TAKE_CARD:
        to_welcome(change, None)
        return
    if step not in VISIT_STEPS:
        return
    audit(change, "card_removed", f"step={step.value}")
    # A visit under way was interrupted; before it started, after it was done and after an error, just welcome.
    quiet = step in (Step.ACTIVATED, Step.INSERT_CARD, Step.ERROR)
    end_visit(change, None if quiet else "CARD_REMOVED", card_gone=True)


def out_of_service(change: Change, event: ev.OutOfService) -> None:
    if event.between_visits and change.state.visit is not None:
        change.decline()  # never in the middle of a visit: the caller tries again when it has ended
        return
    if event.reason == "READER_UNAVAILABLE":
        change.set(card_in=False)  # no reader, no card in it (the reader's return says whether one is)
    if change.state.visit is not None:
        end_visit(change, None)
    reasons = change.state.out_of_service
    messages = dict(change.state.service_messages)
    english = dict(change.state.service_messages_en)
    if event.message is not None:  # a new message replaces the last; an empty one withdraws it
        english.pop(event.reason, None)
        if event.message.strip():
            messages[event.reason] = event.message.strip()
            if event.message_en is not None and event.message_en.strip():
                english[event.reason] = event.message_en.strip()
        else:
            messages.pop(event.reason, None)
    change.set(out_of_service=reasons if event.reason in reasons else (*reasons, event.reason),
               service_messages=tuple(messages.items()), service_messages_en=tuple(english.items()),
               step=Step.OUT_OF_SERVICE)


def back_in_service(change: Change, event: ev.BackInService) -> None:
    state = change.state
    if event.reason is None:
        reasons: tuple[str, ...] = ()
    elif event.reason in state.out_of_service:
        reasons = tuple(r for r in state.out_of_service if r != event.reason)
    else:
        return
    change.set(out_of_service=reasons,
               service_messages=tuple((r, m) for r, m in state.service_messages if r in reasons),
               service_messages_en=tuple((r, m) for r, m in state.service_messages_en if r in reasons))
    if not reasons and state.step is Step.OUT_OF_SERVICE:
        change.set(step=Step.WELCOME)


def rules_changed(change: Change, event: ev.RulesChanged) -> None:
    change.set(region=event.region)


def check_activation(change: Change, event: ev.CheckActivation) -> None:
    look_for_activation(change)


def pin_pad_entered(change: Change, event: ev.PinPadEntered) -> None:
    state = change.state
    if state.step is Step.PIN and state.waits_for(event.stamp) and state.visit is not None:
        change.set_visit(pin_pad="checking")


def tick(change: Change, event: ev.Tick) -> None:
    """Time passed: work past its deadline, the idle timeout, a closing screen's time, the next look for the activation."""
    state, now, policy = change.state, change.ctx.now, change.ctx.policy
    for flight in state.flights:
        if not flight.deadline or (now - flight.started).total_seconds() < policy.work_deadline_seconds:
            continue
        if flight.name == "poll_ticket":  # one look that never came back: a failed one
            change.landed(ev.Stamp(state.visit_id, flight.serial))
            poll_failed(change, "REGISTRY_TIMEOUT", "the look for the activation did not answer")
            if change.state.step is not Step.ACTIVATION:
                return
            continue
        give_up(change, flight.lane, flight.name)
        return
    state = change.state
    if state.step is Step.WELCOME and state.notice and (now - state.since).total_seconds() >= policy.notice_seconds:
        change.set(notice=None)  # the last visit's ending was for the guardian who left, not for the next one
        state = change.state
    timeout = idle_timeout(state, policy)
    if timeout is not None and (now - state.last_activity).total_seconds() >= timeout:
        if state.step is Step.WELCOME:
            log.info("welcome screen back to the kiosk's language and display after a while without activity")
            to_welcome(change, state.notice)
        else:
            log.info("session ended: idle timeout at step %s", state.step.value)
            audit(change, "session_timeout", f"step={state.step.value}")
            end_visit(change, "SESSION_TIMEOUT")
        return
    if state.farewell_at is not None and now >= state.farewell_at:
        change.set(farewell_at=None)  # once per closing screen
        finish(change)
        return
    if state.poll_at is not None and now >= state.poll_at:
        look_for_activation(change)


HANDLERS: dict[type[ev.Event], Callable[[Change, ev.Event], None]] = {  # type: ignore[dict-item]
    ev.Begin: begin,
    ev.ConfirmHolder: confirm_holder,
    ev.PinTyped: pin_typed,
    ev.ChildIdTyped: child_id_typed,
    ev.ResumePending: resume_pending,
    ev.PickChild: pick_child,
    ev.TypeChild: type_child,
    ev.ConfirmChild: confirm_child,
    ev.AnotherChild: another_child,
    ev.Consent: consent,
    ev.Retry: retry,
    ev.Finish: finish,
    ev.EndVisit: end_any_visit,
    ev.MoreTime: more_time,
    ev.Touch: touch,
    ev.SetLanguage: set_language,
    ev.SetDisplay: set_display,
    ev.CardInserted: card_inserted,
    ev.CardRemoved: card_removed,
    ev.OutOfService: out_of_service,
    ev.BackInService: back_in_service,
    ev.RulesChanged: rules_changed,
    ev.CheckActivation: check_activation,
    ev.Tick: tick,
    ev.PinPadEntered: pin_pad_entered,
}
"""What each event that is not an answer does."""
