"""The PIN: wrong ones count down, malformed ones never reach the card, a blocked card stops, a pulled card costs nothing."""
from __future__ import annotations

import pytest

from kiosk.session import Step

from .conftest import CHEN_JING_CARD, PIN, WRONG_PIN, Guardian


def test_wrong_pin_counts_down_the_tries_and_stays_at_the_pin(guardian: Guardian) -> None:
    guardian.to_pin()
    start = guardian.card.pin_tries_left
    assert start == 3

    guardian.session.submit_pin(WRONG_PIN)
    view = guardian.expect(Step.PIN)
    assert view.pin_error == "PIN_WRONG" and view.pin_tries_left == 2
    assert view.error is None

    guardian.session.submit_pin(WRONG_PIN)
    view = guardian.expect(Step.PIN)
    assert view.pin_error == "PIN_WRONG" and view.pin_tries_left == 1
    assert guardian.card.pin_tries_left == 1


def test_right_pin_after_a_wrong_one_goes_on_and_clears_the_error(guardian: Guardian) -> None:
    guardian.to_pin()
    guardian.session.submit_pin(WRONG_PIN)
    guardian.session.submit_pin(PIN)

    view = guardian.expect(Step.CHILD_ID)
    assert view.pin_error is None
    assert guardian.card.pin_tries_left == guardian.card.pin_max_tries


def test_last_wrong_pin_blocks_the_card_and_shows_pin_blocked(guardian: Guardian) -> None:
    guardian.to_pin()
    for _ in range(3):
        guardian.session.submit_pin(WRONG_PIN)

    view = guardian.expect(Step.ERROR)
    assert view.error == "PIN_BLOCKED" and view.pin_error is None
    assert guardian.card.pin_tries_left == 0


@pytest.mark.parametrize("typed", ["", "12345", "1234567", "12345a", "12 456", "１２３４５６", "١٢٣٤٥٦"])
def test_a_pin_that_is_not_six_digits_is_refused_without_talking_to_the_card(guardian: Guardian, typed: str) -> None:
    guardian.to_pin()
    apdus, tries = guardian.card.apdus_since_power_on, guardian.card.pin_tries_left

    guardian.session.submit_pin(typed)

    view = guardian.expect(Step.PIN)
    assert view.pin_error == "PIN_FORMAT"
    assert view.pin_tries_left == tries
    assert guardian.card.apdus_since_power_on == apdus
    assert guardian.card.pin_tries_left == tries


def test_card_pulled_while_the_pin_is_verified_costs_no_try_and_ends_the_visit(guardian: Guardian) -> None:
    guardian.to_pin()
    tries = guardian.card.pin_tries_left
    guardian.card.pull_after_apdus = guardian.card.apdus_since_power_on  # the VERIFY finds no card

    guardian.session.submit_pin(WRONG_PIN)

    view = guardian.expect(Step.WELCOME)
    assert view.notice == "CARD_REMOVED"
    assert view.pin_error is None and view.pin_tries_left is None
    assert guardian.card.pin_tries_left == tries
    assert not guardian.session.visit_under_way


def test_a_pin_submitted_outside_the_pin_step_is_ignored(guardian: Guardian) -> None:
    guardian.to_holder()
    apdus = guardian.card.apdus_since_power_on
    guardian.session.submit_pin(PIN)
    guardian.expect(Step.HOLDER)
    assert guardian.card.apdus_since_power_on == apdus


def test_pin_step_learns_the_try_counter_before_anything_is_typed(guardian: Guardian) -> None:
    guardian.to_holder("yang-lei-last-try")
    guardian.hold()
    guardian.session.confirm_holder()
    assert guardian.runner.waiting == ("pin_tries",)  # entering the step asks the card, nothing typed yet
    assert guardian.expect(Step.PIN).pin_tries_left is None
    guardian.work()
    view = guardian.expect(Step.PIN)
    assert view.pin_tries_left == 1  # the screen warns before the last try
    assert guardian.card.pin_tries_left == 1  # and asking used no try


def test_blocked_card_is_told_at_the_pin_step_without_a_pin(guardian: Guardian) -> None:
    guardian.to_holder(CHEN_JING_CARD)
    guardian.session.confirm_holder()
    view = guardian.expect(Step.ERROR)
    assert view.error == "PIN_BLOCKED" and view.pin_tries_left == 0
    assert guardian.card.pin_tries_left == 0


def test_card_pulled_while_asking_the_try_counter_ends_the_visit_without_a_try(guardian: Guardian) -> None:
    guardian.to_holder()
    guardian.hold()
    guardian.session.confirm_holder()
    card = guardian.card
    card.pull_after_apdus = card.apdus_since_power_on
    guardian.work()
    view = guardian.expect(Step.WELCOME)
    assert view.notice == "CARD_REMOVED"
    assert card.pin_tries_left == card.pin_max_tries
