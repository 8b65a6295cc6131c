"""Tests the kiosk routes over a real uvicorn, through the HTTP adapter, on SQLite and PostgreSQL: the same answers as in-process."""
from __future__ import annotations

import dataclasses
import json

import pytest
import sqlalchemy as sa

from kiosk.domain import CardStatus
from kiosk.errors import KioskError
from kiosk.registry.port import PendingRegistration, Registration, TicketStatus
from kiosk.registry.records import RequestRejected
from kiosk.registry.service_client import ServiceRegistry, ServiceTimeouts
from tests.unit.core.test_registry_port import (
    HUANG_QIANG,
    LI_CARD,
    LI_JIAYI,
    LI_NA,
    LI_ZIHAN,
    ZHANG_CARD,
    ZHANG_MINGXUAN,
    ZHANG_WEI,
    ZHANG_XIAOYU,
    card_of,
)

QUICK = ServiceTimeouts(connect_seconds=2, read_seconds=5, total_seconds=5, retries=1, backoff_seconds=0.05)


@pytest.fixture
def hall(running_service):
    """Kiosk HALL-7 of the service, through the HTTP adapter, and the same kiosk in-process (for comparing)."""
    adapter = ServiceRegistry(running_service.base_url, running_service.kiosk("HALL-7"), QUICK)
    yield adapter, running_service.service.for_kiosk("HALL-7")
    adapter.close()


def test_the_reads_answer_over_http_what_the_embedded_port_answers(hall) -> None:
    remote, local = hall
    for number in ("L43000001", "L43000004", "no-such-card"):
        assert remote.card_status(number) == local.card_status(number)
    assert remote.card_status("no-such-card") is CardStatus.UNKNOWN
    for guardian in (ZHANG_WEI, LI_NA, HUANG_QIANG):
        for child in (ZHANG_XIAOYU, ZHANG_MINGXUAN, LI_JIAYI, "430102201803030019"):
            assert remote.child_facts(guardian, child) == local.child_facts(guardian, child)
        assert remote.pending_registrations(guardian) == local.pending_registrations(guardian)
        assert remote.guardian_children(guardian) == local.guardian_children(guardian)
    children = remote.guardian_children(LI_NA)
    assert children and {child.resident_id for child in children} >= {LI_JIAYI}
    assert all("*" in child.masked_id for child in children)
    pending = remote.pending_registrations(LI_NA)
    assert pending and all(isinstance(p, PendingRegistration) for p in pending)
    assert pending[0].child_masked_name == "李*怡" and "李佳怡" not in str(pending) and LI_JIAYI not in str(pending)
    health = remote.health()
    assert health.ok and health.schema_state == "current"


def test_a_registration_over_http_gets_its_ticket_and_the_phone_activates_it(hall, running_service) -> None:
    remote, _ = hall
    answer = remote.register(ZHANG_CARD, ZHANG_XIAOYU, "http-key-0001")
    assert answer.outcome == "registered" and answer.ticket is not None
    ticket = answer.ticket
    assert ticket.url.startswith("https://ecard.example.gov.cn/a/")
    assert remote.ticket_state(ticket.ticket_id) == TicketStatus(ticket.ticket_id, "pending", ticket.expires_at,
                                                                  running_service.settings.activation_poll_seconds)
    running_service.service.registry.activate(ticket.url)
    assert remote.ticket_state(ticket.ticket_id).state == "activated"
    assert remote.issue_ticket(answer.ecard_id, ZHANG_CARD) == Registration("activated", answer.ecard_id)
    # A retry with the key: the same e-card, now active; nothing new.
    assert remote.register(ZHANG_CARD, ZHANG_XIAOYU, "http-key-0001") == Registration("activated", answer.ecard_id)


def test_the_service_checks_every_rule_itself(hall) -> None:
    remote, _ = hall
    refused = remote.register(card_of(ZHANG_WEI, "L43000001", pin=False), ZHANG_XIAOYU, "http-key-0002")
    assert refused.outcome == "refused" and "PIN_NOT_VERIFIED" in refused.codes
    assert remote.register(LI_CARD, ZHANG_XIAOYU, "http-key-0003").codes == ("NOT_GUARDIAN",)


def test_tickets_renew_withdraw_and_cancel_over_http(hall) -> None:
    remote, _ = hall
    first = remote.register(ZHANG_CARD, ZHANG_XIAOYU, "http-key-0004")
    renewed = remote.issue_ticket(first.ecard_id, ZHANG_CARD)
    assert renewed.outcome == "issued" and renewed.ticket.ticket_id != first.ticket.ticket_id
    assert remote.ticket_state(first.ticket.ticket_id).state == "revoked"
    assert remote.withdraw_ticket(renewed.ticket.ticket_id) is True
    assert remote.withdraw_ticket(renewed.ticket.ticket_id) is False
    assert remote.cancel(first.ecard_id, LI_CARD).codes == ("NOT_GUARDIAN",)
    assert remote.cancel(first.ecard_id, ZHANG_CARD).outcome == "cancelled"
    with pytest.raises(RequestRejected) as unknown:
        remote.issue_ticket(2_000_000, ZHANG_CARD)
    assert unknown.value.code == "ECARD_UNKNOWN"
    with pytest.raises(KioskError) as gone:
        remote.ticket_state(2_000_000)
    assert gone.value.code == "ACTIVATION_UNKNOWN"


def test_idempotency_keys_that_are_malformed_or_reused_are_rejected_as_in_process(hall) -> None:
    remote, _ = hall
    remote.register(ZHANG_CARD, ZHANG_XIAOYU, "http-key-0005")
    with pytest.raises(RequestRejected) as reused:
        remote.register(LI_CARD, LI_ZIHAN, "http-key-0005")
    assert reused.value.code == "IDEMPOTENCY_KEY_REUSED"
    for bad in ("short", "x" * 65, "with space key"):
        with pytest.raises(RequestRejected) as invalid:
            remote.register(ZHANG_CARD, ZHANG_XIAOYU, bad)
        assert invalid.value.code == "IDEMPOTENCY_KEY_INVALID"


def test_the_kiosk_id_comes_from_the_credential_never_from_the_body(running_service) -> None:
    credential = running_service.kiosk("HALL-7")
    with running_service.client(credential) as client:
        card = dataclasses.asdict(ZHANG_CARD) | {"expiry_date": ZHANG_CARD.expiry_date.isoformat()}
        smuggled = client.post("/v1/kiosk/registrations", headers={"Idempotency-Key": "http-key-0006"},
                               json={"card": card, "child_rid": ZHANG_XIAOYU, "kiosk_id": "SOMEONE-ELSE"})
        assert smuggled.status_code == 422 and "kiosk_id" in smuggled.json()["detail"]
        done = client.post("/v1/kiosk/registrations", headers={"Idempotency-Key": "http-key-0006"},
                           json={"card": card, "child_rid": ZHANG_XIAOYU})
        assert done.status_code == 200 and done.json()["outcome"] == "registered"
        assert client.post("/v1/kiosk/audit", json={"kind": "visit_ended", "detail": f"child {ZHANG_XIAOYU}"}
                           ).status_code == 204
    with running_service.service.database.connection("look") as connection:
        tickets = connection.execute(sa.text("SELECT DISTINCT kiosk_id FROM activation_ticket")).scalars().all()
        requests = connection.execute(sa.text("SELECT DISTINCT kiosk_id FROM registration_request")).scalars().all()
        events = connection.execute(sa.text(
            "SELECT kind, kiosk_id, detail FROM audit_event WHERE kind IN ('ecard_registered', 'visit_ended')")).all()
    assert tickets == ["HALL-7"] and requests == ["HALL-7"]
    assert sorted((kind, kiosk) for kind, kiosk, _ in events) == [("ecard_registered", "HALL-7"), ("visit_ended", "HALL-7")]
    assert all(ZHANG_XIAOYU not in detail for _, _, detail in events)


def test_unknown_and_revoked_credentials_get_401_with_the_reason(running_service) -> None:
    credential = running_service.kiosk("HALL-8")
    for header, reason in ((None, "missing"), ("Basic abc", "malformed"), ("Bearer " + "x" * 43, "unknown")):
        with running_service.client() as client:
            answer = client.get("/v1/kiosk/health", headers={"Authorization": header} if header else {})
        assert answer.status_code == 401 and answer.json()["reason"] == reason
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.headers["www-authenticate"].startswith("Bearer")
    adapter = ServiceRegistry(running_service.base_url, credential, QUICK)
    try:
        assert adapter.health().ok
        running_service.service.credentials.revoke("HALL-8", "box stolen from hall 3")
        with pytest.raises(KioskError) as refused:
            adapter.card_status("L43000001")
        assert refused.value.code == "SERVICE_CREDENTIAL_REFUSED"
        assert refused.value.detail.startswith("revoked:") and "box stolen from hall 3" in refused.value.detail
        assert not refused.value.entry.retriable
        health = adapter.health()
        assert not health.ok and health.detail.startswith("SERVICE_CREDENTIAL_REFUSED: revoked")
        fresh = ServiceRegistry(running_service.base_url, running_service.kiosk("HALL-8"), QUICK)  # a new credential
        assert fresh.card_status("L43000001") is CardStatus.NORMAL
        fresh.close()
    finally:
        adapter.close()


def test_an_unreachable_service_and_one_that_answers_something_else_are_catalogued(running_service) -> None:
    from tests.postgres_server import free_port

    nobody = ServiceRegistry(f"http://127.0.0.1:{free_port()}", "x" * 43, QUICK)
    with pytest.raises(KioskError) as unreachable:
        nobody.card_status("L43000001")
    assert unreachable.value.code == "SERVICE_UNREACHABLE" and "ConnectError" in unreachable.value.detail
    assert not nobody.health().ok
    nobody.close()
    elsewhere = ServiceRegistry(running_service.base_url + "/not-the-api", running_service.kiosk("HALL-9"), QUICK)
    with pytest.raises(KioskError) as bad:
        elsewhere.ticket_state(1)
    assert bad.value.code == "SERVICE_BAD_ANSWER" and "404" in bad.value.detail
    elsewhere.close()


def test_bad_bodies_are_422_naming_the_field(running_service) -> None:
    credential = running_service.kiosk("HALL-10")
    with running_service.client(credential) as client:
        cases = [
            ("/v1/kiosk/card-status", {"card_number": ""}, "card_number"),
            ("/v1/kiosk/card-status", {"card_number": "L4\u0000"}, "card_number"),
            ("/v1/kiosk/child-facts", {"guardian_rid": ZHANG_WEI}, "child_rid"),
            ("/v1/kiosk/child-facts", {"guardian_rid": ZHANG_WEI, "child_rid": 5}, "child_rid"),
            ("/v1/kiosk/pending-registrations", {"guardian_rid": "\ud800"}, "guardian_rid"),
            ("/v1/kiosk/audit", {"kind": "", "detail": ""}, "kind"),
            ("/v1/kiosk/ecards/0/cancel", {"card": {}}, "ecard_id"),
        ]
        for path, body, field in cases:
            answer = client.post(path, content=json.dumps(body), headers={"content-type": "application/json"})
            assert answer.status_code == 422, (path, body, answer.text)
            assert field in answer.json()["detail"] and answer.json()["code"] == "REQUEST_INVALID"
        garbage = client.post("/v1/kiosk/card-status", content=b"{not json", headers={"content-type": "application/json"})
        assert garbage.status_code == 422
        no_key = client.post("/v1/kiosk/registrations", json={"card": {}, "child_rid": ZHANG_XIAOYU})
        assert no_key.status_code == 422 and "Idempotency-Key" in no_key.json()["detail"]
