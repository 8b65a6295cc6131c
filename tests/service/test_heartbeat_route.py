"""POST /v1/kiosk/heartbeat over a real uvicorn on SQLite and PostgreSQL: the credential names the kiosk, the body is
checked strictly, the technician list follows its etag, an operator's order goes out and comes back."""
from __future__ import annotations

import os

import sqlalchemy as sa

from kiosk.maintenance.passwords import parse_pin_hash
from kiosk.registry.models import KioskHeartbeat
from registry_service.technicians import etag_of, live_accounts
from tests.service.heartbeat_fuzzer import PATH, run, valid_beat
from tests.unit.core.conftest import NOW

FUZZ_CASES = 5_000 if os.environ.get("KIOSK_FUZZ_FULL") == "1" else 300
FUZZ_SEED = int(os.environ.get("KIOSK_FUZZ_SEED", "12"))


def test_a_heartbeat_is_kept_under_the_credentials_kiosk_and_answered_with_the_interval(running_service) -> None:
    credential = running_service.kiosk("HALL-1")
    with running_service.client(credential) as kiosk:
        answer = kiosk.post(PATH, json=valid_beat(state="in_visit"))
        assert answer.status_code == 200, answer.text
        assert answer.json() == {"heartbeat_seconds": 15, "out_of_service": None,
                                 "technicians": {"etag": answer.json()["technicians"]["etag"], "accounts": {}}}
        running_service.clock.advance(15)
        assert kiosk.post(PATH, json=valid_beat(uptime_seconds=1249)).status_code == 200
    [status] = running_service.service.fleet.statuses()
    assert (status.kiosk_id, status.colour, status.state, status.uptime_seconds) == ("HALL-1", "green", "idle", 1249)
    assert status.refusals == {"CHILD_TOO_OLD": 1} and status.last_errors == (("CARD_COMMUNICATION", "2026-06-01T01:50:00Z"),)
    with running_service.service.database.connection("look") as connection:
        assert connection.execute(sa.select(KioskHeartbeat.beats)).scalar_one() == 2  # type: ignore[call-overload]


def test_no_credential_or_a_revoked_one_is_refused_401(running_service) -> None:
    credential = running_service.kiosk("HALL-2")
    with running_service.client() as stranger:
        refused = stranger.post(PATH, json=valid_beat())
    assert refused.status_code == 401 and refused.json()["reason"] == "missing"
    running_service.service.credentials.revoke("HALL-2", "box stolen")
    with running_service.client(credential) as kiosk:
        refused = kiosk.post(PATH, json=valid_beat())
    assert refused.status_code == 401 and refused.json()["reason"] == "revoked"
    assert refused.headers["content-type"].startswith("application/problem+json")
    assert running_service.service.fleet.statuses() == []


def test_an_unknown_or_malformed_credential_is_refused_401_and_keeps_nothing(running_service) -> None:
    live = running_service.kiosk("HALL-8")
    with running_service.client(live[::-1]) as stranger:
        unknown = stranger.post(PATH, json=valid_beat())
    assert unknown.status_code == 401 and unknown.json()["reason"] == "unknown"
    with running_service.client() as confused:
        malformed = confused.post(PATH, json=valid_beat(), headers={"Authorization": f"Basic {live}"})
    assert malformed.status_code == 401 and malformed.json()["reason"] == "malformed"
    running_service.service.credentials.revoke("HALL-8", "box stolen")
    with running_service.client(live) as revoked:
        refused = revoked.post(PATH, json=valid_beat())
    assert refused.status_code == 401 and refused.json()["reason"] == "revoked" and "box stolen" in refused.json()["detail"]
    assert [(s.kiosk_id, s.received_at) for s in running_service.service.fleet.statuses()] == []


def test_the_heartbeats_technician_etag_is_the_one_etag_of_computes(running_service) -> None:
    technicians = running_service.service.technicians
    for technician_id in ("T1", "t1", "T-1", "T_1", "a", "Z9"):  # IDs whose order differs by collation
        technicians.add(technician_id, "246810")
    technicians.revoke("a")
    with running_service.client(running_service.kiosk("HALL-10")) as kiosk:
        listed = kiosk.post(PATH, json=valid_beat()).json()["technicians"]
        with running_service.service.database.connection("look") as connection:
            accounts = live_accounts(connection)
        assert listed == {"etag": etag_of(accounts), "accounts": accounts}
        assert technicians.current() == (listed["etag"], accounts)
        assert kiosk.post(PATH, json=valid_beat(technicians_etag=listed["etag"])).json()["technicians"] is None


def test_a_body_with_anything_beyond_the_contract_is_refused_422(running_service) -> None:
    resident_id = "430102201906010029"
    bad = [
        valid_beat(kiosk_id="HALL-9"),  # the kiosk comes from the credential only
        valid_beat(holder_name="张伟"),
        valid_beat(version=resident_id),
        valid_beat(version="x" * 41),
        valid_beat(state="asleep"),
        valid_beat(out_of_service_reasons=["a card was stuck"]),
        valid_beat(uptime_seconds=-1),
        valid_beat(uptime_seconds="12"),
        valid_beat(settings_fingerprint="not hex at all!"),
        valid_beat(last_errors=[{"code": "CARD_COMMUNICATION", "at": "2026-06-01T01:50:00Z"}] * 11),
        valid_beat(last_errors=[{"code": "CARD_COMMUNICATION", "at": "2026-06-01T01:50:00"}]),  # no zone
        valid_beat(last_errors=[{"code": "CARD_COMMUNICATION", "at": "2026-06-01T01:50:00Z", "card": "L43000001"}]),
        valid_beat(today={**valid_beat()["today"], "refusals": {resident_id: 1}}),
        valid_beat(today={**valid_beat()["today"], "refusals": {f"CODE_{i}": 1 for i in range(51)}}),
        valid_beat(today={**valid_beat()["today"], "visits": True}),
        valid_beat(technicians_etag="abc def"),
    ]
    with running_service.client(running_service.kiosk("HALL-3")) as kiosk:
        for body in bad:
            answer = kiosk.post(PATH, json=body)
            assert answer.status_code == 422, (body, answer.text)
            assert answer.json()["code"] == "REQUEST_INVALID"
    assert running_service.service.fleet.statuses()[0].received_at is None  # listed (live credential), never kept


def test_the_technician_list_comes_when_the_etag_is_stale_and_a_revocation_changes_it(running_service) -> None:
    technicians = running_service.service.technicians
    technicians.add("T0001", "246810")
    technicians.add("T0002", "135799")
    with running_service.client(running_service.kiosk("HALL-4")) as kiosk:
        first = kiosk.post(PATH, json=valid_beat()).json()["technicians"]
        assert sorted(first["accounts"]) == ["T0001", "T0002"]
        assert parse_pin_hash(first["accounts"]["T0001"]).matches("246810")
        assert kiosk.post(PATH, json=valid_beat(technicians_etag=first["etag"])).json()["technicians"] is None
        technicians.revoke("T0002")
        after = kiosk.post(PATH, json=valid_beat(technicians_etag=first["etag"])).json()["technicians"]
        assert sorted(after["accounts"]) == ["T0001"] and after["etag"] != first["etag"]
        technicians.revoke("T0001")
        empty = kiosk.post(PATH, json=valid_beat(technicians_etag=after["etag"])).json()["technicians"]
        assert empty["accounts"] == {}  # "no technician": the kiosk drops the ones it held
        assert kiosk.post(PATH, json=valid_beat(technicians_etag=empty["etag"])).json()["technicians"] is None


def test_an_operators_order_rides_on_the_next_heartbeat_and_its_lifting_too(running_service) -> None:
    fleet = running_service.service.fleet
    with running_service.client(running_service.kiosk("HALL-5")) as kiosk:
        etag = kiosk.post(PATH, json=valid_beat()).json()["technicians"]["etag"]
        fleet.order_out("HALL-5", "本机暂停服务，请到 3 号机办理。", "This kiosk is closed: please use kiosk 3.", "ops-1")
        answer = kiosk.post(PATH, json=valid_beat(technicians_etag=etag)).json()
        assert answer["out_of_service"] == {"message_zh": "本机暂停服务，请到 3 号机办理。",
                                            "message_en": "This kiosk is closed: please use kiosk 3.",
                                            "since": NOW.strftime("%Y-%m-%dT%H:%M:%SZ")}
        assert fleet.statuses()[0].reasons == ("order",)  # ordered, not applied yet: still green
        applied = kiosk.post(PATH, json=valid_beat(state="out_of_service", out_of_service_reasons=["operator"],
                                                   technicians_etag=etag)).json()
        assert applied["out_of_service"] is not None
        status = fleet.statuses()[0]
        assert status.colour == "red" and status.reasons == ("out_of_service:operator",)
        assert fleet.put_back("HALL-5") and not fleet.put_back("HALL-5")
        assert kiosk.post(PATH, json=valid_beat(technicians_etag=etag)).json()["out_of_service"] is None


def test_the_colour_follows_the_age_of_the_last_heartbeat(running_service) -> None:
    fleet = running_service.service.fleet
    running_service.kiosk("HALL-6")
    assert [(s.colour, s.reasons) for s in fleet.statuses()] == [("red", ("never",))]
    with running_service.client(running_service.kiosk("HALL-7")) as kiosk:
        assert kiosk.post(PATH, json=valid_beat()).status_code == 200
    seen = []
    for step in (30, 1, 29, 1):  # 2 intervals is still green, past it amber; 4 still amber, past it red
        running_service.clock.advance(step)
        seen.append(fleet.statuses("HALL-7")[0].colour)
    assert seen == ["green", "amber", "amber", "red"]


def test_malformed_heartbeats_never_get_a_5xx(running_service) -> None:
    with running_service.client(running_service.kiosk("FUZZ-HB")) as kiosk:
        figures = run(kiosk, FUZZ_CASES, FUZZ_SEED)
    print(f"\n[{running_service.backend}] heartbeat {figures.summary()}")
    assert figures.broken == [], figures.broken[:5]
    assert figures.statuses[422] > FUZZ_CASES // 3 and figures.statuses[200] > FUZZ_CASES // 20
