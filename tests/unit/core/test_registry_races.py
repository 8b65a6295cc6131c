"""Races on the real PostgreSQL server (READ COMMITTED, threads released together): what the registry keeps whole."""
from __future__ import annotations

import os
import threading
from typing import Callable, Iterator, TypeVar

import pytest
import sqlalchemy as sa

from kiosk.eligibility import load_region
from kiosk.ports import ManualClock
from kiosk.registry import Registry, load_demo
from kiosk.registry.activation import TicketPolicy
from kiosk.registry.local import LocalRegistry

from .conftest import DEMO_FILE, REGIONS, empty_postgresql
from .families import add_families

T = TypeVar("T")
ZHANG_WEI = "430102198803150016"
ZHANG_XIAOYU = "430102201906010029"
URL = "https://ecard.example.gov.cn/activate"
JOIN_S = 60
"""No thread of a round may take longer than this (a hang fails the test, it does not stall the suite)."""
ROUNDS = int(os.environ.get("KIOSK_RACE_ROUNDS", "8"))
"""Rounds per race test; KIOSK_RACE_ROUNDS=200 for a long run."""


@pytest.fixture
def postgres(postgres_test_url: str, clock: ManualClock) -> Iterator[Registry]:
    registry = Registry.open(postgres_test_url, clock, kiosk_id="RACE-0")
    empty_postgresql(registry.database.engine)
    registry.upgrade_schema()
    load_demo(registry, DEMO_FILE)
    yield registry
    registry.close()


@pytest.fixture
def kiosks(postgres_test_url: str, clock: ManualClock, postgres: Registry) -> Iterator[Callable[[int], list[Registry]]]:
    """`kiosks(n)`: n registries on the same database, each with its own connections, as n kiosks would be."""
    opened: list[Registry] = []

    def make(count: int) -> list[Registry]:
        made = [Registry.open(postgres_test_url, clock, kiosk_id=f"RACE-{i + 1}") for i in range(count)]
        opened.extend(made)
        return made

    yield make
    for registry in opened:
        registry.close()


def at_once(calls: list[Callable[[], T]]) -> list[T | BaseException]:
    """Run the calls on threads released by one barrier; each one's result or exception, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[T | BaseException] = [RuntimeError("did not finish")] * len(calls)

    def run(index: int) -> None:
        barrier.wait(JOIN_S)
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # noqa: BLE001 - the test looks at every outcome
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_S)
        assert not thread.is_alive(), "a racing call hung"
    return results


def live_tickets(registry: Registry, ecard_id: int) -> int:
    with registry.database.connection("count") as connection:
        return connection.execute(
            sa.text("SELECT count(*) FROM activation_ticket WHERE ecard_id = :e AND used_at IS NULL AND NOT revoked"),
            {"e": ecard_id},
        ).scalar_one()


def test_kiosks_issuing_tickets_for_one_e_card_at_once_leave_exactly_one_live_ticket(
    postgres: Registry, kiosks: Callable[[int], list[Registry]]
) -> None:
    ecard_id = postgres.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, "RACE-0")
    racers = kiosks(8)
    for round_number in range(2 * ROUNDS):
        results = at_once([lambda r=r: r.issue_ticket(ecard_id, URL, 300) for r in racers])
        failures = [r for r in results if isinstance(r, BaseException)]
        assert not failures, f"round {round_number}: {failures[:3]}"
        assert live_tickets(postgres, ecard_id) == 1, f"round {round_number}"


def port_of(registry: Registry) -> LocalRegistry:
    return LocalRegistry(registry, load_region(REGIONS / "default.toml"), TicketPolicy(URL, 300))


def live_ecards(registry: Registry, child_rid: str) -> int:
    with registry.database.connection("count") as connection:
        return connection.execute(sa.text(
            "SELECT count(*) FROM ecard e JOIN person p ON p.id = e.child_id WHERE p.resident_id = :c"
            " AND e.state != 'cancelled'"), {"c": child_rid}).scalar_one()


def test_fifty_kiosks_registering_one_child_at_once_make_one_e_card_and_tell_the_others_why(
    postgres: Registry, kiosks: Callable[[int], list[Registry]]
) -> None:
    family, = add_families(postgres, 1)
    ports = [port_of(registry) for registry in kiosks(50)]
    for round_number in range(ROUNDS):
        answers = at_once([lambda p=p, i=i: p.register(family.card, family.child, f"round-{round_number}-kiosk-{i}")
                           for i, p in enumerate(ports)])
        errors = [a for a in answers if isinstance(a, BaseException)]
        assert not errors, f"round {round_number}: {errors[:3]}"
        outcomes = sorted(a.outcome for a in answers)  # type: ignore[union-attr]
        assert outcomes == ["already_pending"] * 49 + ["registered"], f"round {round_number}"
        registered = next(a for a in answers if a.outcome == "registered")  # type: ignore[union-attr]
        assert {a.ecard_id for a in answers} == {registered.ecard_id}  # type: ignore[union-attr]
        assert live_ecards(postgres, family.child) == 1
        assert live_tickets(postgres, registered.ecard_id) == 1
        assert ports[0].cancel(registered.ecard_id, family.card).outcome == "cancelled"  # free for the next round


def test_twenty_phones_activating_one_ticket_at_once_activate_it_once(
    postgres: Registry, kiosks: Callable[[int], list[Registry]]
) -> None:
    families = add_families(postgres, ROUNDS)
    phones = kiosks(20)
    port = port_of(postgres)
    for round_number, family in enumerate(families):
        ticket = port.register(family.card, family.child, f"phones-{round_number}").ticket
        assert ticket is not None
        presented = [ticket.url if i % 2 else ticket.user_code for i in range(len(phones))]
        answers = at_once([lambda r=r, code=code: r.activate(code) for r, code in zip(phones, presented)])
        wins = [a for a in answers if not isinstance(a, BaseException)]
        losses = [a for a in answers if isinstance(a, BaseException)]
        assert len(wins) == 1 and wins[0].ecard_id == ticket.ecard_id, f"round {round_number}: {losses[:2]}"
        assert {getattr(loss, "code", repr(loss)) for loss in losses} == {"ACTIVATION_USED"}, f"round {round_number}"
        assert port.ticket_state(ticket.ticket_id).state == "activated"


def test_registration_retried_with_its_key_while_the_first_try_still_runs_makes_one_e_card(
    postgres: Registry, kiosks: Callable[[int], list[Registry]]
) -> None:
    families = add_families(postgres, ROUNDS, start=500)
    tries = [port_of(registry) for registry in kiosks(6)]
    for round_number, family in enumerate(families):
        # One kiosk's retries (the same kiosk id, the same key), racing each other.
        same_kiosk = [port_of(t.registry.for_kiosk("RETRYING-KIOSK")) for t in tries]
        answers = at_once([lambda p=p: p.register(family.card, family.child, f"retry-key-{round_number}")
                           for p in same_kiosk])
        errors = [a for a in answers if isinstance(a, BaseException)]
        assert not errors, f"round {round_number}: {errors[:3]}"
        assert sorted(a.outcome for a in answers) == ["registered"] + ["replayed"] * 5  # type: ignore[union-attr]
        assert len({a.ecard_id for a in answers}) == 1  # type: ignore[union-attr]
        assert live_ecards(postgres, family.child) == 1
        assert live_tickets(postgres, answers[0].ecard_id) == 1  # type: ignore[union-attr]
