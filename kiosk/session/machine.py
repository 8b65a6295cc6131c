"""Provides KioskSession: one kiosk's session, a state machine with effects that the UI, automation and tests drive.

Every event (a guardian's action, the reader's news, the clock's tick, the answer of some work)
goes through `kiosk.session.transition`, which returns the next state and the effects to run.
The session holds its lock only while it swaps the state: the effects run afterwards, through
the effect runner (thread workers in the app, at once in automation and tests), and their answers
come back as events stamped with their visit and work, so an answer nobody waits for any more is
dropped here, in one place.
"""
from __future__ import annotations

import logging
import threading
from collections import deque
from typing import TYPE_CHECKING, Callable

from kiosk.first_use import ModuleOnFirstUse
from kiosk.session.present import present
from kiosk.session.state import Context, SessionPolicy, SessionState
from kiosk.session.steps import allowed_actions, idle_timeout
from kiosk.session.view import Action, SessionView, Step

if TYPE_CHECKING:
    from kiosk.eligibility import Region
    from kiosk.ports import CardService, Clock, EffectRunner
    from kiosk.registry.port import RegistryPort
    from kiosk.session import card_work, registry_work
    from kiosk.session import effects as fx
    from kiosk.session import events as ev
    from kiosk.session import transition as tr
    from kiosk.session.effects import Effect
else:
    # The events, the transitions and the work load with the first event, not with the session: a session made
    # for the kiosk's first screen (the welcome) needs none of them yet. `load_event_code` loads them early.
    ev = ModuleOnFirstUse("kiosk.session.events")
    fx = ModuleOnFirstUse("kiosk.session.effects")
    tr = ModuleOnFirstUse("kiosk.session.transition")
    card_work = ModuleOnFirstUse("kiosk.session.card_work")
    registry_work = ModuleOnFirstUse("kiosk.session.registry_work")

log = logging.getLogger(__name__)

SessionListener = Callable[[SessionView], None]


def load_event_code() -> None:
    """Import what the session's first event needs (the events, the transitions, the work), if it is not loaded yet.

    The kiosk calls it on a thread of its own once its first screen is up, so that the guardian's first key or
    card is not the one that waits for it.
    """
    for module in (ev, fx, tr, card_work, registry_work):
        if isinstance(module, ModuleOnFirstUse):
            module.module  # noqa: B018 - reading it imports it


class KioskSession:
    """One kiosk's session state machine.

    The methods are events: each returns at once (no card or registry I/O on the caller's
    thread, and none while the lock is held); the work they start runs on the effect runner
    given to `use_runner`, and waits until there is one. A guardian's action the view does not
    allow (`SessionView.actions`) is refused: the method returns False.
    Listeners get a new `SessionView` after every change the screens can see, in order.
    """

    def __init__(
        self,
        card: CardService,
        registry: RegistryPort,
        region: Region | None,
        clock: Clock,
        policy: SessionPolicy,
        runner: EffectRunner | None = None,
        *,
        out_of_service: tuple[str, ...] = (),
    ) -> None:
        # `out_of_service`: the reasons (catalogued codes) a new session starts out of service for, as if
        # out_of_service() had been called with each (a kiosk whose registry service is still to be found), without
        # loading the event code for its first screen.
        self._card = card
        self._registry = registry
        self._clock = clock
        self._policy = policy
        self._lock = threading.Lock()
        self._listeners: list[SessionListener] = []
        now = clock.now()
        self._state = SessionState(step=Step.OUT_OF_SERVICE if out_of_service else Step.WELCOME,
                                   lang=policy.language, region=region, since=now, last_activity=now,
                                   out_of_service=tuple(dict.fromkeys(out_of_service)))
        self._published = self._view_locked()
        self._outbox: deque[SessionView] = deque()
        self._delivering = False
        self._runner = runner
        self._backlog: list[Effect] = []  # effects asked for before there was a runner

    # ----------------------------------------------------------------- observing
    def subscribe(self, listener: SessionListener) -> None:
        """Call `listener` with the new view after every change (on whichever thread delivers it; keep it quick)."""
        self._listeners.append(listener)

    @property
    def step(self) -> Step:
        return self._state.step

    @property
    def view(self) -> SessionView:
        """The current picture of the session."""
        with self._lock:
            return self._view_locked()

    @property
    def region(self) -> Region | None:
        return self._state.region

    @property
    def clock(self) -> Clock:
        return self._clock

    @property
    def policy(self) -> SessionPolicy:
        return self._policy

    @property
    def visit_under_way(self) -> bool:
        """True while a guardian's visit holds data (False once it ended and was wiped)."""
        return self._state.visit is not None

    @property
    def out_of_service_reasons(self) -> tuple[str, ...]:
        """Why the kiosk is out of service now (empty: it is in service)."""
        return self._state.out_of_service

    def idle_seconds_left(self) -> float | None:
        """Seconds before the idle timeout ends the visit; None when nothing waits for the guardian."""
        with self._lock:
            state = self._state
        timeout = idle_timeout(state, self._policy)
        if timeout is None:
            return None
        return max(0.0, timeout - (self._clock.now() - state.last_activity).total_seconds())

    def allows(self, action: Action) -> bool:
        """True when the guardian may `action` now."""
        with self._lock:
            return action in allowed_actions(self._state, self._policy)

    # ----------------------------------------------------------------- the runner
    def use_runner(self, runner: EffectRunner) -> None:
        """Run the session's work on `runner` from now on; work asked for before is handed to it now."""
        with self._lock:
            self._runner = runner
            backlog, self._backlog = self._backlog, []
        self._dispatch(backlog)

    # ----------------------------------------------------------------- the guardian
    def begin(self) -> bool:
        """The guardian asked to start at the welcome screen (a card already in is read at once)."""
        return self.handle(ev.Begin())

    def confirm_holder(self) -> bool:
        """The guardian confirmed the card shown is theirs."""
        return self.handle(ev.ConfirmHolder())

    def submit_pin(self, pin: str) -> bool:
        """The PIN typed: checked by the card unless it is not PIN_LENGTH digits. A pulled card costs no try."""
        try:
            return self.handle(ev.PinTyped(pin))
        finally:
            del pin

    def submit_child_id(self, text: str) -> bool:
        """The child's ID number typed: checked, then the child looked up."""
        return self.handle(ev.ChildIdTyped(text))

    def resume_pending(self, index: int) -> bool:
        """Continue a registration of this guardian that is still waiting for activation (`SessionView.pending`)."""
        return self.handle(ev.ResumePending(index))

    def pick_child(self, index: int) -> bool:
        """One of the guardian's children listed (`SessionView.children`) picked: looked up, a pending e-card resumed."""
        return self.handle(ev.PickChild(index))

    def type_child(self, open: bool = True) -> bool:
        """Open the typed entry of a child's ID number (a child not listed), or close it back to the list."""
        return self.handle(ev.TypeChild(open))

    def confirm_child(self) -> bool:
        """The guardian confirmed the child shown; the decision follows (or the pending registration resumes)."""
        return self.handle(ev.ConfirmChild())

    def another_child(self) -> bool:
        """Back to the child's ID number (after a decision, a registration, or to correct it)."""
        return self.handle(ev.AnotherChild())

    def consent(self) -> bool:
        """The guardian agreed: register the e-card and its first ticket (one call) and show its activation code."""
        return self.handle(ev.Consent())

    def retry(self) -> bool:
        """Try again after an error that may go away, with the card still in: the card is read again (a new visit)."""
        return self.handle(ev.Retry())

    def finish(self) -> bool:
        """The guardian is done (or cancelled): ask for the card back and forget the visit."""
        return self.handle(ev.Finish())

    def more_time(self) -> bool:
        """The guardian asked for more time at the idle warning: the step's full time again (as often as asked)."""
        return self.handle(ev.MoreTime())

    def touch(self) -> None:
        """The guardian did something: restart the idle clock."""
        self.handle(ev.Touch())

    def set_language(self, lang: str) -> None:
        """Switch the language; the step and what was entered stay."""
        self.handle(ev.SetLanguage(lang))

    def set_display(self, *, large_text: bool | None = None, high_contrast: bool | None = None) -> None:
        """Switch large text or high contrast (None leaves it); like the language, they last until the visit ends."""
        self.handle(ev.SetDisplay(large_text, high_contrast))

    # ----------------------------------------------------------------- the reader, the kiosk, the clock
    def card_inserted(self) -> None:
        """A card arrived in the guardian's reader."""
        self.handle(ev.CardInserted())

    def card_removed(self) -> None:
        """The card left the reader: the visit ends at once, whatever step it was in."""
        self.handle(ev.CardRemoved())

    def end_visit(self) -> None:
        """End any visit as the guardian's finish would, at any step (a technician comes in, the kiosk stops)."""
        self.handle(ev.EndVisit())

    def out_of_service(self, reason: str | None, message: str | None = None, *, between_visits: bool = False,
                       message_en: str | None = None) -> bool:
        """Take the kiosk out of service for `reason` (a catalogued code), or with None back into it whatever the reasons.

        Reasons add up (the reader and the database may both be gone); the kiosk is back in
        service when the last one is cleared (`back_in_service`). `message` is a technician's
        own words for the guardians (shown as typed, in one language), kept until the reason is cleared
        (None keeps the one given before); `message_en`, given with it, is shown instead while the kiosk speaks
        English (an operator's order comes in both). With `between_visits`, a visit under way is never cut
        short: nothing happens and False comes back (decided with the state, so no visit can start
        in between); try again when it has ended.
        """
        if reason is None:
            return self.handle(ev.BackInService(None))
        return self.handle(ev.OutOfService(reason, message, between_visits, message_en))

    def back_in_service(self, reason: str | None) -> None:
        """`reason` is over (None: every reason is); with none left the kiosk greets the next guardian."""
        self.handle(ev.BackInService(reason))

    def set_region(self, region: Region) -> None:
        """Use new regional rules from the next decision on (a corrected or updated rule file)."""
        self.handle(ev.RulesChanged(region))

    def tick(self) -> None:
        """Time passed (the app calls it every second or faster; automation before each command; tests after moving
        the clock): work past its deadline, the idle timeout, closing screens, the look for the activation."""
        self.handle(ev.Tick())

    def check_activation(self) -> None:
        """Look at once whether the e-card on screen was activated (the guardian's phone just scanned)."""
        self.handle(ev.CheckActivation())

    # ----------------------------------------------------------------- the one way in
    def handle(self, event: ev.Event) -> bool:
        """Take `event`: the next state, its view to the listeners, its effects to the runner.

        Returns False for an event refused (a guardian's action not allowed now) or dropped (an
        answer nobody waits for any more: its visit ended, or its step gave up on it).
        """
        context = Context(self._clock.now(), self._policy)
        with self._lock:
            state = self._state
            if isinstance(event, ev.Answer) and not state.waits_for(event.stamp):
                late = self._late_answer_locked(event)
            elif isinstance(event, ev.GuardianEvent) and event.action not in allowed_actions(state, self._policy):
                log.info("%s refused at step %s", event.action.value, state.step.value)
                return False
            else:
                late = None
                outcome = tr.transition(state, event, context)
                if not outcome.taken:
                    return False
                self._state = outcome.state
                view = self._view_locked(context)
                if view != self._published:
                    self._published = view
                    self._outbox.append(view)
        if late is not None:
            self._dispatch(late)
            return False
        self._deliver()
        self._dispatch(outcome.effects)
        return True

    def _late_answer_locked(self, answer: ev.Answer) -> list[Effect]:
        """An answer nobody waits for: dropped. A card read that came too late still holds the card: let it go."""
        log.info("dropped a late answer: %s of visit %d", type(answer).__name__, answer.stamp.visit)
        if isinstance(answer, (ev.CardRead, ev.CardStatusKnown)):
            return [fx.ReleaseCard(answer.stamp.visit)]
        return []

    # ----------------------------------------------------------------- views out, work out
    def _view_locked(self, context: Context | None = None) -> SessionView:
        now = context.now if context is not None else self._clock.now()
        return present(self._state, self._policy, now.astimezone().date())

    def _deliver(self) -> None:
        """Hand the views made to the listeners, in order; one thread at a time delivers, the others return at once."""
        with self._lock:
            if self._delivering:
                return
            self._delivering = True
        try:
            while True:
                with self._lock:
                    if not self._outbox:
                        self._delivering = False
                        return
                    view = self._outbox.popleft()
                for listener in list(self._listeners):
                    try:
                        listener(view)
                    except Exception:  # a broken listener must not break the session
                        log.exception("session listener failed")
        except BaseException:
            with self._lock:
                self._delivering = False
            raise

    def _dispatch(self, effects: list[Effect] | tuple[Effect, ...]) -> None:
        for effect in effects:
            with self._lock:
                runner = self._runner
                if runner is None:
                    self._backlog.append(effect)
                    continue
            runner.run(lambda effect=effect: self._work(effect), effect.name)

    def _work(self, effect: Effect) -> None:
        """Carry out one effect (on the runner's thread) and hand its answer back as an event."""
        if not self._wanted(effect):
            log.debug("work no longer wanted: %s", effect.name)
            return
        try:
            if effect.lane == "card":
                answer = card_work.perform(effect, self._card, self.handle)
            else:
                answer = registry_work.perform(effect, self._registry)
        except Exception:  # noqa: BLE001 - a bug in some work must not leave the guardian waiting
            log.exception("session work %s failed", effect.name)
            answer = ev.WorkFailed(effect.stamp, "INTERNAL", "unexpected error") if isinstance(effect, fx.Work) else None
        if answer is not None:
            self.handle(answer)

    def _wanted(self, effect: Effect) -> bool:
        """Whether work is still worth doing when its turn comes: the session still waits for it (or it outlives the
        visit), and a release never lets go of a card a newer visit has read since."""
        with self._lock:
            state = self._state
            if isinstance(effect, fx.ReleaseCard):
                return state.card_visit == effect.visit
            if isinstance(effect, fx.SURVIVES_THE_VISIT):
                return True
            assert isinstance(effect, fx.Work)
            return state.waits_for(effect.stamp)

