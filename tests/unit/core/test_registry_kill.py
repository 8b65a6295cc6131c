"""A kiosk killed (SIGKILL) in the middle of a registration: never a pending e-card without its QR code."""
from __future__ import annotations

import signal
import subprocess
import sys
import textwrap

import pytest
import sqlalchemy as sa

from tests.conftest import ROOT as PROJECT_ROOT
from kiosk.registry import Registry


ZHANG_WEI, ZHANG_XIAOYU = "430102198803150016", "430102201906010029"

_KIOSK = textwrap.dedent("""
    import os, signal, sys
    from datetime import date
    from sqlalchemy import event
    from kiosk import CONFIG_DIR
    from kiosk.eligibility import load_region
    from kiosk.ports import SystemClock
    from kiosk.registry import Registry
    from kiosk.registry.activation import TicketPolicy
    from kiosk.registry.local import LocalRegistry
    from kiosk.registry.port import PresentedCard

    url, path, die_after = sys.argv[1], sys.argv[2], sys.argv[3]
    registry = Registry.open(url, SystemClock(), kiosk_id="DYING-KIOSK")

    @event.listens_for(registry.database.engine, "after_cursor_execute")
    def maybe_die(connection, cursor, statement, parameters, context, executemany):
        # (on PostgreSQL a registration's INSERTs are one statement, WITH made AS (INSERT INTO ecard ..) ..)
        if f"INSERT INTO {die_after.upper()}" in statement.upper():
            os.kill(os.getpid(), signal.SIGKILL)  # the power goes, mid-transaction

    card = PresentedCard("L43000001", "3.00", date(2033, 3, 1), "430102198803150016", True)
    if path == "port":
        region = load_region(CONFIG_DIR / "regions" / "default.toml")
        LocalRegistry(registry, region, TicketPolicy("https://ecard.example/a", 300)).register(
            card, "430102201906010029", "kill-test-key-1")
    else:  # the way the session does it on main: two transactions
        ecard = registry.register_ecard("430102198803150016", "430102201906010029", "DYING-KIOSK")
        registry.issue_ticket(ecard, "https://ecard.example/a", 300)
    print("survived")
""")


def kill_kiosk_during_registration(url: str, path: str, die_after: str) -> None:
    done = subprocess.run([sys.executable, "-c", _KIOSK, url, path, die_after], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == -signal.SIGKILL, done.stderr[-2000:]


def findings(registry: Registry) -> dict[str, int]:
    return {finding.code: finding.count for finding in registry.consistency()}


def pending_and_tickets(registry: Registry) -> tuple[int, int]:
    with registry.database.connection("look") as connection:
        return tuple(connection.execute(sa.text(  # type: ignore[return-value]
            "SELECT count(DISTINCT e.id), count(t.id) FROM ecard e JOIN person c ON c.id = e.child_id"
            " LEFT JOIN activation_ticket t ON t.ecard_id = e.id WHERE c.resident_id = :c AND e.state = 'pending'"),
            {"c": ZHANG_XIAOYU}).one())


@pytest.mark.parametrize("die_after", ["ecard", "audit_event"])  # the first write and the last
def test_a_kiosk_killed_anywhere_in_a_registration_leaves_nothing_or_the_e_card_with_its_ticket(
    demo_registry: Registry, die_after: str
) -> None:
    url = demo_registry.database.url
    kill_kiosk_during_registration(url, "port", die_after)
    assert pending_and_tickets(demo_registry) == (0, 0)  # the one transaction died whole
    assert findings(demo_registry)["PENDING_WITHOUT_TICKET"] == 0


def test_the_consistency_check_finds_the_e_card_a_kiosk_killed_between_two_transactions_left(
    demo_registry: Registry,
) -> None:
    kill_kiosk_during_registration(demo_registry.database.url, "two-transactions", "activation_ticket")
    assert pending_and_tickets(demo_registry) == (1, 0)  # registered, its QR never issued
    found = next(f for f in demo_registry.consistency() if f.code == "PENDING_WITHOUT_TICKET")
    assert found.count == 1 and found.examples == (demo_registry.child_ecard(ZHANG_XIAOYU).ecard_id,)
