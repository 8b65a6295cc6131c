"""Provides the session's state (one immutable value), its policy, and `Change`: how a transition builds the next state."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Mapping

from kiosk.eligibility import Region
from kiosk.session.view import Step
from kiosk.session.visit import Visit

if TYPE_CHECKING:
    # The events and effects load with the first event (kiosk.session.machine): a session at its welcome needs neither.
    from kiosk.session.effects import Effect, Work
    from kiosk.session.events import Stamp


@dataclass(frozen=True)
class SessionPolicy:
    """The session's knobs, from the settings."""

    kiosk_id: str
    language: str
    activation_url_base: str
    activation_ttl_seconds: int
    activation_max_renewals: int
    idle_timeout_seconds: int
    poll_failures_tolerated: int = 5
    step_idle_seconds: Mapping[str, int] = field(default_factory=dict)  # per step (Step.value), else idle_timeout_seconds
    idle_warning_seconds: int = 30
    farewell_seconds: float = 20.0
    """How long the closing screens (activated, take your card, error) stay before the visit finishes by itself."""
    notice_seconds: float = 15.0
    """How long the welcome screen says why the last visit ended ("卡已取出……"): long enough for the guardian
    who is leaving to read it, gone before the next guardian steps up (it is about somebody else's visit)."""
    poll_seconds: float = 1.0
    """How often the activation is looked for while the QR code is shown."""
    work_deadline_seconds: float = 20.0
    """How long the guardian waits for the card or the registry before the step gives up with an error."""

    def idle_timeout_for(self, step: Step) -> int:
        """Seconds of inactivity `step` allows."""
        return self.step_idle_seconds.get(step.value, self.idle_timeout_seconds)


@dataclass(frozen=True)
class Flight:
    """Work the session waits for: started at `started`; `deadline` work keeps the guardian waiting."""

    serial: int
    name: str
    lane: str  # "card" or "registry"
    started: datetime
    deadline: bool = True


@dataclass(frozen=True)
class SessionState:
    """Where the session stands. Personal data lives only in `visit` (and in work in flight), dropped at its end."""

    step: Step
    lang: str
    region: Region | None
    since: datetime  # when the step was entered
    last_activity: datetime
    large_text: bool = False
    high_contrast: bool = False
    visit: Visit | None = None
    visit_id: int = 0  # the latest visit's number; answers carry it
    card_visit: int | None = None  # the visit whose card the card service reads (what a release lets go of)
    card_in: bool = False  # as the reader's events say
    error: str | None = None
    notice: str | None = None
    pin_error: str | None = None
    child_error: tuple[str, int | None, str | None] | None = None  # code, position, reason
    out_of_service: tuple[str, ...] = ()  # first reason first
    service_messages: tuple[tuple[str, str], ...] = ()  # a technician's words for the guardians, by reason
    service_messages_en: tuple[tuple[str, str], ...] = ()  # the same in English where given (an operator's order)
    flights: tuple[Flight, ...] = ()
    serial: int = 0  # the last work's number
    farewell_at: datetime | None = None  # a closing screen finishes by itself then
    poll_at: datetime | None = None  # the next look for the activation

    def flight(self, name: str) -> Flight | None:
        """The work called `name` in flight, if any."""
        return next((f for f in self.flights if f.name == name), None)

    def waits_for(self, stamp: Stamp) -> bool:
        """True when `stamp` is work of this visit the session still waits for."""
        return stamp.visit == self.visit_id and any(f.serial == stamp.serial for f in self.flights)


@dataclass(frozen=True)
class Context:
    """What a transition may know besides the state: the time and the policy."""

    now: datetime
    policy: SessionPolicy

    @property
    def today(self) -> date:
        return self.now.astimezone().date()


@dataclass(frozen=True)
class Outcome:
    """A transition's result: the new state and the effects to run."""

    state: SessionState
    effects: tuple[Effect, ...] = ()
    taken: bool = True  # False: the event was declined as it stands (the state is the one before)


class Change:
    """The next state as a transition builds it, and the effects it asks for (a scratch pad; the states stay immutable)."""

    def __init__(self, state: SessionState, ctx: Context) -> None:
        self.state = state
        self.ctx = ctx
        self.effects: list[Effect] = []
        self.declined = False

    @property
    def visit(self) -> Visit:
        """The visit under way (the caller knows there is one)."""
        assert self.state.visit is not None
        return self.state.visit

    def set(self, **fields: object) -> None:
        self.state = replace(self.state, **fields)

    def set_visit(self, **fields: object) -> None:
        self.state = replace(self.state, visit=replace(self.visit, **fields))

    def do(self, effect: Effect) -> None:
        self.effects.append(effect)

    def stamp(self) -> Stamp:
        """A stamp for the next piece of work of this visit."""
        from kiosk.session.events import Stamp

        return Stamp(self.state.visit_id, self.state.serial + 1)

    def start(self, work: Work, *, deadline: bool = True) -> None:
        """Ask for `work` (stamped by `stamp()`) and wait for its answer."""
        flight = Flight(work.stamp.serial, work.name, work.lane, self.ctx.now, deadline)
        self.set(serial=work.stamp.serial, flights=(*self.state.flights, flight))
        self.do(work)

    def landed(self, stamp: Stamp) -> None:
        """The answer for `stamp` came: no longer waited for."""
        self.set(flights=tuple(f for f in self.state.flights if f.serial != stamp.serial))

    def decline(self) -> None:
        """The event does not apply now: nothing changes."""
        self.declined = True

    def outcome(self) -> Outcome:
        return Outcome(self.state, tuple(self.effects), taken=not self.declined)

    def after(self, seconds: float) -> datetime:
        return self.ctx.now + timedelta(seconds=seconds)
