"""The heartbeat's schedule on a manual clock: every interval after a good beat, a doubling jittered pause capped after
failures, the interval the service asks for (bounded); one log line per outage; the answer checked; the settings'
fingerprint without the secrets."""
from __future__ import annotations

import random
import socket
from datetime import datetime, timezone

import pytest

from kiosk.errors import KioskError
from kiosk.fleet import (
    MAX_INTERVAL_SECONDS,
    MIN_INTERVAL_SECONDS,
    HeartbeatSchedule,
    HeartbeatSender,
    parse_answer,
    settings_fingerprint,
)
from kiosk.ports import ManualClock
from kiosk.registry.service_client import ServiceRegistry, ServiceTimeouts

START = datetime(2026, 12, 2, 9, 0, tzinfo=timezone.utc)


def test_the_first_beat_is_due_at_once_then_every_interval() -> None:
    clock = ManualClock(START)
    schedule = HeartbeatSchedule(clock, 15)
    assert schedule.due()
    assert schedule.succeeded() == 15
    assert not schedule.due() and schedule.seconds_left() == 15
    clock.advance(14.9)
    assert not schedule.due()
    clock.advance(0.1)
    assert schedule.due() and schedule.seconds_left() == 0


def test_failures_back_off_doubling_with_jitter_up_to_the_cap_and_a_good_beat_resets() -> None:
    clock = ManualClock(START)
    schedule = HeartbeatSchedule(clock, 15, retry_base_seconds=2, retry_cap_seconds=60, rng=random.Random(7))
    pauses = []
    for failures in range(1, 10):
        pause = schedule.failed()
        nominal = min(60, 2 * 2 ** (failures - 1))
        assert nominal / 2 <= pause <= nominal  # jittered: between half and all of it
        assert schedule.seconds_left() == pytest.approx(pause)
        clock.advance(pause)
        assert schedule.due()
        pauses.append(pause)
    assert [schedule.backoff_seconds(n) for n in range(1, 8)] == [2, 4, 8, 16, 32, 60, 60]
    assert max(pauses) <= 60 and schedule.failures == 9
    assert schedule.succeeded() == 15 and schedule.failures == 0
    assert schedule.failed() <= 2  # a new outage starts from the first pause again


def test_two_kiosks_that_fail_together_come_back_apart() -> None:
    clock = ManualClock(START)
    first = HeartbeatSchedule(clock, 15, rng=random.Random(1))
    second = HeartbeatSchedule(clock, 15, rng=random.Random(2))
    assert [first.failed() for _ in range(5)] != [second.failed() for _ in range(5)]


def test_the_interval_the_service_asks_for_is_taken_within_bounds() -> None:
    clock = ManualClock(START)
    schedule = HeartbeatSchedule(clock, 15)
    assert schedule.succeeded(30) == 30 and schedule.seconds_left() == 30
    assert schedule.succeeded(0.01) == MIN_INTERVAL_SECONDS
    assert schedule.succeeded(10**9) == MAX_INTERVAL_SECONDS
    assert schedule.succeeded(None) == MAX_INTERVAL_SECONDS  # no answer's word: the last interval stays


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def test_an_outage_is_logged_once_not_per_try(session, caplog) -> None:
    """A real HTTP client to a port where nothing listens: every beat fails at once (connection refused)."""
    clock = ManualClock(START)
    link = ServiceRegistry(f"http://127.0.0.1:{_closed_port()}", "x" * 40, ServiceTimeouts(connect_seconds=1))
    sender = HeartbeatSender(session, link, version="0.1.0", fingerprint="0" * 64, interval_seconds=15, clock=clock,
                             rng=random.Random(3))
    try:
        with caplog.at_level("DEBUG", logger="kiosk.fleet"):
            for _ in range(6):
                assert sender.step() > 0  # a failed try, and how long until the next
                assert not sender.schedule.due()
                clock.advance(sender.schedule.seconds_left())
        warnings = [r for r in caplog.records if r.levelname == "WARNING"]
        assert len(warnings) == 1 and "SERVICE_UNREACHABLE" in warnings[0].getMessage()
        assert sender.schedule.failures == 6 and sender.beats == 0
        assert sender.last_report["state"] == "idle" and sender.last_report["uptime_seconds"] > 0
    finally:
        link.close()


@pytest.mark.parametrize("answer", [
    None, [], {"heartbeat_seconds": 0}, {"heartbeat_seconds": True}, {"heartbeat_seconds": "15"},
    {"heartbeat_seconds": 15, "out_of_service": {"message_zh": "停"}},
    {"heartbeat_seconds": 15, "technicians": {"etag": "e", "accounts": ["T0001"]}},
    {"heartbeat_seconds": 15, "technicians": {"accounts": {}}},
])
def test_an_answer_not_per_the_contract_is_a_bad_answer(answer) -> None:
    with pytest.raises(KioskError) as caught:
        parse_answer(answer)
    assert caught.value.code == "SERVICE_BAD_ANSWER"


def test_an_answer_per_the_contract_is_read() -> None:
    answer = parse_answer({"heartbeat_seconds": 20, "out_of_service": {"message_zh": "停", "message_en": "Closed",
                                                                      "since": "2026-12-02T10:00:00Z"},
                           "technicians": {"etag": "e1", "accounts": {}}})
    assert answer.heartbeat_seconds == 20 and answer.out_of_service.message_en == "Closed"
    assert answer.technicians.etag == "e1" and answer.technicians.accounts == {}
    assert parse_answer({"heartbeat_seconds": 15, "out_of_service": None, "technicians": None}).technicians is None


def test_the_fingerprint_leaves_the_secrets_out() -> None:
    settings = {"kiosk_id": "K1", "language": "zh", "technicians": {"T1": "scrypt$..."}, "database_url": "pg://u:pw@h"}
    secret = ("technicians", "database_url")
    same = settings_fingerprint({**settings, "technicians": {}, "database_url": ""}, secret)
    assert settings_fingerprint(settings, secret) == same
    assert settings_fingerprint({**settings, "language": "en"}, secret) != same
    assert len(same) == 64 and int(same, 16) >= 0


def test_todays_counts_keep_codes_only_and_start_again_at_midnight() -> None:
    from kiosk.fleet import TodayCounts
    from kiosk.session import SessionView, Step

    clock = ManualClock(datetime(2026, 12, 2, 12, 0, tzinfo=timezone.utc))
    counts = TodayCounts(clock)
    for step, error in [(Step.WELCOME, None), (Step.READING, None), (Step.ERROR, "CARD_MUTE"), (Step.READING, None),
                        (Step.TAKE_CARD, None), (Step.WELCOME, None), (Step.INSERT_CARD, None),
                        (Step.NOT_ELIGIBLE, "CARD_EXPIRED"), (Step.ERROR, "not a code: 430102198803150016")]:
        counts.on_view(SessionView(step=step, lang="zh", error=error))
    counts.on_view(SessionView(step=Step.OUT_OF_SERVICE, lang="zh", out_of_service="READER_UNAVAILABLE"))
    today, errors = counts.report()
    assert today == {"date": clock.now().astimezone().date().isoformat(), "visits": 2, "registrations": 0,
                     "activations": 0, "refusals": {"CARD_EXPIRED": 1}}
    assert [e["code"] for e in errors] == ["READER_UNAVAILABLE", "CARD_MUTE"]  # newest first; free text dropped
    clock.advance(24 * 3600)
    today, errors = counts.report()
    assert (today["visits"], today["refusals"]) == (0, {}) and len(errors) == 2  # the errors keep their times
