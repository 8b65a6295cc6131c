"""Reader events: a lost reader ends the visit with READER_LOST and costs no PIN try; a waiting card is picked up."""
from __future__ import annotations

import pytest

from kiosk.errors import KioskError
from kiosk.session import Step

from .conftest import PIN, Guardian


@pytest.fixture
def lose_reader(kiosk, monkeypatch):
    """Make the guardian's reader fail every connection and every APDU as a lost reader does."""

    def lost(*args, **kwargs):
        raise KioskError("READER_LOST", "the reader went away")

    def start() -> None:
        monkeypatch.setattr(kiosk.reader, "connect", lost)
        monkeypatch.setattr(kiosk.reader, "_transmit", lost)

    return start


def test_reader_lost_while_reading_ends_the_visit_with_reader_lost(guardian: Guardian, lose_reader) -> None:
    guardian.to_reading()
    lose_reader()
    guardian.work()

    view = guardian.expect(Step.WELCOME)
    assert view.notice == "READER_LOST"
    assert not guardian.session.visit_under_way and view.holder is None


def test_reader_lost_while_the_pin_is_verified_ends_the_visit_and_costs_no_try(guardian: Guardian, lose_reader) -> None:
    guardian.to_pin()
    tries = guardian.card.pin_tries_left
    lose_reader()
    guardian.session.submit_pin(PIN)

    view = guardian.expect(Step.WELCOME)
    assert view.notice == "READER_LOST"
    assert view.pin_error is None and view.pin_tries_left is None
    assert not guardian.session.visit_under_way
    assert guardian.card.pin_tries_left == tries


def test_a_card_inserted_while_out_of_service_is_read_when_the_guardian_begins(guardian: Guardian) -> None:
    guardian.session.out_of_service("DATABASE_UNAVAILABLE")
    guardian.insert()
    guardian.expect(Step.OUT_OF_SERVICE)
    guardian.session.out_of_service(None)
    guardian.expect(Step.WELCOME)

    guardian.hold()
    guardian.session.begin()

    guardian.expect(Step.READING)
    guardian.work()
    guardian.expect(Step.HOLDER)


def test_out_of_service_between_visits_waits_for_the_visit_to_end(guardian: Guardian) -> None:
    # An operator's remote switch: never in the middle of a visit (the caller tries again after it).
    guardian.to_child_id()
    assert guardian.session.out_of_service("MAINTENANCE", "back at two", between_visits=True) is False
    view = guardian.expect(Step.CHILD_ID)
    assert view.out_of_service is None and guardian.session.out_of_service_reasons == ()
    guardian.session.finish()
    guardian.expect(Step.TAKE_CARD)  # the visit is over: now it applies
    assert guardian.session.out_of_service("MAINTENANCE", "back at two", between_visits=True) is True
    view = guardian.expect(Step.OUT_OF_SERVICE)
    assert view.service_message == "back at two"
