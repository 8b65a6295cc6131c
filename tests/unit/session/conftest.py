"""Provides the session tests' fixtures: a headless kiosk on a manual clock, a guardian driving it, a memory scan.

Everything runs in the test thread: the blocking session operations (`read_card`, `submit_pin`,
`consent`, `poll_activation`, ...) are plain calls, and reader events (insert, remove, a card
pulled mid-APDU) reach the session synchronously through the composition root's wiring.
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
from kiosk.session import SessionView, Step
from tests.conftest import kiosk_root

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
IDLE_TIMEOUT = 90
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
def kiosk(settings_for, clock: ManualClock, tmp_path: Path) -> Iterator[object]:
    """A whole kiosk (session, simulated reader with the PSAM, SQLite registry with demo data), no UI."""
    settings = settings_for(
        idle_timeout_seconds=IDLE_TIMEOUT,
        step_idle_seconds={},  # one limit for every step here; test_more_time.py has steps of their own
        activation_ttl_seconds=TICKET_TTL,
        activation_max_renewals=MAX_RENEWALS,
        language="zh",
    )
    built = kiosk_root.build_kiosk(settings, clock=clock)
    yield built
    built.registry.close()


@pytest.fixture
def session(kiosk):
    return kiosk.session


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

    def __init__(self, kiosk) -> None:
        self.kiosk = kiosk
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
        self.insert(profile)
        return self.expect(Step.READING)

    def to_holder(self, profile: str | None = None) -> SessionView:
        self.to_reading(profile)
        self.session.read_card()
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
        self.session.poll_activation()
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
        self.session.confirm_child()
        self.expect(Step.REGISTERING)
        self.session.resume()
        return self.expect(Step.ACTIVATION)


@pytest.fixture
def guardian(kiosk) -> Guardian:
    return Guardian(kiosk)


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
