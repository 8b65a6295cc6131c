"""The session's registry work over the registry port (LocalRegistry on SQLite): port methods only, a registration in
one `register` call, its idempotency key kept for a retry, an answer lost after the commit losing nothing."""
from __future__ import annotations

import inspect

from sqlmodel import select

from kiosk.domain import ECardState
from kiosk.registry.models import ActivationTicket
from kiosk.errors import KioskError
from kiosk.registry.port import RegistryPort
from kiosk.session import Step

from .conftest import LI_NA_CARD, PIN, ecards_of, ticket_count

LI_ZIHAN = "43010220210214005X"  # 李娜's child, eligible
PORT_METHODS = {name for name, _ in inspect.getmembers(RegistryPort, inspect.isfunction) if not name.startswith("_")}


class LosingRegistrations:
    """The real registry port, but the first `lose` registrations fail as a dropped connection would: before the
    request reached the registry (`committed` False) or after it committed (the answer lost on the way back)."""

    def __init__(self, real, lose: int, *, committed: bool) -> None:
        self._real = real
        self._lose = lose
        self._committed = committed
        self.calls: list[str] = []
        self.keys: list[str] = []

    def __getattr__(self, name: str):
        attribute = getattr(self._real, name)
        if not callable(attribute):
            return attribute

        def call(*args, **kwargs):
            self.calls.append(name)
            if name != "register":
                return attribute(*args, **kwargs)
            self.keys.append(args[2])
            if self._lose <= 0:
                return attribute(*args, **kwargs)
            self._lose -= 1
            if self._committed:
                attribute(*args, **kwargs)
            raise KioskError("SERVICE_UNREACHABLE", "connection dropped (test)")

        return call


def to_eligible(own) -> None:
    session = own.session
    own.bench.insert(LI_NA_CARD)
    own.waiter.until(lambda v: v.step is Step.HOLDER)
    session.confirm_holder()
    session.submit_pin(PIN)
    own.waiter.until(lambda v: v.step is Step.CHILD_ID)
    session.submit_child_id(LI_ZIHAN)
    own.waiter.until(lambda v: v.step is Step.CHILD_CONFIRM)
    session.confirm_child()
    own.waiter.until(lambda v: v.step is Step.ELIGIBLE)


def test_a_registration_is_one_register_call_of_the_port_and_the_session_calls_nothing_else(own_session) -> None:
    own = own_session(registry=lambda port: LosingRegistrations(port, 0, committed=False))
    to_eligible(own)
    own.session.consent()
    view = own.waiter.until(lambda v: v.step is Step.ACTIVATION)

    calls = own.registry.calls
    assert set(calls) <= PORT_METHODS, set(calls) - PORT_METHODS
    assert calls.count("register") == 1 and "issue_ticket" not in calls  # the e-card and its first ticket at once
    assert view.ticket is not None
    assert [state for _, state in ecards_of(own.registry.registry, LI_ZIHAN)] == [ECardState.PENDING.value]
    assert ticket_count(own.registry.registry) == 1


def test_a_registration_that_never_reached_the_registry_is_retried_with_the_same_key(own_session) -> None:
    own = own_session(registry=lambda port: LosingRegistrations(port, 1, committed=False))
    to_eligible(own)
    own.session.consent()
    view = own.waiter.until(lambda v: v.step is Step.ERROR)
    assert view.error == "SERVICE_UNREACHABLE" and own.session.retry()  # retriable, the card still in
    assert ecards_of(own.registry.registry, LI_ZIHAN) == []

    own.waiter.until(lambda v: v.step is Step.HOLDER)
    own.session.confirm_holder()
    own.session.submit_pin(PIN)
    own.waiter.until(lambda v: v.step is Step.CHILD_ID)
    own.session.submit_child_id(LI_ZIHAN)
    own.waiter.until(lambda v: v.step is Step.CHILD_CONFIRM)
    own.session.confirm_child()
    own.waiter.until(lambda v: v.step is Step.ELIGIBLE)
    own.session.consent()
    own.waiter.until(lambda v: v.step is Step.ACTIVATION)

    first, again = own.registry.keys
    assert first == again and 8 <= len(first) <= 64
    assert [state for _, state in ecards_of(own.registry.registry, LI_ZIHAN)] == [ECardState.PENDING.value]


def test_a_registration_whose_answer_was_lost_after_the_commit_resumes_the_same_e_card(own_session) -> None:
    own = own_session(registry=lambda port: LosingRegistrations(port, 1, committed=True))
    to_eligible(own)
    own.session.consent()
    assert own.waiter.until(lambda v: v.step is Step.ERROR).error == "SERVICE_UNREACHABLE"
    (written,) = ecards_of(own.registry.registry, LI_ZIHAN)  # committed: kept

    own.session.retry()
    own.waiter.until(lambda v: v.step is Step.HOLDER)
    own.session.confirm_holder()
    own.session.submit_pin(PIN)
    own.waiter.until(lambda v: v.step is Step.CHILD_ID)
    own.session.submit_child_id(LI_ZIHAN)
    view = own.waiter.until(lambda v: v.step is Step.CHILD_CONFIRM)
    assert view.decision.resume  # the registry says the child's e-card waits: its code, not a second e-card
    own.session.confirm_child()
    assert own.waiter.until(lambda v: v.step is Step.ACTIVATION).ticket is not None
    assert ecards_of(own.registry.registry, LI_ZIHAN) == [written]


def test_a_new_visit_registers_with_a_key_of_its_own(own_session) -> None:
    own = own_session(registry=lambda port: LosingRegistrations(port, 1, committed=False))
    to_eligible(own)
    own.session.consent()
    own.waiter.until(lambda v: v.step is Step.ERROR)
    own.session.finish()
    own.bench.remove()
    own.waiter.until(lambda v: v.step is Step.WELCOME)
    to_eligible(own)
    own.session.consent()
    own.waiter.until(lambda v: v.step is Step.ACTIVATION)
    first, second = own.registry.keys
    assert first != second


def test_the_guardian_leaving_the_qr_withdraws_its_ticket(own_session) -> None:
    own = own_session()
    to_eligible(own)
    own.session.consent()
    own.waiter.until(lambda v: v.step is Step.ACTIVATION)
    port = own.registry
    with port.registry.database.transaction("test: the newest ticket") as db:
        ticket_id = db.exec(select(ActivationTicket.id).order_by(ActivationTicket.id.desc())).first()
    assert port.ticket_state(ticket_id).state == "pending"

    own.session.finish()  # the guardian walks away from the QR code unused
    assert port.ticket_state(ticket_id).state == "revoked"  # a photo of the screen is no use to anyone
