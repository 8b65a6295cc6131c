"""After any ending, nothing personal is reachable from the session: not in its state, its card service, or its views."""
from __future__ import annotations

from typing import Callable

import pytest

from kiosk.errors import KioskError
from kiosk.session import SessionView, Step

from .conftest import (
    IDLE_TIMEOUT,
    LI_NA_CARD,
    MAX_RENEWALS,
    PIN,
    TICKET_TTL,
    ZHANG_XIAOYU,
    DatabaseOutage,
    Guardian,
    personal_data_left,
    session_memory,
)


def removed_at_activation(g: Guardian, clock, tmp_path) -> None:
    g.to_activation()
    g.remove()


def removed_while_reading(g: Guardian, clock, tmp_path) -> None:
    g.to_child_id()  # a first read, so the card service held a card once
    g.remove()
    g.card.pull_after_apdus = 8
    g.to_reading()
    g.work()


def pulled_while_verifying_the_pin(g: Guardian, clock, tmp_path) -> None:
    g.to_pin()
    g.card.pull_after_apdus = g.card.apdus_since_power_on
    g.session.submit_pin(PIN)


def idle_at_child_confirm(g: Guardian, clock, tmp_path) -> None:
    g.to_child_confirm()
    clock.advance(IDLE_TIMEOUT)
    g.session.tick()
    g.expect(Step.TAKE_CARD)


def idle_then_card_taken(g: Guardian, clock, tmp_path) -> None:
    idle_at_child_confirm(g, clock, tmp_path)
    g.remove()


def finished_when_eligible(g: Guardian, clock, tmp_path) -> None:
    g.to_eligible()
    g.session.finish()


def finished_after_activation(g: Guardian, clock, tmp_path) -> None:
    g.to_activated()
    g.session.finish()


def renewals_used_up(g: Guardian, clock, tmp_path) -> None:
    g.to_activation()
    for _ in range(MAX_RENEWALS + 1):
        clock.advance(TICKET_TTL)
        g.session.check_activation()
    assert g.session.step is Step.TAKE_CARD


def database_error_then_finished(g: Guardian, clock, tmp_path) -> None:
    g.to_eligible()
    outage = DatabaseOutage(g.kiosk, tmp_path, "folder_vanished")
    outage.start()
    g.session.consent()
    assert g.session.view.error == "DATABASE_UNAVAILABLE"
    g.session.finish()
    outage.end()


def out_of_service_mid_visit(g: Guardian, clock, tmp_path) -> None:
    g.to_child_confirm()
    g.session.out_of_service("DATABASE_UNAVAILABLE")
    assert g.session.step is Step.OUT_OF_SERVICE


def pin_blocked_then_card_taken(g: Guardian, clock, tmp_path) -> None:
    g.to_error()
    g.remove()


ENDINGS: dict[str, Callable] = {f.__name__: f for f in (
    removed_at_activation, removed_while_reading, pulled_while_verifying_the_pin, idle_at_child_confirm,
    idle_then_card_taken, finished_when_eligible, finished_after_activation, renewals_used_up,
    database_error_then_finished, out_of_service_mid_visit, pin_blocked_then_card_taken,
)}


@pytest.mark.parametrize("ending", list(ENDINGS))
def test_no_personal_data_is_reachable_from_the_session_after_the_visit_ends(
    guardian: Guardian, views: list[SessionView], clock, tmp_path, ending: str
) -> None:
    ENDINGS[ending](guardian, clock, tmp_path)

    session = guardian.session
    assert session.step in (Step.WELCOME, Step.TAKE_CARD, Step.OUT_OF_SERVICE)
    assert not session.visit_under_way
    assert personal_data_left(session_memory(session)) == []
    assert personal_data_left(session.view, views[-1]) == []


def test_the_scan_does_find_personal_data_during_a_visit(guardian: Guardian, views: list[SessionView]) -> None:
    # The memory scan above is only worth something if it sees what a visit holds.
    guardian.to_activation()
    found = {item for item, _ in personal_data_left(session_memory(guardian.session))}
    # The child's name comes from the registry masked (张*雨): only the card's holder is held in clear.
    assert {"张伟", "430102198803150016", ZHANG_XIAOYU, "L43000001"} <= found
    assert {"张*", "4301**********0029"} <= {item for item, _ in personal_data_left(views[-1])}


def test_the_card_service_lets_go_of_the_card_when_the_visit_ends(own_session) -> None:
    own = own_session()
    session, service = own.session, own.service
    own.bench.insert(LI_NA_CARD)
    assert session.confirm_holder() and session.submit_pin(PIN)
    assert session.step is Step.CHILD_ID
    assert service.pin_tries_left() == 3  # the connection is kept for the PIN: the card answers
    assert session.finish()
    with pytest.raises(KioskError) as released:
        service.pin_tries_left()
    assert released.value.code == "CARD_ABSENT"  # nothing read is held any more
