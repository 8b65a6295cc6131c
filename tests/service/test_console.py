"""The operator console over real HTTP on SQLite and PostgreSQL: lockout kept across a restart, CSRF refused, sessions
that end, every action audited with the operator's ID, /metrics parsed as Prometheus text."""
from __future__ import annotations

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from registry_service.app import create_app
from registry_service.service import Service
from tests.service.console_client import csrf_of, outcome_of, sign_in
from tests.service.heartbeat_fuzzer import PATH, valid_beat
from tests.service.uvicorn_thread import ServiceThread
from tests.unit.core.test_registry_port import ZHANG_CARD, ZHANG_XIAOYU

OPERATOR, PASSWORD = "ops-1", "correct horse battery"


@pytest.fixture
def operator(running_service):
    running_service.service.operators.add(OPERATOR, PASSWORD)
    return running_service


def audit_details(running_service, kind: str) -> list[str]:
    return [event.detail for event in running_service.service.registry.audit_events([kind])]


def test_wrong_passwords_lock_the_account_and_a_restarted_service_keeps_it_locked(operator) -> None:
    tries = operator.settings.console_lockout_tries
    first = Service.open(operator.settings, operator.clock)
    thread = ServiceThread(create_app(operator.settings, service=first)).start()
    try:
        with httpx.Client(base_url=thread.base_url, timeout=10) as client:
            answers = [sign_in(client, OPERATOR, "wrong password!") for _ in range(tries)]
    finally:
        thread.stop()
        first.close()
    assert [outcome_of(a) for a in answers] == ["wrong"] * (tries - 1) + ["locked"]
    assert all(a.status_code == 401 for a in answers) and "还可尝试 1 次" in answers[-2].text
    second = Service.open(operator.settings, operator.clock)  # a new process would read the same rows
    thread = ServiceThread(create_app(operator.settings, service=second)).start()
    try:
        with httpx.Client(base_url=thread.base_url, timeout=10) as client:
            refused = sign_in(client, OPERATOR, PASSWORD)
            assert refused.status_code == 401 and outcome_of(refused) == "locked"
            second.operators.unlock(OPERATOR)
            assert sign_in(client, OPERATOR, PASSWORD).status_code == 303
    finally:
        thread.stop()
        second.close()
    details = audit_details(operator, "console_sign_in_wrong") + audit_details(operator, "console_sign_in_locked")
    assert len(details) == tries + 1 and all(d == f"operator={OPERATOR}" for d in details)
    assert PASSWORD not in str(operator.service.registry.audit_events())


def test_an_unknown_operator_is_told_the_same_as_a_wrong_password(operator) -> None:
    with operator.client() as client:
        unknown, wrong = sign_in(client, "nobody", PASSWORD), sign_in(client, OPERATOR, "not the password")
    assert outcome_of(unknown) == outcome_of(wrong) == "wrong" and unknown.status_code == wrong.status_code == 401


def test_a_form_posted_without_its_csrf_token_or_with_another_is_refused_403(operator) -> None:
    operator.kiosk("HALL-1")
    with operator.client() as client:
        forged_sign_in = client.post("/console/sign-in", data={"operator_id": OPERATOR, "password": PASSWORD})
        assert forged_sign_in.status_code == 403 and outcome_of(forged_sign_in) == "csrf"
        assert sign_in(client, OPERATOR, PASSWORD).status_code == 303
        page = client.get("/console/kiosks/HALL-1")
        token = csrf_of(page)
        order = {"message_zh": "暂停服务", "message_en": "Closed"}
        for sent in ({}, {"csrf": ""}, {"csrf": token[:-1] + ("A" if token[-1] != "A" else "B")}):
            refused = client.post("/console/kiosks/HALL-1/out-of-service", data={**order, **sent})
            assert refused.status_code == 403 and outcome_of(refused) == "csrf", refused.text[:300]
            assert "页面已过期或来源不明" in refused.text
        assert client.post("/console/purge").status_code == 403
        assert client.post("/console/activations/1/cancel", data={"csrf": "guess"}).status_code == 403
        assert operator.service.fleet.statuses("HALL-1")[0].order is None
        done = client.post("/console/kiosks/HALL-1/out-of-service", data={**order, "csrf": token})
        assert done.status_code == 303
    assert operator.service.fleet.statuses("HALL-1")[0].order is not None


def test_a_session_ends_after_console_session_seconds(operator) -> None:
    with operator.client() as client:
        assert sign_in(client, OPERATOR, PASSWORD).status_code == 303
        cookie = client.cookies.jar
        assert any(c.name == "ecard_console" and c.has_nonstandard_attr("HttpOnly") for c in cookie)
        assert client.get("/console").status_code == 200 and client.get("/console/fleet").status_code == 200
        operator.clock.advance(operator.settings.console_session_seconds - 1)
        assert client.get("/console").status_code == 200
        operator.clock.advance(1)
        ended = client.get("/console")
        assert ended.status_code == 303 and ended.headers["location"] == "/console/sign-in?expired=1"
        assert client.get("/console/fleet").status_code == 401
        assert outcome_of(client.get(ended.headers["location"])) == "expired"


def test_the_session_cookie_is_strict_and_secure_when_the_setting_says(operator) -> None:
    secure = operator.settings.replaced(console_secure_cookie=True)
    service = Service.open(secure, operator.clock)
    thread = ServiceThread(create_app(secure, service=service)).start()
    try:
        with httpx.Client(base_url=thread.base_url, timeout=10) as client:
            answer = sign_in(client, OPERATOR, PASSWORD)
    finally:
        thread.stop()
        service.close()
    set_cookie = [v for k, v in answer.headers.multi_items() if k == "set-cookie" and v.startswith("ecard_console=")]
    assert len(set_cookie) == 1
    assert {"HttpOnly", "SameSite=strict", "Secure", "Path=/console"} <= {p.strip() for p in set_cookie[0].split(";")}


def test_every_console_action_is_audited_with_the_operators_id(operator) -> None:
    operator.kiosk("HALL-2")
    local = operator.service.for_kiosk("HALL-2")
    pending = local.register(ZHANG_CARD, ZHANG_XIAOYU, "console-key-0001")
    with operator.client() as client:
        assert sign_in(client, OPERATOR, PASSWORD).status_code == 303
        listed = client.get("/console/activations")
        assert f'id="ecard-{pending.ecard_id}"' in listed.text
        assert ZHANG_XIAOYU not in listed.text and "张晓雨" not in listed.text and "4301**********0029" in listed.text
        cancelled = client.post(f"/console/activations/{pending.ecard_id}/cancel", data={"csrf": csrf_of(listed)},
                                follow_redirects=True)
        assert outcome_of(cancelled) == "cancelled"
        again = client.post(f"/console/activations/{pending.ecard_id}/cancel", data={"csrf": csrf_of(listed)},
                            follow_redirects=True)
        assert outcome_of(again) == "not_pending"
        operator.clock.advance(3600)
        purged = client.post("/console/purge", data={"csrf": csrf_of(listed)})
        assert outcome_of(purged) == "purged"
        token = csrf_of(listed)
        client.post("/console/kiosks/HALL-2/out-of-service", data={"csrf": token, "message_zh": "维护中",
                                                                   "message_en": "Maintenance"})
        client.post("/console/kiosks/HALL-2/in-service", data={"csrf": token})
        trail = client.get("/console/kiosks/HALL-2")
        assert trail.text.count(f"operator={OPERATOR}") == 2 and "ecard_registered" in trail.text
        assert ZHANG_XIAOYU not in trail.text  # the audit shows masked IDs only
        client.post("/console/sign-out", data={"csrf": token})
        assert client.get("/console").status_code == 303
    for kind in ("console_sign_in_signed_in", "console_cancel_activation", "console_purge_expired",
                 "console_out_of_service", "console_in_service", "console_sign_out"):
        details = audit_details(operator, kind)
        assert details and details[0].startswith(f"operator={OPERATOR}"), kind


def test_an_order_needs_both_messages(operator) -> None:
    operator.kiosk("HALL-3")
    with operator.client() as client:
        sign_in(client, OPERATOR, PASSWORD)
        token = csrf_of(client.get("/console/kiosks/HALL-3"))
        for zh, en in (("", "Closed"), ("暂停", ""), ("暂停\u0000", "Closed"), ("长" * 201, "Closed")):
            refused = client.post("/console/kiosks/HALL-3/out-of-service",
                                  data={"csrf": token, "message_zh": zh, "message_en": en})
            assert refused.status_code == 422 and outcome_of(refused) == "message_needed"
        assert client.get("/console/kiosks/NO-SUCH").status_code == 404
    assert operator.service.fleet.statuses("HALL-3")[0].order is None


def test_metrics_parse_as_prometheus_text_with_route_templates_and_the_fleet(running_service) -> None:
    credential = running_service.kiosk("HALL-8")
    running_service.kiosk("HALL-9")  # never heard from: red
    running_service.service.for_kiosk("HALL-8").register(ZHANG_CARD, ZHANG_XIAOYU, "metrics-key-0001")
    with running_service.client(credential) as kiosk:
        kiosk.post(PATH, json=valid_beat())
        kiosk.get("/v1/kiosk/tickets/424242")
        kiosk.post(PATH, json=valid_beat(state="asleep"))
    with running_service.client() as scraper:
        scraper.post(PATH, json=valid_beat())
        scraper.get("/no/such/path/8731")
        text = scraper.get("/metrics").text
    families = {family.name: family for family in text_string_to_metric_families(text)}
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value for f in families.values() for s in f.samples}
    routes = {s.labels.get("route") for s in families["ecard_registry_request_seconds"].samples}
    assert {"/v1/kiosk/heartbeat", "/v1/kiosk/tickets/{ticket_id}", "unmatched"} <= routes
    assert not any("424242" in r or "8731" in r for r in routes if r)
    assert samples[("ecard_registry_kiosks", (("state", "green"),))] == 1
    assert samples[("ecard_registry_kiosks", (("state", "red"),))] == 1
    assert samples[("ecard_registry_kiosk_red", (("kiosk", "HALL-9"),))] == 1
    assert samples[("ecard_registry_kiosk_refusals_today", (("code", "CHILD_TOO_OLD"),))] == 1
    assert samples[("ecard_registry_errors_total", (("code", "REQUEST_INVALID"),))] >= 1
    assert samples[("ecard_registry_errors_total", (("code", "KIOSK_CREDENTIAL_REFUSED"),))] >= 1
    assert samples[("ecard_registry_registrations_total", ())] >= 1
    assert families["ecard_registry_request_seconds"].type == "histogram"
