"""Deadlines: a card or a registry that never answers gives the guardian a catalogued error in time, the card is let
go, and the late answer, when it comes, is dropped. The work runs on threads of its own, as in the app."""
from __future__ import annotations

import pytest

from kiosk.domain import ECardState
from kiosk.errors import KioskError
from kiosk.session import Action, Step

from .conftest import DEADLINE, LI_NA_CARD, PIN, POLL, Stuck, ThreadRunner, ecards_of

LI_ZIHAN = "43010220210214005X"  # 李娜's child, eligible


@pytest.fixture
def stuck_card(own_session):
    """`stuck_card(*calls)`: a session whose card service hangs on `calls`."""
    made = []

    def make(*calls: str):
        own = own_session(card=lambda service: Stuck(service, *calls), runner=ThreadRunner())
        made.append(own)
        return own

    yield make
    for own in made:
        own.card.go()
        own.runner.join()


@pytest.fixture
def stuck_registry(own_session):
    made = []

    def make(*calls: str):
        own = own_session(registry=lambda registry: Stuck(registry, *calls), runner=ThreadRunner())
        made.append(own)
        return own

    yield make
    for own in made:
        own.registry.go()
        own.runner.join()


def test_a_card_that_never_answers_the_read_gives_card_timeout_and_is_let_go(stuck_card, clock) -> None:
    own = stuck_card("read_card")
    session = own.session
    own.bench.insert(LI_NA_CARD)
    assert own.card.entered["read_card"].wait(5)
    clock.advance(DEADLINE - 1)
    session.tick()
    assert session.view.step is Step.READING  # a slow card, not yet a dead one

    clock.advance(1)
    session.tick()
    view = own.waiter.until(lambda v: v.step is Step.ERROR)
    assert view.error == "CARD_TIMEOUT" and view.holder is None
    own.waiter.until(lambda v: "release" in own.card.calls)  # the card is let go at once
    assert view.allows(Action.RETRY)  # the card is still in: reading it again may work

    own.card.go()  # the card answers at last: nobody waits for it any more
    own.runner.join()
    view = session.view
    assert view.step is Step.ERROR and view.error == "CARD_TIMEOUT" and view.holder is None
    with pytest.raises(KioskError) as nothing_held:
        own.service.pin_tries_left()  # the late read's connection was let go too
    assert nothing_held.value.code == "CARD_ABSENT"


def test_after_a_card_timeout_trying_again_reads_the_card(stuck_card, clock) -> None:
    own = stuck_card("read_card")
    own.bench.insert(LI_NA_CARD)
    assert own.card.entered["read_card"].wait(5)
    clock.advance(DEADLINE)
    own.session.tick()
    own.waiter.until(lambda v: v.step is Step.ERROR)
    own.card.go()  # the card works again (dirty contacts wiped)
    own.runner.join()
    assert own.session.retry()
    view = own.waiter.until(lambda v: v.step is Step.HOLDER)
    assert view.holder.name == "李*"


def test_a_pin_check_that_never_returns_ends_in_card_timeout_and_its_late_answer_is_dropped(stuck_card, clock) -> None:
    own = stuck_card("verify_pin")
    session = own.session
    own.bench.insert(LI_NA_CARD)
    own.waiter.until(lambda v: v.step is Step.HOLDER)
    session.confirm_holder()
    own.waiter.until(lambda v: v.pin_tries_left == 3)
    session.submit_pin(PIN)
    assert own.card.entered["verify_pin"].wait(5)
    clock.advance(DEADLINE)
    session.tick()
    view = own.waiter.until(lambda v: v.step is Step.ERROR)
    assert view.error == "CARD_TIMEOUT"
    own.card.go()  # the card says VERIFIED, too late
    own.runner.join()
    view = session.view
    assert view.step is Step.ERROR and view.error == "CARD_TIMEOUT"


def test_a_registry_that_never_answers_the_registration_gives_registry_timeout_and_keeps_what_it_wrote(
    stuck_registry, clock
) -> None:
    own = stuck_registry("register")
    session = own.session
    own.bench.insert(LI_NA_CARD)
    own.waiter.until(lambda v: v.step is Step.HOLDER)
    session.confirm_holder()
    own.waiter.until(lambda v: v.pin_tries_left is not None)
    session.submit_pin(PIN)
    own.waiter.until(lambda v: v.step is Step.CHILD_ID)
    session.submit_child_id(LI_ZIHAN)
    own.waiter.until(lambda v: v.step is Step.CHILD_CONFIRM)
    session.confirm_child()
    session.consent()
    assert own.registry.entered["register"].wait(5)
    assert session.view.step is Step.REGISTERING

    clock.advance(DEADLINE)
    session.tick()
    view = own.waiter.until(lambda v: v.step is Step.ERROR)
    assert view.error == "REGISTRY_TIMEOUT" and view.ticket is None

    own.registry.go()  # the write goes through after all: the guardian consented, it is kept
    own.runner.join()
    assert session.view.step is Step.ERROR and session.view.ticket is None
    assert [state for _, state in ecards_of(own.registry.registry, LI_ZIHAN)] == [ECardState.PENDING.value]


def test_a_look_for_the_activation_that_never_returns_counts_as_a_failed_one(stuck_registry, clock) -> None:
    own = stuck_registry("ticket_state")
    session = own.session
    own.bench.insert(LI_NA_CARD)
    own.waiter.until(lambda v: v.step is Step.HOLDER)
    session.confirm_holder()
    own.waiter.until(lambda v: v.pin_tries_left is not None)
    session.submit_pin(PIN)
    own.waiter.until(lambda v: v.step is Step.CHILD_ID)
    session.submit_child_id(LI_ZIHAN)
    own.waiter.until(lambda v: v.step is Step.CHILD_CONFIRM)
    session.confirm_child()
    session.consent()
    own.waiter.until(lambda v: v.step is Step.ACTIVATION)

    tolerated = session.policy.poll_failures_tolerated
    for look in range(1, tolerated + 1):
        clock.advance(POLL)
        session.tick()  # the look goes out...
        own.waiter.until(lambda v: own.registry.calls.count("ticket_state") == look)
        clock.advance(DEADLINE)
        session.tick()  # ... and is given up
        if look < tolerated:
            assert session.view.step is Step.ACTIVATION  # the QR code stays: a few looks may fail
    view = own.waiter.until(lambda v: v.step is Step.ERROR)
    assert view.error == "REGISTRY_TIMEOUT"
