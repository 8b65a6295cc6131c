"""The phone routes over a real uvicorn (SQLite and PostgreSQL), and the races on PostgreSQL: kiosks and phones at once."""
from __future__ import annotations

import os
import threading
from typing import Callable, TypeVar

import httpx
import pytest
import sqlalchemy as sa

from kiosk.registry.service_client import ServiceRegistry, ServiceTimeouts
from tests.unit.core.test_registry_port import LI_NA, ZHANG_CARD, ZHANG_WEI, ZHANG_XIAOYU

T = TypeVar("T")
QUICK = ServiceTimeouts(connect_seconds=2, read_seconds=10, total_seconds=10, retries=1, backoff_seconds=0.05)
JOIN_S = 60
ROUNDS = int(os.environ.get("KIOSK_SERVICE_RACE_ROUNDS", "3"))
"""Rounds of the 50-kiosk race (about 2.5 s each on the shared 2-core machine); KIOSK_SERVICE_RACE_ROUNDS=20 as the issue asks."""


@pytest.fixture
def credential(running_service) -> str:
    return running_service.kiosk("HALL-1")


@pytest.fixture
def kiosk(running_service, credential):
    adapter = ServiceRegistry(running_service.base_url, credential, QUICK)
    yield adapter
    adapter.close()


def activate(client: httpx.Client, presented: str, rid: str) -> httpx.Response:
    return client.post("/v1/phone/activations", json={"presented": presented, "phone_user_rid": rid})


def test_the_guardian_activates_over_http_and_another_guardian_is_refused(running_service, kiosk) -> None:
    ticket = kiosk.register(ZHANG_CARD, ZHANG_XIAOYU, "phone-route-0001").ticket
    assert ticket is not None
    with running_service.client() as phone:
        looked = phone.post("/v1/phone/tickets", json={"presented": ticket.url})
        assert looked.status_code == 200
        assert looked.json()["preview"] | {"expires_at": None} == {
            "ticket_id": ticket.ticket_id, "state": "pending", "child_masked_name": "张*雨", "kiosk_id": "HALL-1",
            "expires_at": None}
        refused = activate(phone, ticket.url, LI_NA)
        assert (refused.status_code, refused.json()["outcome"], refused.json()["tries_left"]) == (403, "access_denied", 2)
        assert kiosk.ticket_state(ticket.ticket_id).state == "pending"
        done = activate(phone, ticket.user_code, ZHANG_WEI)
        assert (done.status_code, done.json()["outcome"], done.json()["child_masked_id"]) == (
            200, "activated", "4301**********0029")
        assert activate(phone, ticket.url, ZHANG_WEI).status_code == 409
    assert kiosk.ticket_state(ticket.ticket_id).state == "activated"


def test_wrong_typed_codes_earn_slow_down_then_strangers_lock_the_ticket(running_service, kiosk) -> None:
    ticket = kiosk.register(ZHANG_CARD, ZHANG_XIAOYU, "phone-route-0002").ticket
    assert ticket is not None
    with running_service.client() as phone:
        wrong = [activate(phone, code, ZHANG_WEI).status_code for code in
                 ("BCDF-GHJK", "BCDF-GHJL", "BCDF-GHJM", "BCDF-GHJN", "BCDF-GHJP")]
        assert wrong == [404] * 5
        slowed = activate(phone, ticket.user_code, ZHANG_WEI)
        assert (slowed.status_code, slowed.json()["outcome"]) == (429, "slow_down")
        assert 0 < int(slowed.headers["Retry-After"]) <= 60
        running_service.clock.advance(61)
        outcomes = [activate(phone, ticket.url, LI_NA).json()["tries_left"] for _ in range(3)]
        assert outcomes == [2, 1, 0]
        assert activate(phone, ticket.url, ZHANG_WEI).json()["outcome"] == "access_denied"
    assert kiosk.ticket_state(ticket.ticket_id).state == "revoked"  # the kiosk draws a fresh QR


def test_the_kiosk_poll_answers_rfc_8628_and_expired_is_expired_token(running_service, kiosk, credential) -> None:
    ticket = kiosk.register(ZHANG_CARD, ZHANG_XIAOYU, "phone-route-0003").ticket
    assert ticket is not None
    interval = running_service.settings.activation_poll_seconds
    with running_service.client(credential) as box, running_service.client() as phone:
        first = box.get(f"/v1/kiosk/tickets/{ticket.ticket_id}/poll").json()
        assert (first["error"], first["interval_seconds"]) == ("authorization_pending", interval)
        hurried = box.get(f"/v1/kiosk/tickets/{ticket.ticket_id}/poll").json()
        assert (hurried["error"], hurried["interval_seconds"]) == ("slow_down", interval + 5)
        assert box.get("/v1/kiosk/tickets/1/poll", headers={"Authorization": "Bearer nonsense"}).status_code == 401
        # Ticket numbers are sequential: another kiosk learns nothing of this one's (as if there were no such ticket).
        with running_service.client(running_service.kiosk("HALL-2")) as stranger:
            for path in (f"/v1/kiosk/tickets/{ticket.ticket_id}/poll", f"/v1/kiosk/tickets/{ticket.ticket_id}"):
                refused = stranger.get(path)
                assert (refused.status_code, refused.json()["code"]) == (404, "ACTIVATION_UNKNOWN"), path
        assert box.get(f"/v1/kiosk/tickets/{ticket.ticket_id}").json()["state"] == "pending"
        running_service.clock.advance(running_service.settings.activation_ttl_seconds + 1)
        late = box.get(f"/v1/kiosk/tickets/{ticket.ticket_id}/poll").json()
        assert (late["state"], late["error"]) == ("expired", "expired_token")
        expired = activate(phone, ticket.url, ZHANG_WEI)
        assert (expired.status_code, expired.json()["outcome"]) == (410, "expired_token")


def test_bodies_the_phone_routes_do_not_take_are_refused_plainly(running_service) -> None:
    with running_service.client() as phone:
        for body in ({}, {"presented": ""}, {"presented": "x" * 301, "phone_user_rid": ZHANG_WEI},
                     {"presented": "BCDF-GHJK", "phone_user_rid": ZHANG_WEI, "extra": 1},
                     {"presented": "BCDF\x00GHJK", "phone_user_rid": ZHANG_WEI}):
            answer = phone.post("/v1/phone/activations", json=body)
            assert answer.status_code == 422 and answer.headers["content-type"].startswith("application/problem+json")


# ---------------------------------------------------------------------------------------------- races
def at_once(calls: list[Callable[[], T]]) -> list[T | BaseException]:
    """Run the calls on threads released by one barrier; each one's result or exception, in order."""
    barrier = threading.Barrier(len(calls))
    results: list[T | BaseException] = [RuntimeError("did not finish")] * len(calls)

    def run(index: int) -> None:
        barrier.wait(JOIN_S)
        try:
            results[index] = calls[index]()
        except BaseException as exc:  # noqa: BLE001 - the test looks at every outcome
            results[index] = exc

    threads = [threading.Thread(target=run, args=(i,), daemon=True) for i in range(len(calls))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(JOIN_S)
        assert not thread.is_alive(), "a racing call hung"
    return results


@pytest.mark.xdist_group("service-postgresql")
@pytest.mark.parametrize("running_service", ["postgresql"], indirect=True)
def test_fifty_kiosks_registering_one_child_at_once_leave_one_live_ecard_each_round(running_service) -> None:
    kiosks = [ServiceRegistry(running_service.base_url, running_service.kiosk(f"RACE-{i:02}"), QUICK) for i in range(50)]
    try:
        for round_number in range(ROUNDS):
            results = at_once([
                (lambda k=k, i=i: k.register(ZHANG_CARD, ZHANG_XIAOYU, f"race-{round_number:02}-{i:02}"))
                for i, k in enumerate(kiosks)])
            failures = [r for r in results if isinstance(r, BaseException)]
            assert not failures, failures[:3]
            outcomes = sorted(r.outcome for r in results)  # type: ignore[union-attr]
            assert outcomes.count("registered") == 1, outcomes
            # The others were told why: the child's e-card is pending already (nothing written for them).
            assert set(outcomes) == {"registered", "already_pending"}
            assert live_ecards(running_service) == 1
            cancel_live(running_service)
    finally:
        for k in kiosks:
            k.close()


@pytest.mark.xdist_group("service-postgresql")
@pytest.mark.parametrize("running_service", ["postgresql"], indirect=True)
def test_twenty_phones_activating_one_ticket_at_once_make_one_success(running_service, kiosk) -> None:
    ticket = kiosk.register(ZHANG_CARD, ZHANG_XIAOYU, "phone-race-0001").ticket
    assert ticket is not None
    phones = [running_service.client() for _ in range(20)]
    try:
        results = at_once([(lambda p=p: activate(p, ticket.url, ZHANG_WEI).json()["outcome"]) for p in phones])
    finally:
        for p in phones:
            p.close()
    assert sorted(results) == ["activated"] + ["already_used"] * 19  # type: ignore[type-var]
    assert kiosk.ticket_state(ticket.ticket_id).state == "activated"


def live_ecards(running_service) -> int:
    with running_service.service.database.connection("count") as connection:
        return connection.execute(sa.text(
            "SELECT count(*) FROM ecard e JOIN person p ON p.id = e.child_id WHERE p.resident_id = :c"
            " AND e.state != 'cancelled'"), {"c": ZHANG_XIAOYU}).scalar_one()


def cancel_live(running_service) -> None:
    with running_service.service.database.connection("next round", writes=True) as connection:
        connection.execute(sa.text("UPDATE activation_ticket SET revoked = true WHERE used_at IS NULL"))
        connection.execute(sa.text(
            "UPDATE ecard SET state = 'cancelled' WHERE state != 'cancelled' AND child_id ="
            " (SELECT id FROM person WHERE resident_id = :c)"), {"c": ZHANG_XIAOYU})
