"""Provides the steps' table: for each step, the guardian's actions, its stage, its timers and the work it starts.

A new step is one entry here (and one screen): what the guardian may do there, whether the idle
timeout runs, whether it closes by itself, and what work entering it starts.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from kiosk.errors import CATALOGUE
from kiosk.session.state import Change, SessionPolicy, SessionState
from kiosk.session.view import Action, Step


@dataclass(frozen=True)
class StepSpec:
    """What a step is."""

    actions: tuple[Action, ...] = ()  # in the order the screen (and the automation's STATE) lists them
    stage: int | None = None  # which of the step indicator's STAGES; None outside a visit
    in_visit: bool = False  # a guardian's visit is under way: card removal and out of service end it
    idle: bool = False  # the guardian is expected to act: the idle timeout runs
    farewell: bool = False  # a closing screen: it finishes by itself after the policy's farewell_seconds
    enter: Callable[[Change], None] | None = None  # the work entering the step starts


def read_card(change: Change) -> None:
    """Read the card of this visit (and let the card service's connection belong to it)."""
    from kiosk.session.effects import ReadCard  # the step's work, with the first event (not with the table)

    change.set(card_visit=change.state.visit_id)
    change.start(ReadCard(change.stamp()))


def ask_pin_tries(change: Change) -> None:
    """Learn the PIN try counter before anything is typed: a warning before the last try, a blocked card told at once."""
    from kiosk.session.effects import AskPinTries

    if change.state.visit is not None and change.visit.pin_tries_left is None:
        change.start(AskPinTries(change.stamp()))


def look_for_activation_soon(change: Change) -> None:
    from kiosk.session.moves import poll_delay

    change.set(poll_at=change.after(poll_delay(change)))


F = Action.FINISH
STEPS: dict[Step, StepSpec] = {
    Step.WELCOME: StepSpec((Action.START,)),
    Step.INSERT_CARD: StepSpec((F,), stage=0, in_visit=True, idle=True),
    Step.READING: StepSpec((), stage=0, in_visit=True, enter=read_card),
    Step.HOLDER: StepSpec((Action.CONFIRM_HOLDER, F), stage=0, in_visit=True, idle=True),
    Step.PIN: StepSpec((Action.ENTER_PIN, F), stage=1, in_visit=True, idle=True, enter=ask_pin_tries),
    Step.CHILD_ID: StepSpec((Action.ENTER_CHILD, Action.RESUME_PENDING, Action.PICK_CHILD, Action.TYPE_CHILD, F), stage=2, in_visit=True, idle=True),
    Step.CHILD_CONFIRM: StepSpec((Action.CONFIRM_CHILD, Action.ANOTHER_CHILD, F), stage=2, in_visit=True, idle=True),
    Step.ELIGIBLE: StepSpec((Action.REGISTER, F), stage=3, in_visit=True, idle=True),
    Step.NOT_ELIGIBLE: StepSpec((Action.ANOTHER_CHILD, F), stage=3, in_visit=True, idle=True),
    Step.REGISTERING: StepSpec((), stage=4, in_visit=True),
    Step.ACTIVATION: StepSpec((F,), stage=4, in_visit=True, enter=look_for_activation_soon),
    Step.ACTIVATED: StepSpec((Action.ANOTHER_CHILD, F), stage=4, in_visit=True, idle=True, farewell=True),
    Step.TAKE_CARD: StepSpec((), farewell=True),
    Step.ERROR: StepSpec((F, Action.RETRY), in_visit=True, idle=True, farewell=True),
    Step.OUT_OF_SERVICE: StepSpec(()),
}

VISIT_STEPS = frozenset(step for step, spec in STEPS.items() if spec.in_visit)
"""Steps in which a guardian's visit is under way (idle timeout and card removal apply)."""


def _another_child_possible(state: SessionState) -> bool:
    # Only after the PIN: a refusal of the card itself leaves no child to change.
    return state.visit is not None and state.visit.pin_verified


def _retry_would_act(state: SessionState) -> bool:
    # Trying again reads the card again: only for an error that may go away, with the card still in.
    return state.error is not None and CATALOGUE[state.error].retriable and state.card_in


def _children_listed(state: SessionState) -> bool:
    return state.visit is not None and bool(state.visit.children)


CONDITIONS: dict[Action, Callable[[SessionState], bool]] = {
    Action.RESUME_PENDING: lambda state: state.visit is not None and bool(state.visit.pending),
    Action.PICK_CHILD: _children_listed,
    # The reader's own PIN pad takes the PIN: nothing typed on the kiosk goes to the card meanwhile.
    Action.ENTER_PIN: lambda state: state.visit is None or state.visit.pin_pad in (None, "again"),
    Action.TYPE_CHILD: lambda state: state.visit is not None and state.visit.children != (),
    Action.ANOTHER_CHILD: _another_child_possible,
    Action.RETRY: _retry_would_act,
}
"""Actions a step lists that are possible only sometimes."""


def idle_timeout(state: SessionState, policy: SessionPolicy) -> int | None:
    """Seconds of inactivity the state allows, or None when nothing waits for the guardian.

    At the welcome screen, a language or display chosen by someone who then walked away counts
    too: it goes back to the kiosk's defaults after the insert-card step's time.
    """
    if state.step is Step.WELCOME:
        chosen = state.lang != policy.language or state.large_text or state.high_contrast
        return policy.idle_timeout_for(Step.INSERT_CARD) if chosen else None
    return policy.idle_timeout_for(state.step) if STEPS[state.step].idle else None


def allowed_actions(state: SessionState, policy: SessionPolicy) -> tuple[Action, ...]:
    """What the guardian may do in `state`: the step's actions that are possible now, and more time while the idle clock runs."""
    actions = [action for action in STEPS[state.step].actions if CONDITIONS.get(action, lambda _s: True)(state)]
    if idle_timeout(state, policy) is not None:
        actions.append(Action.MORE_TIME)
    return tuple(actions)
