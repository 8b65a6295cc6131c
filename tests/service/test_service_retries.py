"""Tests that a registration whose answer was lost is retried with its Idempotency-Key and makes one e-card."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from kiosk.errors import KioskError
from kiosk.registry.service_client import ServiceRegistry, ServiceTimeouts
from tests.service.dropping_proxy import DroppingProxy
from tests.unit.core.test_registry_port import ZHANG_CARD, ZHANG_XIAOYU

RETRYING = ServiceTimeouts(connect_seconds=2, read_seconds=5, total_seconds=10, retries=2, backoff_seconds=0.01)


def ecards_of(service, child_rid: str) -> list[int]:
    with service.database.connection("look") as connection:
        return connection.execute(sa.text(
            "SELECT e.id FROM ecard e JOIN person p ON p.id = e.child_id WHERE p.resident_id = :c"), {"c": child_rid}
        ).scalars().all()


def test_a_registration_retried_after_its_answer_was_dropped_gets_the_one_e_card(running_service) -> None:
    upstream = int(running_service.base_url.rsplit(":", 1)[1])
    proxy = DroppingProxy(upstream, b"POST /v1/kiosk/registrations")
    adapter = ServiceRegistry(proxy.base_url, running_service.kiosk("HALL-11"), RETRYING)
    try:
        answer = adapter.register(ZHANG_CARD, ZHANG_XIAOYU, "dropped-0001")
    finally:
        adapter.close()
        proxy.close()
    assert proxy.dropped == 1
    assert answer.outcome == "replayed" and answer.ticket is not None  # the first try committed
    assert ecards_of(running_service.service, ZHANG_XIAOYU) == [answer.ecard_id]
    ticket_states = [running_service.service.for_kiosk("HALL-11").ticket_state(t).state
                     for t in (answer.ticket.ticket_id - 1, answer.ticket.ticket_id)]
    assert ticket_states == ["revoked", "pending"]  # the lost answer's ticket is dead, the one shown lives


def test_a_ticket_issue_whose_answer_was_dropped_is_not_retried(running_service) -> None:
    upstream = int(running_service.base_url.rsplit(":", 1)[1])
    credential = running_service.kiosk("HALL-12")
    direct = ServiceRegistry(running_service.base_url, credential, RETRYING)
    first = direct.register(ZHANG_CARD, ZHANG_XIAOYU, "dropped-0002")
    direct.close()
    proxy = DroppingProxy(upstream, f"POST /v1/kiosk/ecards/{first.ecard_id}/tickets".encode())
    adapter = ServiceRegistry(proxy.base_url, credential, RETRYING)
    try:
        with pytest.raises(KioskError) as lost:
            adapter.issue_ticket(first.ecard_id, ZHANG_CARD)
    finally:
        adapter.close()
        proxy.close()
    assert lost.value.code == "SERVICE_UNREACHABLE" and lost.value.entry.retriable
    assert proxy.dropped == 1 and proxy.drops_left == 0
