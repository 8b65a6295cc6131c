"""The transition alone, without a card, a registry or a runner: a state and an event in, the next state and the
effects to run out; timers are part of the state and go with it."""
from __future__ import annotations

from datetime import timedelta

from kiosk.session import SessionPolicy, Step
from kiosk.session import effects as fx
from kiosk.session import events as ev
from kiosk.session.state import Context, SessionState
from kiosk.session.transition import transition

from .conftest import NOW

POLICY = SessionPolicy("TEST-KIOSK", "zh", "https://ecard.example.gov.cn/activate", 300, 3, 90,
                       farewell_seconds=20, work_deadline_seconds=20)


def at(seconds: float = 0) -> Context:
    return Context(NOW + timedelta(seconds=seconds), POLICY)


def start() -> SessionState:
    return SessionState(step=Step.WELCOME, lang="zh", region=None, since=NOW, last_activity=NOW)


def test_a_card_going_in_starts_a_visit_and_asks_for_the_read() -> None:
    outcome = transition(start(), ev.CardInserted(), at())
    state = outcome.state
    assert state.step is Step.READING and state.card_in and state.visit is not None
    assert outcome.effects == (fx.ReadCard(ev.Stamp(state.visit_id, state.serial)),)
    assert state.waits_for(ev.Stamp(state.visit_id, state.serial))
    assert state.card_visit == state.visit_id


def test_an_answer_for_an_older_visit_is_not_one_the_state_waits_for() -> None:
    first = transition(start(), ev.CardInserted(), at()).state
    stamp = ev.Stamp(first.visit_id, first.serial)
    ended = transition(first, ev.CardRemoved(), at(1))
    assert ended.state.step is Step.WELCOME and ended.state.visit is None
    assert fx.ReleaseCard(first.visit_id) in ended.effects
    again = transition(ended.state, ev.CardInserted(), at(2)).state
    assert not again.waits_for(stamp)  # the first read's answer is dropped when it comes
    assert again.visit_id == first.visit_id + 1


def test_work_past_its_deadline_is_given_up_on_a_tick() -> None:
    reading = transition(start(), ev.CardInserted(), at()).state
    assert transition(reading, ev.Tick(), at(19)).state.step is Step.READING
    outcome = transition(reading, ev.Tick(), at(20))
    assert outcome.state.step is Step.ERROR and outcome.state.error == "CARD_TIMEOUT"
    assert outcome.state.flights == ()
    assert fx.ReleaseCard(reading.visit_id) in outcome.effects


def test_a_closing_screens_timer_is_armed_on_entering_it_and_gone_when_it_is_left() -> None:
    reading = transition(start(), ev.CardInserted(), at()).state
    failed = transition(reading, ev.WorkFailed(ev.Stamp(reading.visit_id, reading.serial), "CARD_MUTE"), at(5)).state
    assert failed.step is Step.ERROR and failed.farewell_at == NOW + timedelta(seconds=25)
    gone = transition(failed, ev.CardRemoved(), at(6)).state
    assert gone.step is Step.WELCOME and gone.farewell_at is None


def test_ending_a_visit_decides_from_the_readers_events_and_asks_for_no_card_call_but_the_release() -> None:
    reading = transition(start(), ev.CardInserted(), at()).state
    failed = transition(reading, ev.WorkFailed(ev.Stamp(reading.visit_id, reading.serial), "CARD_MUTE"), at(1)).state
    outcome = transition(failed, ev.Finish(), at(2))
    assert outcome.state.step is Step.TAKE_CARD  # the card is in, as the reader said
    card_work = [effect for effect in outcome.effects if effect.lane == "card"]
    assert card_work == [fx.ReleaseCard(reading.visit_id)]


def test_every_step_has_its_entry_in_the_steps_table_and_a_screen() -> None:
    # A new step is a Step, its entry in kiosk/session/steps.py and its screen (listed in screens/registry.py).
    from kiosk.session.steps import STEPS
    from screens.registry import SCREEN_FOR_STEP

    assert set(STEPS) == set(Step)
    assert all(step in SCREEN_FOR_STEP[step].steps for step in Step)


def test_the_steps_with_an_idle_time_setting_are_steps_where_the_idle_clock_runs() -> None:
    from kiosk.session.steps import STEPS
    from kiosk.settings import IDLE_STEPS

    assert {Step(name) for name in IDLE_STEPS} <= {step for step, spec in STEPS.items() if spec.idle}
