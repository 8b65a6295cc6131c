"""Try again: an error the catalogue calls retriable, with the card still in, reads the card again; a final one does not."""
from __future__ import annotations

from kiosk.errors import KioskError
from kiosk.session import Step

from .conftest import Guardian


def _failing_once(guardian: Guardian, code: str) -> None:
    service = guardian.session._card
    real = service.read_card
    calls = []

    def read_card():
        calls.append(1)
        if len(calls) == 1:
            raise KioskError(code, "a hiccup on the contacts")
        return real()

    service.read_card = read_card


def test_a_retriable_error_reads_the_card_again_and_the_visit_goes_on(guardian: Guardian) -> None:
    _failing_once(guardian, "CARD_COMMUNICATION")
    guardian.to_reading()
    guardian.session.read_card()
    view = guardian.expect(Step.ERROR)
    assert view.error == "CARD_COMMUNICATION" and guardian.session.error_retriable
    guardian.session.retry()
    guardian.expect(Step.READING)
    guardian.session.read_card()
    guardian.expect(Step.HOLDER)


def test_a_final_error_is_not_retried(guardian: Guardian) -> None:
    guardian.to_reading("bank-card")
    guardian.session.read_card()
    assert guardian.expect(Step.ERROR).error == "CARD_NOT_SOCIAL_SECURITY"
    assert not guardian.session.error_retriable
    guardian.session.retry()
    guardian.expect(Step.ERROR)


def test_no_retry_once_the_card_is_out(guardian: Guardian) -> None:
    _failing_once(guardian, "CARD_COMMUNICATION")
    guardian.to_reading()
    guardian.session.read_card()
    guardian.expect(Step.ERROR)
    guardian.bench.remove()  # the reader event ends the visit at once
    guardian.session.retry()
    assert guardian.session.step is Step.WELCOME
