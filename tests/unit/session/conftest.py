"""Provides the session tests' fixtures: a headless kiosk on a manual clock, a guardian driving it, a memory scan.

Everything runs in the test thread: the session's card and registry work runs at once on an
inline effect runner (`runner.hold()` keeps it waiting, to look at the moment a slow card would
show), reader events (insert, remove, a card pulled mid-APDU) reach the session synchronously
through the composition root's wiring, and time passes only when the test moves the clock and
says so (`session.tick()`).
"""
from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
import sqlalchemy as sa
from sqlalchemy.pool import NullPool
from sqlalchemy import func
from sqlmodel import Session, select

from kiosk.ports import ManualClock
from tests.memory_scan import session_memory, strings_in  # noqa: F401 (the session tests import both from here)
from kiosk.registry import Registry
from kiosk.registry.models import ECard, Person
from kiosk.session import InlineRunner, SessionView, Step
from tests.conftest import kiosk_root
from tests.unit.session.doubles import OwnSession, Stuck, ThreadRunner, Waiter  # noqa: F401 (the tests import them here)

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
IDLE_TIMEOUT = 90
FAREWELL = 300  # longer than the idle timeout here, so that each is seen alone (test_farewell.py has its own)
POLL = 1.0
DEADLINE = 20
TICKET_TTL = 300
MAX_RENEWALS = 3
PIN = "123456"
WRONG_PIN = "654321"

# config/cards/zhang-wei-3.00.toml and config/demo/registry.toml
ZHANG_WEI_CARD = "zhang-wei-3.00"
ZHANG_WEI = "430102198803150016"
ZHANG_WEI_CARD_NUMBER = "L43000001"
ZHANG_XIAOYU = "430102201906010029"  # eligible
ZHOU_ZIHAO = "430102201704040019"  # nobody's child at this kiosk: NOT_GUARDIAN
LI_NA_CARD = "li-na-2.00"
LI_JIAYI = "430102201611300088"  # a pending e-card 李娜 registered: resume
CHEN_JING_CARD = "chen-jing-blocked"

# What must not survive a visit of 张伟 for 张小雨, in clear or as shown on screen.
PERSONAL = [
    "张伟", "张小雨", ZHANG_WEI, ZHANG_XIAOYU, ZHANG_WEI_CARD_NUMBER,
    "张*", "张*雨", "4301**********0016", "4301**********0029", "L4*****01", PIN,
]


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


@pytest.fixture
def kiosk(settings_for, with_demo_registry, clock: ManualClock, runner: InlineRunner,
          tmp_path: Path) -> Iterator[object]:
    """A whole kiosk (session, simulated reader with the PSAM, SQLite registry with demo data), no UI."""
    settings = settings_for(
        idle_timeout_seconds=IDLE_TIMEOUT,
        step_idle_seconds={},  # one limit for every step here; test_more_time.py has steps of their own
        activation_ttl_seconds=TICKET_TTL,
        activation_max_renewals=MAX_RENEWALS,
        activation_poll_seconds=POLL,
        farewell_seconds=FAREWELL,
        work_deadline_seconds=DEADLINE,
        language="zh",
    )
    built = kiosk_root.build_kiosk(with_demo_registry(settings), clock=clock)
    built.session.use_runner(runner)
    yield built
    built.registry.close()


@pytest.fixture
def runner() -> InlineRunner:
    """Where the session's work runs: at once, in the test's thread."""
    return InlineRunner()


@pytest.fixture
def session(kiosk):
    return kiosk.session


@pytest.fixture
def own_session(settings_for, with_demo_registry, clock: ManualClock):
    """`own_session(card=None, registry=None, runner=None)`: a session of our own over a kiosk's reader and registry.

    `card` and `registry` wrap the real ones (a card service or registry that hangs); `runner` runs the
    work (at once by default). The kiosk's own session stays idle: it has no runner.
    """
    from devices.service import ReaderCardService
    from kiosk.session import KioskSession

    built = []

    def make(card=None, registry=None, runner=None) -> OwnSession:
        kiosk = kiosk_root.build_kiosk(with_demo_registry(settings_for(
            idle_timeout_seconds=IDLE_TIMEOUT, step_idle_seconds={}, farewell_seconds=FAREWELL,
            activation_poll_seconds=POLL, work_deadline_seconds=DEADLINE, language="zh")), clock=clock)
        built.append(kiosk)
        service = ReaderCardService(kiosk.reader, lambda: None)  # 2.00 cards need no PSAM
        used_card = card(service) if card else service
        used_registry = registry(kiosk.port) if registry else kiosk.port
        runner = runner or InlineRunner()
        session = KioskSession(used_card, used_registry, kiosk.session.region, clock, kiosk.session.policy,
                               runner=runner)
        kiosk_root.wire_reader(kiosk.reader, session)
        return OwnSession(session, used_card, service, used_registry, kiosk.bench, runner, Waiter(session))

    yield make
    for kiosk in built:
        kiosk.registry.close()


@pytest.fixture
def views(session) -> list[SessionView]:
    """Every view the session publishes from now on."""
    seen: list[SessionView] = []
    session.subscribe(seen.append)
    return seen


@pytest.fixture
def other_kiosk(kiosk, clock: ManualClock) -> Iterator[Registry]:
    """A second kiosk (or the guardian's app) working on the same database."""
    registry = Registry.open(kiosk.settings.resolved_database_url, clock, kiosk_id="OTHER-KIOSK")
    yield registry
    registry.close()


class Guardian:
    """A guardian at the kiosk (and a tester's hands at the virtual card), driving the session directly."""

    def __init__(self, kiosk, runner: InlineRunner) -> None:
        self.kiosk = kiosk
        self.runner = runner
        self.session = kiosk.session
        self.bench = kiosk.bench
        self.registry = kiosk.registry
        self.profile = ZHANG_WEI_CARD

    # -------------------------------------------------------------- the card in the hand
    @property
    def card(self):
        """The virtual card of the current profile (its PIN counter, APDU count and faults)."""
        return self.bench.card(self.profile)

    def insert(self, profile: str | None = None) -> None:
        self.profile = profile or self.profile
        self.bench.insert(self.profile)

    def remove(self) -> None:
        self.bench.remove()

    def hold(self) -> None:
        """The card and the registry take their time: their work waits for `work()`."""
        self.runner.hold()

    def work(self) -> None:
        """The card and the registry answer: what waits runs (and from now on, work runs at once)."""
        self.runner.resume()

    # -------------------------------------------------------------- checks
    def expect(self, step: Step) -> SessionView:
        view = self.session.view
        assert view.step is step, (
            f"expected step {step.value}, session at {view.step.value} (error {view.error}, notice {view.notice})"
        )
        return view

    # -------------------------------------------------------------- the way through a visit
    def to_insert_card(self) -> SessionView:
        self.session.begin()
        return self.expect(Step.INSERT_CARD)

    def to_reading(self, profile: str | None = None) -> SessionView:
        """The card in, its read still waiting (`work()` lets it run)."""
        self.hold()
        self.insert(profile)
        return self.expect(Step.READING)

    def to_holder(self, profile: str | None = None) -> SessionView:
        self.insert(profile)
        return self.expect(Step.HOLDER)

    def to_pin(self, profile: str | None = None) -> SessionView:
        self.to_holder(profile)
        self.session.confirm_holder()
        return self.expect(Step.PIN)

    def to_child_id(self, profile: str | None = None) -> SessionView:
        self.to_pin(profile)
        self.session.submit_pin(PIN)
        return self.expect(Step.CHILD_ID)

    def to_child_confirm(self, child: str = ZHANG_XIAOYU, profile: str | None = None) -> SessionView:
        self.to_child_id(profile)
        self.session.submit_child_id(child)
        return self.expect(Step.CHILD_CONFIRM)

    def to_eligible(self, child: str = ZHANG_XIAOYU, profile: str | None = None) -> SessionView:
        self.to_child_confirm(child, profile)
        self.session.confirm_child()
        return self.expect(Step.ELIGIBLE)

    def to_not_eligible(self) -> SessionView:
        self.to_child_id()
        self.session.submit_child_id(ZHOU_ZIHAO)
        return self.expect(Step.NOT_ELIGIBLE)

    def to_activation(self, child: str = ZHANG_XIAOYU, profile: str | None = None) -> SessionView:
        self.to_eligible(child, profile)
        self.session.consent()
        return self.expect(Step.ACTIVATION)

    def activate_on_phone(self, code: str | None = None):
        """What the guardian's app does with the code under the QR."""
        return self.registry.activate(code or self.session.view.ticket.user_code)

    def to_activated(self) -> SessionView:
        self.to_activation()
        self.activate_on_phone()
        self.session.check_activation()
        return self.expect(Step.ACTIVATED)

    def to_error(self) -> SessionView:
        """A visit stopped by an error: the card's PIN is blocked."""
        self.to_pin()
        self.card.pin_tries_left = 0
        self.session.submit_pin(PIN)
        view = self.expect(Step.ERROR)
        assert view.error == "PIN_BLOCKED"
        return view

    def to_step(self, step: Step) -> SessionView:
        return {
            Step.INSERT_CARD: self.to_insert_card,
            Step.READING: self.to_reading,
            Step.HOLDER: self.to_holder,
            Step.PIN: self.to_pin,
            Step.CHILD_ID: self.to_child_id,
            Step.CHILD_CONFIRM: self.to_child_confirm,
            Step.ELIGIBLE: self.to_eligible,
            Step.NOT_ELIGIBLE: self.to_not_eligible,
            Step.ACTIVATION: self.to_activation,
            Step.ACTIVATED: self.to_activated,
            Step.ERROR: self.to_error,
        }[step]()

    def come_back_and_resume(self, child: str = ZHANG_XIAOYU) -> SessionView:
        """The same card again, later: the pending registration gets a fresh QR."""
        self.to_child_id()
        self.session.submit_child_id(child)
        view = self.expect(Step.CHILD_CONFIRM)
        assert view.decision is not None and view.decision.eligible and view.decision.resume
        self.hold()
        self.session.confirm_child()
        self.expect(Step.REGISTERING)
        self.work()
        return self.expect(Step.ACTIVATION)


@pytest.fixture
def guardian(kiosk, runner) -> Guardian:
    return Guardian(kiosk, runner)


# ------------------------------------------------------------------ the registry, looked at and broken
def ecards_of(registry: Registry, child: str) -> list[tuple[int, str]]:
    """Every e-card of the child, cancelled ones included: (id, state)."""
    with Session(registry.database.engine) as db:
        rows = db.exec(
            select(ECard.id, ECard.state).join(Person, Person.id == ECard.child_id).where(Person.resident_id == child)
        ).all()
    return [(ecard_id, getattr(state, "value", state)) for ecard_id, state in rows]


def ticket_count(registry: Registry) -> int:
    from kiosk.registry.models import ActivationTicket

    with Session(registry.database.engine) as db:
        return int(db.exec(select(func.count()).select_from(ActivationTicket)).one())


class DatabaseOutage:
    """Takes the kiosk's database away and brings it back, in one of several ways."""

    def __init__(self, kiosk, tmp_path: Path, how: str) -> None:
        self.registry: Registry = kiosk.registry
        self.data_dir = Path(kiosk.settings.data_dir)
        self.moved = tmp_path / "moved-away"
        self.how = how
        self._engine = None

    def start(self) -> None:
        if self.how == "folder_vanished":
            shutil.move(self.data_dir, self.moved)
        elif self.how == "engine_broken":
            def broken() -> sqlite3.Connection:
                raise sqlite3.OperationalError("disk I/O error")

            self._engine = self.registry.database.engine
            self.registry.database.engine = sa.create_engine("sqlite://", creator=broken, poolclass=NullPool)
        else:  # pragma: no cover
            raise ValueError(self.how)

    def end(self) -> None:
        if self.how == "folder_vanished":
            shutil.move(self.moved, self.data_dir)
        else:
            self.registry.database.engine = self._engine


OUTAGES = ["folder_vanished", "engine_broken"]


@pytest.fixture(params=OUTAGES)
def outage(request, kiosk, tmp_path: Path) -> DatabaseOutage:
    return DatabaseOutage(kiosk, tmp_path, request.param)


def refuse_inserts(registry: Registry, table: str, message: str = "disk full") -> None:
    """Make every INSERT into `table` fail inside its transaction (as a full disk would)."""
    with registry.database.engine.begin() as connection:
        connection.exec_driver_sql(
            f"CREATE TRIGGER refuse_{table} BEFORE INSERT ON {table} BEGIN SELECT RAISE(ABORT, '{message}'); END"
        )


def allow_inserts(registry: Registry, table: str) -> None:
    with registry.database.engine.begin() as connection:
        connection.exec_driver_sql(f"DROP TRIGGER refuse_{table}")


# ------------------------------------------------------------------ a memory scan
def personal_data_left(*roots: object) -> list[tuple[str, str]]:
    """(item, string) for every personal item found in a string reachable from `roots`."""
    found = []
    for string in strings_in(list(roots)):
        for item in PERSONAL:
            if item in string:
                found.append((item, string))
    return found
