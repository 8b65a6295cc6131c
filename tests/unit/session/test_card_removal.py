"""Card removal: one defined outcome at every step of a visit; a committed registration survives it."""
from __future__ import annotations

import pytest

from kiosk.domain import ECardState
from kiosk.errors import KioskError
from kiosk.session import Step

from .conftest import PIN, ZHANG_XIAOYU, Guardian, ecards_of

# Where the guardian was when the card left, and what the welcome screen says then: a visit that
# was under way is "interrupted" (CARD_REMOVED); before it started, after it was done, and after
# an error the kiosk just goes back to welcome.
OUTCOMES = {
    Step.INSERT_CARD: None,
    Step.READING: "CARD_REMOVED",
    Step.HOLDER: "CARD_REMOVED",
    Step.PIN: "CARD_REMOVED",
    Step.CHILD_ID: "CARD_REMOVED",
    Step.CHILD_CONFIRM: "CARD_REMOVED",
    Step.ELIGIBLE: "CARD_REMOVED",
    Step.NOT_ELIGIBLE: "CARD_REMOVED",
    Step.ACTIVATION: "CARD_REMOVED",
    Step.ACTIVATED: None,
    Step.ERROR: None,
}
# What the registry holds for the child afterwards: only a consent registers anything.
REGISTERED = {Step.ACTIVATION: ECardState.PENDING, Step.ACTIVATED: ECardState.ACTIVE}


def remove_card_at(guardian: Guardian, step: Step) -> None:
    if step is Step.READING:
        # The card leaves in the middle of the read: the 3rd APDU after power-on finds no card.
        guardian.card.pull_after_apdus = 2
        guardian.to_reading()
        guardian.work()
    elif step is Step.INSERT_CARD:
        guardian.to_insert_card()
        # Nothing is in the slot to take out; a late "removed" event from the reader is what arrives.
        guardian.session.card_removed()
    else:
        guardian.to_step(step)
        guardian.remove()


@pytest.mark.parametrize("step", list(OUTCOMES), ids=lambda step: step.value)
def test_card_removed_at_any_step_ends_the_visit_at_welcome_and_wipes_it(guardian: Guardian, step: Step) -> None:
    remove_card_at(guardian, step)

    view = guardian.expect(Step.WELCOME)
    assert view.notice == OUTCOMES[step]
    assert not guardian.session.visit_under_way
    assert view.holder is None and view.child is None and view.ticket is None and view.decision is None
    assert view.error is None and view.pin_error is None and view.pending == ()
    assert guardian.session.idle_seconds_left() is None


@pytest.mark.parametrize("step", list(OUTCOMES), ids=lambda step: step.value)
def test_card_removed_at_any_step_leaves_only_a_consented_registration_in_the_registry(
    guardian: Guardian, step: Step
) -> None:
    remove_card_at(guardian, step)

    states = [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)]
    expected = REGISTERED.get(step)
    assert states == ([expected.value] if expected else [])


@pytest.mark.parametrize("step", [s for s in OUTCOMES if s not in (Step.ERROR, Step.INSERT_CARD)], ids=lambda s: s.value)
def test_card_removed_at_any_step_costs_no_pin_try(guardian: Guardian, step: Step) -> None:
    tries = guardian.card.pin_tries_left
    remove_card_at(guardian, step)
    assert guardian.card.pin_tries_left == tries


def test_card_pulled_while_reading_can_be_put_back_and_read(guardian: Guardian) -> None:
    guardian.card.pull_after_apdus = 2
    guardian.to_reading()
    guardian.work()
    guardian.expect(Step.WELCOME)

    view = guardian.to_holder()  # the fault fired once; the same card reads now
    assert view.notice is None
    assert view.holder is not None and view.holder.name == "张*"


def test_card_removed_at_activation_keeps_the_pending_registration_and_resumes_it_with_a_fresh_ticket(
    guardian: Guardian,
) -> None:
    first = guardian.to_activation().ticket
    ecard_before = ecards_of(guardian.registry, ZHANG_XIAOYU)
    guardian.remove()
    guardian.expect(Step.WELCOME)

    resumed = guardian.come_back_and_resume()

    assert resumed.resumed is True
    assert ecards_of(guardian.registry, ZHANG_XIAOYU) == ecard_before  # the same e-card, no second one
    assert resumed.ticket is not None and resumed.ticket.user_code != first.user_code
    assert resumed.ticket.url != first.url
    with pytest.raises(KioskError) as refused:
        guardian.activate_on_phone(first.user_code)
    assert refused.value.code == "ACTIVATION_EXPIRED"
    guardian.activate_on_phone(resumed.ticket.user_code)
    guardian.session.check_activation()
    guardian.expect(Step.ACTIVATED)


def test_card_comes_back_and_the_pending_registration_is_offered_after_the_pin(guardian: Guardian) -> None:
    guardian.to_activation()
    guardian.remove()

    view = guardian.to_child_id()
    assert [(p.child_name, p.child_id) for p in view.pending] == [("张*雨", "4301**********0029")]
    guardian.session.resume_pending(0)
    view = guardian.expect(Step.ACTIVATION)
    assert view.resumed is True and view.ticket is not None


def test_card_pulled_while_registering_still_commits_and_the_registration_resumes_later(guardian: Guardian) -> None:
    guardian.to_eligible()

    pulled = []

    def pull_when_registering(view) -> None:
        if view.step is Step.REGISTERING and not pulled:
            pulled.append(view)
            guardian.remove()

    guardian.session.subscribe(pull_when_registering)
    guardian.session.consent()

    view = guardian.expect(Step.WELCOME)
    assert pulled, "the session never showed the registering step"
    assert view.notice == "CARD_REMOVED" and view.ticket is None
    assert not guardian.session.visit_under_way
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.PENDING.value]
    assert guardian.come_back_and_resume().ticket is not None


def test_card_removed_at_take_card_returns_to_welcome_without_a_notice(guardian: Guardian) -> None:
    guardian.to_child_id()
    guardian.session.finish()
    guardian.expect(Step.TAKE_CARD)
    guardian.remove()
    view = guardian.expect(Step.WELCOME)
    assert view.notice is None


def test_another_card_replacing_the_first_starts_a_new_visit_with_nothing_of_the_first(guardian: Guardian) -> None:
    guardian.to_child_confirm()
    guardian.hold()
    guardian.insert("li-na-2.00")  # the bench takes the first card out, then puts the new one in
    guardian.expect(Step.READING)
    guardian.work()
    view = guardian.expect(Step.HOLDER)
    assert view.holder.name == "李*"
    assert view.child is None and view.decision is None and view.pin_tries_left is None
    guardian.session.confirm_holder()
    guardian.session.submit_pin(PIN)
    guardian.expect(Step.CHILD_ID)
