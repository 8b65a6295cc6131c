"""The kiosk's heartbeat to the registry service (issue 12, the kiosk's side): the screens (Pilot) over the registry
service on a real uvicorn; the operator's out-of-service order applied between visits only and the technician list
at the maintenance login, through the service's own heartbeat route; what a heartbeat carries after real visits (no
personal data) and a heartbeat that hangs or fails never holding a key, through the stand-in route in front of it
that records every byte and hangs or fails on demand (tests/service/heartbeat_standin.py)."""
from __future__ import annotations

import asyncio
import contextlib
import json
import re
import threading
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from ecard_kiosk import build_app, build_kiosk
from kiosk.fleet import OPERATOR
from kiosk.maintenance import LoginOutcome
from kiosk.maintenance.passwords import hash_pin
from kiosk.ports import ManualClock
from kiosk.session import Step
from registry_service.app import create_app
from screens.maintenance.login import TechnicianLogin
from tests.functional.harness import Journey
from tests.functional.screen_image import screen_text
from tests.service.conftest import NOW, StoppableService, reset_registry
from tests.service.heartbeat_standin import HeartbeatStandIn



ZHANG_WEI = "430102198803150016"
ZHANG_XIAOYU = "430102201906010029"  # 张小雨, child of 张伟: eligible
ZHANG_MINGXUAN = "430102200905200037"  # 张明轩, child of 张伟: too old
CARD_NUMBER = "L43000001"
CARD_ID_CODE = "4301 02D1 5600 0005 0000 0000 0000 0001"
KIOSK_ID = "HALL-9"
ORDER = {"message_zh": "设备检修，请到 3 号窗口办理。", "message_en": "Closed for repairs: please go to counter 3.",
         "since": "2026-12-02T10:00:00Z"}


class Backend(StoppableService):
    """The registry service on SQLite, on two uvicorns over one Service: `base_url` its own routes only,
    `standin.base_url` the same with the stand-in heartbeat route in front."""

    def __init__(self, folder: Path) -> None:
        super().__init__(folder)
        self.standin = HeartbeatStandIn(create_app(self.settings, service=self.service))

    def credential(self) -> str:
        credential = self.service.credentials.add(KIOSK_ID)
        self.standin.credentials.add(credential)
        return credential

    def close(self) -> None:
        self.standin.stop()
        super().close()


@pytest.fixture(scope="module")
def backend(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Backend]:
    running = Backend(tmp_path_factory.mktemp("kiosk-heartbeat"))
    yield running
    running.close()


@pytest.fixture
def fresh(backend: Backend) -> Backend:
    if backend.thread is None:
        backend.start()
    backend.clock.current = NOW
    reset_registry(backend.service)
    backend.standin.state.reset()
    return backend


@pytest.fixture
def heartbeat_kiosk(settings_for, fresh: Backend, tmp_path: Path):
    """`async with heartbeat_kiosk(standin=False, **settings) as journey`: the kiosk's app over the service (its
    heartbeats to the stand-in route with standin=True), its monitor's first
    check done (in service), its heartbeat not started: a test beats (`beat(journey)`) where it wants the next one."""

    @contextlib.asynccontextmanager
    async def start(standin: bool = False, **overrides):
        file = tmp_path / "kiosk.credential"
        file.write_text(fresh.credential() + "\n", encoding="ascii")
        values = dict(registry=fresh.standin.base_url if standin else fresh.base_url, registry_credential_file=str(file), language="en",
                      activation_poll_seconds=0.2, idle_timeout_seconds=900)
        values.update(overrides)
        kiosk = build_kiosk(settings_for(**values), clock=ManualClock(NOW))
        app = build_app(kiosk)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                assert kiosk.monitor.check() == ()
                yield Journey(pilot, kiosk)
        finally:
            kiosk.heartbeat.stop()
            kiosk.close_registry()

    return start


async def beat(journey: Journey) -> bool:
    """The kiosk's next heartbeat, sent on a thread (as its own thread would) while the app goes on."""
    return await asyncio.to_thread(journey.kiosk.heartbeat.beat)


def phone_activates(backend: Backend, presented: str) -> None:
    with httpx.Client(base_url=backend.base_url, timeout=10) as phone:
        answer = phone.post("/v1/phone/activations", json={"presented": presented, "phone_user_rid": ZHANG_WEI})
    assert answer.json()["outcome"] == "activated"


async def test_heartbeats_after_real_visits_count_them_and_carry_no_personal_data(heartbeat_kiosk, fresh) -> None:
    async with heartbeat_kiosk(standin=True) as journey:
        assert await beat(journey)
        # A registration taken to its activation, then in the same visit another child refused (too old), the card
        # pulled at the refusal.
        await journey.to_child_id("zhang-wei-3.00")
        screen = await journey.register(ZHANG_XIAOYU)
        ticket = screen.view.ticket
        phone_activates(fresh, ticket.url)
        journey.session.check_activation()
        await journey.reach(Step.ACTIVATED)
        assert await beat(journey)  # in the visit: the counts so far
        assert journey.session.another_child()
        await journey.enter_child(ZHANG_MINGXUAN)
        await journey.reach(Step.CHILD_CONFIRM)
        await journey.pilot.press("enter")
        await journey.reach(Step.NOT_ELIGIBLE)
        assert await beat(journey)
        await journey.remove()
        await journey.reach(Step.WELCOME)
        assert await beat(journey)

        received = fresh.standin.state.received
        assert len(received) == 4
        states = [r.heartbeat.state for r in received]
        assert states == ["idle", "in_visit", "in_visit", "idle"]
        last = received[-1].heartbeat
        assert (last.today.visits, last.today.registrations, last.today.activations) == (1, 1, 1)
        assert last.today.refusals == {"CHILD_TOO_OLD": 1}
        assert last.reader == "no_card" and last.psam == "ok" and last.out_of_service_reasons == []
        assert all(r.headers["authorization"].startswith("Bearer ") for r in received)
        fingerprints = {r.heartbeat.settings_fingerprint for r in received}
        assert len(fingerprints) == 1 and len(fingerprints.pop()) == 64

        # Every byte sent, for what the visits knew: names, ID numbers, card number and ID code, the PIN, the code.
        sent = b"".join(r.body for r in received).decode("utf-8")
        secrets = [ZHANG_WEI, ZHANG_XIAOYU, ZHANG_MINGXUAN, "张伟", "张小雨", "张明轩", "张", CARD_NUMBER,
                   CARD_ID_CODE.replace(" ", "").lower(), CARD_ID_CODE.replace(" ", ""), "123456",
                   ticket.user_code, ticket.user_code.replace("-", ""), ticket.url.rsplit("/", 1)[-1]]
        for secret in secrets:
            assert secret not in sent, f"{secret!r} went out in a heartbeat"
        without_fingerprint = sent
        for r in received:
            without_fingerprint = without_fingerprint.replace(r.heartbeat.settings_fingerprint, "")
        assert not re.search(r"\d{15,}|\d{17}[0-9Xx]|[A-Z]\d{8}", without_fingerprint), "an ID-number-shaped string"
        assert all(ch.isascii() for ch in sent)  # no free text from a card (names are Chinese)
        for r in received:
            assert set(json.loads(r.body)) == set(type(r.heartbeat).model_fields)  # the contract's fields, no more


def order_out(backend: Backend) -> None:
    """The operator's order, as the console's form stores it."""
    backend.service.fleet.order_out(KIOSK_ID, ORDER["message_zh"], ORDER["message_en"], "OP-1")


async def test_an_operator_order_waits_for_the_visit_to_end_shows_its_message_and_its_lifting_welcomes(
    heartbeat_kiosk, fresh
) -> None:
    async with heartbeat_kiosk() as journey:
        await journey.to_holder("zhang-wei-3.00")
        await journey.pilot.press("enter")
        await journey.reach(Step.PIN)
        order_out(fresh)
        assert await beat(journey)
        await journey.type("12")  # the guardian goes on typing: the visit is never cut short
        await journey.pilot.pause()
        assert journey.session.step is Step.PIN and OPERATOR not in journey.session.out_of_service_reasons
        assert journey.kiosk.heartbeat.operator_order is not None  # received, waiting for the visit to end

        await journey.remove()  # the visit ends: at once out of service, with the operator's words
        screen = await journey.reach(Step.OUT_OF_SERVICE)
        assert screen.view.out_of_service == OPERATOR
        text = screen_text(journey.app)
        assert "Closed for repairs: please go to counter 3." in text and "设备检修" not in text
        await journey.pilot.press("f2")  # in Chinese: the operator's Chinese words
        await journey.until(lambda: "设备检修，请到 3 号窗口办理。" in screen_text(journey.app))
        await journey.pilot.press("f2")
        assert await beat(journey)
        (status,) = fresh.service.fleet.statuses(KIOSK_ID)
        assert (status.state, status.colour, status.reasons) == ("out_of_service", "red", ("out_of_service:operator",))

        journey.session.out_of_service("MAINTENANCE")  # a technician's reason beside it stays when the order lifts
        assert fresh.service.fleet.put_back(KIOSK_ID)
        assert await beat(journey)
        await journey.until(lambda: journey.session.out_of_service_reasons == ("MAINTENANCE",))
        journey.session.back_in_service("MAINTENANCE")
        await journey.reach(Step.WELCOME)

        order_out(fresh)  # idle: at the heartbeat that brings it
        assert await beat(journey)
        await journey.reach(Step.OUT_OF_SERVICE)
        assert fresh.service.fleet.put_back(KIOSK_ID)
        assert await beat(journey)
        await journey.reach(Step.WELCOME)
        assert journey.session.begin()  # guardians are served again


async def test_a_technician_revoked_at_the_service_is_refused_at_the_login_after_the_next_heartbeat(
    heartbeat_kiosk, fresh
) -> None:
    technicians = fresh.service.technicians
    async with heartbeat_kiosk(technicians={"T0001": hash_pin("11111")}) as journey:
        door, sender = journey.kiosk.maintenance.door, journey.kiosk.heartbeat
        # No list received yet (the service is unreachable at the start): the settings' technician gets in.
        fresh.stop()
        assert not await beat(journey)
        assert door.try_login("T0001", "11111").outcome is LoginOutcome.ADMITTED
        assert sender.technicians_etag is None
        fresh.start()

        technicians.add("T0002", "22222")
        technicians.add("T0003", "33333")
        assert await beat(journey)
        first = sender.technicians_etag
        assert first == technicians.current()[0]
        assert door.try_login("T0001", "11111").outcome is LoginOutcome.DENIED  # the service's list rules now
        assert door.try_login("T0002", "22222").outcome is LoginOutcome.ADMITTED
        journey.kiosk.maintenance.leave()

        technicians.revoke("T0002")
        assert await beat(journey)
        assert sender.technicians_etag not in (None, first)
        await journey.app.action_maintenance()  # the hidden way in; then the login screen as a technician types
        await journey.until(lambda: isinstance(journey.app.screen, TechnicianLogin))
        await journey.type("T0002")
        await journey.pilot.press("enter")
        await journey.type("22222")
        await journey.pilot.press("enter")
        login = journey.app.screen
        await journey.until(lambda: not login.busy)
        assert isinstance(journey.app.screen, TechnicianLogin) and journey.kiosk.maintenance.active is False
        assert "Wrong" in screen_text(journey.app) or "wrong" in screen_text(journey.app)

        fresh.stop()  # the service unreachable: the list received stays (no way back in)
        assert not await beat(journey)
        assert door.try_login("T0002", "22222").outcome is not LoginOutcome.ADMITTED
        assert door.try_login("T0003", "33333").outcome is LoginOutcome.ADMITTED


async def test_a_hanging_then_failing_heartbeat_never_holds_a_key_press(heartbeat_kiosk, fresh, caplog) -> None:
    standin = fresh.standin
    events: list[str] = []
    async with heartbeat_kiosk(standin=True) as journey:
        sender = journey.kiosk.heartbeat
        failed = threading.Event()
        sender.beat_listeners.append(lambda delivered: None if delivered else failed.set())
        standin.hold()  # the service takes the heartbeat and does not answer
        sender.start()  # its own thread, as on a kiosk
        assert await asyncio.to_thread(standin.state.arrived.wait, 10)
        events.append("heartbeat in flight")
        await journey.insert("zhang-wei-3.00")
        await journey.reach(Step.HOLDER)
        await journey.pilot.press("enter")  # keys while the heartbeat hangs
        await journey.reach(Step.PIN)
        await journey.type("123456")
        await journey.pilot.press("enter")
        await journey.open_typed_entry()
        events.append(f"keys taken, heartbeats answered: {sender.beats}")
        standin.state.failing = True
        with caplog.at_level("DEBUG", logger="kiosk.fleet"):
            standin.release()  # its answer: 503
            assert await asyncio.to_thread(failed.wait, 10)
            events.append("heartbeat failed")
            await journey.type("0")  # a key after the failure
            await journey.reach(Step.CHILD_ID)
            sender.stop()
        assert events == ["heartbeat in flight", "keys taken, heartbeats answered: 0", "heartbeat failed"]
        warnings = [r for r in caplog.records if r.name == "kiosk.fleet" and r.levelname == "WARNING"]
        assert len(warnings) == 1 and "SERVICE_UNREACHABLE" in warnings[0].getMessage()


def test_a_kiosk_on_the_embedded_registry_has_no_heartbeat(settings_for) -> None:
    kiosk = build_kiosk(settings_for(), clock=ManualClock(NOW))
    try:
        assert kiosk.heartbeat is None
    finally:
        kiosk.close_registry()
