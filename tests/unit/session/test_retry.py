"""Try again: an error that may go away, with the card still in, reads the card again; a final one, or a card out, does not."""
from __future__ import annotations

from kiosk.session import Action, Step

from .conftest import Guardian

MUTE = "mute-card"  # gives no answer to reset


def test_a_retriable_error_reads_the_card_again_and_the_visit_goes_on(guardian: Guardian) -> None:
    guardian.bench.set_mute(guardian.profile, True)  # dirty contacts: no answer to reset
    guardian.insert()
    view = guardian.expect(Step.ERROR)
    assert view.error == "CARD_MUTE" and view.allows(Action.RETRY)
    guardian.bench.set_mute(guardian.profile, False)  # wiped clean

    guardian.hold()
    assert guardian.session.retry()
    guardian.expect(Step.READING)
    guardian.work()
    view = guardian.expect(Step.HOLDER)
    assert view.error is None and not view.allows(Action.RETRY)


def test_a_final_error_is_not_retried(guardian: Guardian) -> None:
    guardian.insert("bank-card")
    view = guardian.expect(Step.ERROR)
    assert view.error == "CARD_NOT_SOCIAL_SECURITY"
    assert view.actions == (Action.FINISH, Action.MORE_TIME)
    assert guardian.session.retry() is False  # refused: nothing happens
    guardian.expect(Step.ERROR)


def test_no_retry_once_the_card_is_out(guardian: Guardian) -> None:
    guardian.insert(MUTE)
    guardian.expect(Step.ERROR)
    guardian.bench.remove()  # the reader event ends the visit at once
    assert guardian.session.retry() is False
    assert guardian.session.step is Step.WELCOME

