"""Activation from the phone, bound to the app user, on SQLite and PostgreSQL: wrong people, wrong codes, the kiosk's polls."""
from __future__ import annotations


import pytest
import sqlalchemy as sa

from kiosk.eligibility import load_region
from kiosk.ports import ManualClock
from kiosk.registry import Registry
from kiosk.registry.activation import TicketPolicy
from kiosk.registry.local import LocalRegistry
from kiosk.registry.phone import PhoneDesk, PhoneLimits
from kiosk.registry.port import IssuedTicket, PresentedCard

from .conftest import REGIONS

URL = "https://ecard.example.gov.cn/activate"
ZHANG_WEI, ZHANG_XIAOYU = "430102198803150016", "430102201906010029"
LI_NA = "43010219900708004X"
STRANGER = "110101199003070011"  # a valid ID number nobody in the registry has
ZHANG_CARD = PresentedCard("L43000001", "2.00", None, ZHANG_WEI, True)
LIMITS = PhoneLimits(wrong_codes_per_window=4, window_seconds=60, wrong_tries_per_ticket=3)


@pytest.fixture
def port(demo_registry: Registry) -> LocalRegistry:
    return LocalRegistry(demo_registry, load_region(REGIONS / "default.toml"), TicketPolicy(URL, 300, 2.0))


@pytest.fixture
def phone(demo_registry: Registry) -> PhoneDesk:
    return PhoneDesk(demo_registry, LIMITS)


@pytest.fixture
def ticket(port: LocalRegistry) -> IssuedTicket:
    registration = port.register(ZHANG_CARD, ZHANG_XIAOYU, "phone-test-0001")
    assert registration.outcome == "registered" and registration.ticket is not None
    return registration.ticket


def test_the_guardian_who_registered_activates_by_the_qr_and_the_kiosk_sees_it(
    phone: PhoneDesk, port: LocalRegistry, ticket: IssuedTicket
) -> None:
    answer = phone.activate(ticket.url, ZHANG_WEI, "app-1")
    assert answer.outcome == "activated" and answer.ok
    assert (answer.ticket_id, answer.ecard_id, answer.child_masked_id) == (
        ticket.ticket_id, ticket.ecard_id, "4301**********0029")
    assert port.ticket_state(ticket.ticket_id).state == "activated"
    assert phone.poll(ticket.ticket_id, 2.0).error is None
    assert phone.activate(ticket.url, ZHANG_WEI, "app-1").outcome == "already_used"


def test_the_typed_code_works_for_the_guardian_in_any_case_with_spaces(phone: PhoneDesk, ticket: IssuedTicket) -> None:
    typed = " " + ticket.user_code.lower().replace("-", " ") + " "
    assert phone.activate(typed, ZHANG_WEI.lower(), "app-1").outcome == "activated"


def test_another_guardian_is_denied_and_the_third_stranger_locks_the_ticket(
    phone: PhoneDesk, port: LocalRegistry, ticket: IssuedTicket, demo_registry: Registry
) -> None:
    first = phone.activate(ticket.url, LI_NA, "app-li")
    assert (first.outcome, first.tries_left) == ("access_denied", 2)
    assert phone.activate(ticket.user_code, STRANGER, "app-x").tries_left == 1
    assert port.ticket_state(ticket.ticket_id).state == "pending"  # not yet: the guardian may still use it
    third = phone.activate(ticket.url, "not an ID", "app-y")
    assert (third.outcome, third.tries_left) == ("access_denied", 0)
    # Locked: even the guardian is refused, the kiosk sees it revoked (and draws a fresh QR).
    assert phone.activate(ticket.url, ZHANG_WEI, "app-1").outcome == "access_denied"
    assert port.ticket_state(ticket.ticket_id).state == "revoked"
    polled = phone.poll(ticket.ticket_id, 2.0)
    assert (polled.state, polled.error) == ("revoked", "access_denied")
    assert preview_state(phone, ticket.url) == "locked"
    refused = [e for e in demo_registry.audit_events(["activation_refused"]) if f"ticket={ticket.ticket_id}" in e.detail]
    assert len(refused) == 3 and all(e.kiosk_id == demo_registry.kiosk_id for e in refused)
    fresh = port.issue_ticket(ticket.ecard_id, ZHANG_CARD).ticket
    assert fresh is not None and phone.activate(fresh.url, ZHANG_WEI, "app-1").outcome == "activated"


def test_wrong_codes_from_one_client_earn_slow_down_until_the_window_ends(
    phone: PhoneDesk, ticket: IssuedTicket, clock: ManualClock
) -> None:
    wrong = ["BCDF-GHJK", "BCDF-GHJL", "https://ecard.example.gov.cn/activate?t=nothing", "BCDF-GHJM"]
    answers = [phone.activate(code, ZHANG_WEI, "app-guess").outcome for code in wrong]
    assert answers == ["invalid_code"] * 4
    blocked = phone.activate(ticket.user_code, ZHANG_WEI, "app-guess")
    assert blocked.outcome == "slow_down" and 0 < blocked.retry_after_seconds <= 60
    assert phone.preview(ticket.user_code, "app-guess").outcome == "slow_down"
    # Another client is not held up by this one.
    assert phone.preview(ticket.user_code, "app-other").outcome == "found"
    clock.advance(61)
    assert phone.activate(ticket.user_code, ZHANG_WEI, "app-guess").outcome == "activated"


def test_an_expired_ticket_says_expired_token_to_the_app_and_to_the_kiosk(
    phone: PhoneDesk, ticket: IssuedTicket, clock: ManualClock
) -> None:
    clock.advance(301)
    assert phone.activate(ticket.url, ZHANG_WEI, "app-1").outcome == "expired_token"
    polled = phone.poll(ticket.ticket_id, 2.0)
    assert (polled.state, polled.error) == ("expired", "expired_token")


def test_a_replaced_ticket_is_expired_for_the_app(phone: PhoneDesk, port: LocalRegistry, ticket: IssuedTicket) -> None:
    port.issue_ticket(ticket.ecard_id, ZHANG_CARD)
    assert phone.activate(ticket.url, ZHANG_WEI, "app-1").outcome == "expired_token"


def test_a_kiosk_polling_too_fast_is_told_slow_down_and_waits_five_seconds_more(
    phone: PhoneDesk, ticket: IssuedTicket, clock: ManualClock
) -> None:
    first = phone.poll(ticket.ticket_id, 2.0)
    assert (first.error, first.interval_seconds) == ("authorization_pending", 2.0)
    clock.advance(2)
    assert phone.poll(ticket.ticket_id, 2.0).error == "authorization_pending"
    clock.advance(0.5)
    hurried = phone.poll(ticket.ticket_id, 2.0)
    assert (hurried.error, hurried.interval_seconds) == ("slow_down", 7.0)
    clock.advance(3)  # still short of the new interval
    assert phone.poll(ticket.ticket_id, 2.0).interval_seconds == 12.0
    clock.advance(12)
    obeyed = phone.poll(ticket.ticket_id, 2.0)
    assert (obeyed.error, obeyed.interval_seconds) == ("authorization_pending", 12.0)


def pace_of(registry: Registry, ticket_id: int) -> tuple | None:
    """The poll's pace row of the ticket (when it was last polled while pending, its slow_downs), if any."""
    with registry.database.connection("test: poll pace") as connection:
        row = connection.execute(sa.text("SELECT window_start, hits FROM throttle WHERE key = :key"),
                                 {"key": f"poll:{ticket_id}"}).first()
    return None if row is None else tuple(row)


def test_a_poll_that_finds_the_ticket_no_longer_pending_writes_no_pace(
    phone: PhoneDesk, ticket: IssuedTicket, clock: ManualClock, demo_registry: Registry
) -> None:
    phone.poll(ticket.ticket_id, 2.0)
    paced = pace_of(demo_registry, ticket.ticket_id)
    assert paced is not None and paced[1] == 0
    clock.advance(1)
    assert phone.activate(ticket.url, ZHANG_WEI, "app-1").outcome == "activated"
    hurried = phone.poll(ticket.ticket_id, 2.0)  # too soon, but there is nothing left to wait for
    assert (hurried.state, hurried.error, hurried.interval_seconds) == ("activated", None, 2.0)
    assert pace_of(demo_registry, ticket.ticket_id) == paced  # the last poll read, and wrote nothing


def test_a_ticket_first_polled_after_it_expired_gets_no_pace_row(
    phone: PhoneDesk, ticket: IssuedTicket, clock: ManualClock, demo_registry: Registry
) -> None:
    clock.advance(301)  # the policy's 300 s have passed
    assert phone.poll(ticket.ticket_id, 2.0).error == "expired_token"
    assert phone.poll(ticket.ticket_id, 2.0).error == "expired_token"  # at once: still no slow_down
    assert pace_of(demo_registry, ticket.ticket_id) is None


def test_the_confirm_page_preview_shows_only_what_the_kiosk_screen_showed(
    phone: PhoneDesk, ticket: IssuedTicket, demo_registry: Registry
) -> None:
    answer = phone.preview(ticket.url, "app-1")
    assert answer.outcome == "found" and answer.preview is not None
    assert (answer.preview.ticket_id, answer.preview.state, answer.preview.child_masked_name,
            answer.preview.kiosk_id, answer.preview.expires_at) == (
        ticket.ticket_id, "pending", "张*雨", demo_registry.kiosk_id, ticket.expires_at)
    assert phone.preview("BCDF-GHJK", "app-1").outcome == "invalid_code"


def test_a_polled_unknown_ticket_is_a_catalogued_error(phone: PhoneDesk) -> None:
    from kiosk.errors import KioskError

    with pytest.raises(KioskError) as raised:
        phone.poll(987654, 2.0)
    assert raised.value.code == "ACTIVATION_UNKNOWN"


def preview_state(phone: PhoneDesk, presented: str) -> str | None:
    answer = phone.preview(presented, "app-preview")
    return answer.preview.state if answer.preview is not None else None


def test_the_purge_forgets_throttle_rows_a_day_old(phone: PhoneDesk, ticket: IssuedTicket, demo_registry: Registry,
                                                   clock: ManualClock) -> None:
    phone.activate("BCDF-GHJK", ZHANG_WEI, "app-guess")
    phone.poll(ticket.ticket_id, 2.0)
    clock.advance(86401)
    demo_registry.purge_expired()
    with demo_registry.database.connection("count") as connection:
        assert connection.execute(sa.text("SELECT count(*) FROM throttle")).scalar_one() == 0
