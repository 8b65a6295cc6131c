"""The actions allowed now: the view lists them, the session takes those and refuses anything else."""
from __future__ import annotations

import pytest

from kiosk.session import Action, Step

from .conftest import LI_NA_CARD, ZHANG_WEI_CARD, Guardian

A = Action
# What the guardian may do at each step of an ordinary visit (more time wherever the idle clock runs).
EXPECTED = {
    Step.INSERT_CARD: (A.FINISH, A.MORE_TIME),
    Step.HOLDER: (A.CONFIRM_HOLDER, A.FINISH, A.MORE_TIME),
    Step.PIN: (A.ENTER_PIN, A.FINISH, A.MORE_TIME),
    Step.CHILD_ID: (A.ENTER_CHILD, A.PICK_CHILD, A.TYPE_CHILD, A.FINISH, A.MORE_TIME),  # 张伟 has two children listed
    Step.CHILD_CONFIRM: (A.CONFIRM_CHILD, A.ANOTHER_CHILD, A.FINISH, A.MORE_TIME),
    Step.ELIGIBLE: (A.REGISTER, A.FINISH, A.MORE_TIME),
    Step.NOT_ELIGIBLE: (A.ANOTHER_CHILD, A.FINISH, A.MORE_TIME),
    Step.ACTIVATION: (A.FINISH,),  # the QR code is exempt from the idle timeout
    Step.ACTIVATED: (A.ANOTHER_CHILD, A.FINISH, A.MORE_TIME),
    Step.ERROR: (A.FINISH, A.MORE_TIME),  # PIN_BLOCKED: final, nothing to try again
}


@pytest.mark.parametrize("step", list(EXPECTED), ids=lambda step: step.value)
def test_each_step_lists_what_the_guardian_may_do(guardian: Guardian, step: Step) -> None:
    view = guardian.to_step(step)
    assert view.actions == EXPECTED[step]
    assert all(guardian.session.allows(action) for action in view.actions)


def test_the_welcome_screen_offers_to_start_and_more_time_only_once_something_was_chosen(guardian: Guardian) -> None:
    assert guardian.session.view.actions == (A.START,)
    guardian.session.set_language("en")
    assert guardian.session.view.actions == (A.START, A.MORE_TIME)


@pytest.mark.parametrize("step", [Step.READING, Step.REGISTERING], ids=lambda step: step.value)
def test_nothing_is_asked_of_the_guardian_while_the_kiosk_works(guardian: Guardian, step: Step) -> None:
    if step is Step.READING:
        view = guardian.to_reading()
    else:
        guardian.to_eligible()
        guardian.hold()
        guardian.session.consent()
        view = guardian.expect(Step.REGISTERING)
    assert view.actions == ()
    assert guardian.session.finish() is False  # refused: the work goes on
    guardian.work()
    assert guardian.session.step is not step


def test_an_action_the_view_does_not_list_is_refused_and_changes_nothing(guardian: Guardian, views) -> None:
    view = guardian.to_holder()
    seen = len(views)
    apdus = guardian.card.apdus_since_power_on
    for refused in (guardian.session.begin, guardian.session.consent, guardian.session.confirm_child,
                    guardian.session.another_child, guardian.session.retry, lambda: guardian.session.submit_pin("123456"),
                    lambda: guardian.session.submit_child_id("430102201906010029"),
                    lambda: guardian.session.resume_pending(0)):
        assert refused() is False
    assert guardian.session.view == view and len(views) == seen
    assert guardian.card.apdus_since_power_on == apdus  # nothing reached the card
    assert guardian.session.confirm_holder() is True
    guardian.expect(Step.PIN)


def test_another_child_after_a_refusal_only_once_the_pin_was_checked(guardian: Guardian) -> None:
    guardian.insert("wang-fang-expired")
    view = guardian.expect(Step.NOT_ELIGIBLE)  # the card itself is refused: no child to change
    assert view.decision.codes == ("CARD_EXPIRED",) and A.ANOTHER_CHILD not in view.actions
    assert guardian.session.another_child() is False
    guardian.remove()

    guardian.profile = ZHANG_WEI_CARD
    view = guardian.to_not_eligible()  # refused for the child, after the PIN
    assert A.ANOTHER_CHILD in view.actions
    assert guardian.session.another_child() is True
    guardian.expect(Step.CHILD_ID)


def test_resume_pending_is_offered_only_with_a_registration_waiting(guardian: Guardian) -> None:
    assert A.RESUME_PENDING not in guardian.to_child_id().actions  # 张伟 has nothing waiting
    guardian.remove()
    view = guardian.to_child_id(LI_NA_CARD)
    assert view.pending and A.RESUME_PENDING in view.actions
    assert view.actions.index(A.RESUME_PENDING) == view.actions.index(A.ENTER_CHILD) + 1


def test_more_time_is_refused_where_no_idle_clock_runs(guardian: Guardian) -> None:
    assert guardian.session.more_time() is False  # welcome, nothing chosen
    guardian.to_activation()
    assert guardian.session.more_time() is False
    guardian.remove()
    guardian.to_pin()
    assert guardian.session.more_time() is True
