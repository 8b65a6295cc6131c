"""The database lost mid-visit: the step shows DATABASE_UNAVAILABLE, nothing is half-written, nothing escapes."""
from __future__ import annotations

from kiosk.domain import ECardState
from kiosk.session import Step

from .conftest import (
    ZHANG_XIAOYU,
    DatabaseOutage,
    Guardian,
    allow_inserts,
    ecards_of,
    refuse_inserts,
    ticket_count,
)


def expect_database_error(guardian: Guardian):
    view = guardian.expect(Step.ERROR)
    assert view.error == "DATABASE_UNAVAILABLE"
    assert view.notice is None
    return view


def test_database_lost_at_the_child_lookup_shows_database_unavailable(guardian: Guardian, outage: DatabaseOutage) -> None:
    guardian.to_child_id()
    outage.start()

    guardian.session.submit_child_id(ZHANG_XIAOYU)

    view = expect_database_error(guardian)
    assert view.child is None and view.decision is None
    outage.end()
    assert ecards_of(guardian.registry, ZHANG_XIAOYU) == []


def test_database_lost_at_consent_registers_nothing(guardian: Guardian, outage: DatabaseOutage) -> None:
    guardian.to_eligible()
    tickets = ticket_count(guardian.registry)
    outage.start()

    guardian.session.consent()

    view = expect_database_error(guardian)
    assert view.ticket is None
    outage.end()
    assert ecards_of(guardian.registry, ZHANG_XIAOYU) == []
    assert ticket_count(guardian.registry) == tickets


def test_database_lost_at_the_card_read_shows_database_unavailable(guardian: Guardian, outage: DatabaseOutage) -> None:
    guardian.to_reading()
    outage.start()
    guardian.work()
    view = expect_database_error(guardian)
    assert view.holder is None


def test_a_registration_whose_write_fails_half_way_leaves_no_e_card(guardian: Guardian) -> None:
    guardian.to_eligible()
    refuse_inserts(guardian.registry, "audit_event")  # the e-card row goes in, its audit row cannot

    guardian.session.consent()

    expect_database_error(guardian)
    assert ecards_of(guardian.registry, ZHANG_XIAOYU) == []


def test_a_ticket_that_cannot_be_written_leaves_no_pending_e_card_without_a_ticket(guardian: Guardian) -> None:
    # The e-card and its first ticket are one transaction: a failure at the ticket (a full disk, a kill) takes the
    # e-card with it, where two transactions left a pending e-card with no code to activate it.
    guardian.to_eligible()
    refuse_inserts(guardian.registry, "activation_ticket")

    guardian.session.consent()

    expect_database_error(guardian)
    assert ecards_of(guardian.registry, ZHANG_XIAOYU) == []
    assert ticket_count(guardian.registry) == 0

    allow_inserts(guardian.registry, "activation_ticket")
    guardian.remove()
    guardian.expect(Step.WELCOME)
    guardian.to_eligible()
    guardian.session.consent()
    assert guardian.expect(Step.ACTIVATION).ticket is not None
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.PENDING.value]
    assert ticket_count(guardian.registry) == 1


def test_database_lost_while_resuming_shows_database_unavailable(guardian: Guardian, outage: DatabaseOutage) -> None:
    guardian.to_activation()
    guardian.remove()
    guardian.to_child_id()
    guardian.session.submit_child_id(ZHANG_XIAOYU)
    guardian.hold()
    guardian.session.confirm_child()
    guardian.expect(Step.REGISTERING)
    outage.start()

    guardian.work()

    expect_database_error(guardian)
    outage.end()
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.PENDING.value]


def test_database_lost_while_polling_is_tolerated_a_few_times_then_shown(guardian: Guardian, outage: DatabaseOutage) -> None:
    guardian.to_activation()
    tolerated = guardian.session.policy.poll_failures_tolerated
    outage.start()

    for _ in range(tolerated - 1):
        guardian.session.check_activation()
        guardian.expect(Step.ACTIVATION)
    guardian.session.check_activation()

    expect_database_error(guardian)
    outage.end()
    assert [state for _, state in ecards_of(guardian.registry, ZHANG_XIAOYU)] == [ECardState.PENDING.value]


def test_a_poll_that_works_again_resets_the_tolerated_failures(guardian: Guardian, outage: DatabaseOutage) -> None:
    guardian.to_activation()
    tolerated = guardian.session.policy.poll_failures_tolerated
    for _ in range(3):
        outage.start()
        for _ in range(tolerated - 1):
            guardian.session.check_activation()
        outage.end()
        guardian.session.check_activation()
        guardian.expect(Step.ACTIVATION)


def test_pending_registrations_that_cannot_be_listed_do_not_stop_the_visit(guardian: Guardian, outage: DatabaseOutage) -> None:
    guardian.to_pin()
    outage.start()
    guardian.session.submit_pin("123456")  # the PIN is the card's business; the pending list is the database's
    view = guardian.expect(Step.CHILD_ID)
    assert view.pending == () and view.error is None
    outage.end()
    guardian.session.submit_child_id(ZHANG_XIAOYU)
    guardian.expect(Step.CHILD_CONFIRM)


def test_after_a_database_error_the_guardian_can_finish_and_the_visit_is_wiped(guardian: Guardian, outage: DatabaseOutage) -> None:
    guardian.to_eligible()
    outage.start()
    guardian.session.consent()
    expect_database_error(guardian)

    guardian.session.finish()

    view = guardian.expect(Step.TAKE_CARD)
    assert view.error is None and view.holder is None
    assert not guardian.session.visit_under_way
    guardian.remove()
    guardian.expect(Step.WELCOME)
