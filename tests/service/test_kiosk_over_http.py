"""The kiosk over HTTP: its screens (Pilot) on the registry service's adapter, a real uvicorn on 127.0.0.1, the phone
activating through the phone route; the service stopped and back, a refused credential."""
from __future__ import annotations

import contextlib
import urllib.parse
from pathlib import Path
from typing import Iterator

import httpx
import pytest
import sqlalchemy as sa

from ecard_kiosk import build_app, build_kiosk
from kiosk.ports import ManualClock
from kiosk.session import Step
from tests.functional.harness import Journey
from tests.functional.screen_image import decode_qr_on_screen, screen_text
from tests.service.conftest import NOW, StoppableService as Server, reset_registry

pytestmark = pytest.mark.xdist_group("kiosk-over-http")  # its own uvicorn: a worker of its own

ZHANG_WEI = "430102198803150016"
ZHANG_XIAOYU = "430102201906010029"  # 张小雨, child of 张伟: eligible
LI_NA = "43010219900708004X"  # another guardian (of other children)
KIOSK_ID = "HALL-7"  # the credential's kiosk; the kiosk's own kiosk_id setting says KIOSK-DEMO-01


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    running = Server(tmp_path_factory.mktemp("kiosk-over-http"))
    yield running
    running.close()


@pytest.fixture
def service(server: Server) -> Server:
    if server.thread is None:
        server.start()
    server.clock.current = NOW
    reset_registry(server.service)
    return server


@pytest.fixture
def service_kiosk(settings_for, service: Server, tmp_path: Path):
    """`async with service_kiosk(credential=None) as journey`: the kiosk's app over the service (its own credential)."""

    @contextlib.asynccontextmanager
    async def start(credential: str | None = None):
        file = tmp_path / "kiosk.credential"
        file.write_text((credential or service.service.credentials.add(KIOSK_ID)) + "\n", encoding="ascii")
        settings = settings_for(registry=service.base_url, registry_credential_file=str(file), language="en",
                                activation_poll_seconds=0.2, idle_timeout_seconds=900)
        kiosk = build_kiosk(settings, clock=ManualClock(NOW))
        app = build_app(kiosk)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                yield Journey(pilot, kiosk)
        finally:
            kiosk.close_registry()

    return start


def phone_activates(service: Server, presented: str, user_rid: str) -> httpx.Response:
    """The guardian's app (real-name: its user's resident ID) presents what it scanned or was typed."""
    with httpx.Client(base_url=service.base_url, timeout=10) as phone:
        return phone.post("/v1/phone/activations", json={"presented": presented, "phone_user_rid": user_rid})


def ecards_of(service: Server, child: str) -> list[tuple[str, str]]:
    """The child's e-cards in the service's registry: (state, kiosk that registered it)."""
    with service.service.database.connection("test: e-cards of a child") as connection:
        rows = connection.execute(sa.text(
            "SELECT e.state, e.kiosk_id FROM ecard e JOIN person p ON p.id = e.child_id WHERE p.resident_id = :c"
        ), {"c": child}).all()
    return [(state, kiosk) for state, kiosk in rows]


async def test_the_whole_journey_over_http_ends_activated_and_another_guardians_phone_is_refused(
    service_kiosk, service: Server
) -> None:
    async with service_kiosk() as journey:
        assert journey.kiosk.registry is None  # no database at this kiosk
        assert journey.kiosk.monitor.check() == ()  # the service answers and takes the credential
        await journey.to_child_id("zhang-wei-3.00")
        await journey.enter_child(ZHANG_XIAOYU)
        await journey.reach(Step.CHILD_CONFIRM)
        assert "张*雨" in screen_text(journey.app)  # the name as the service gives it: masked
        await journey.pilot.press("enter")
        await journey.reach(Step.ELIGIBLE)
        await journey.pilot.press("enter")
        screen = await journey.reach(Step.ACTIVATION)
        ticket = screen.view.ticket
        assert ticket.url.startswith(service.settings.activation_url_base + "/")
        assert ecards_of(service, ZHANG_XIAOYU) == [("pending", KIOSK_ID)]  # the kiosk ID from the credential

        refused = phone_activates(service, ticket.url, LI_NA)  # a photo of the screen, in another guardian's app
        assert (refused.status_code, refused.json()["outcome"]) == (403, "access_denied")
        journey.session.check_activation()
        await journey.reach(Step.ACTIVATION)

        done = phone_activates(service, ticket.url, ZHANG_WEI)
        assert (done.status_code, done.json()["outcome"]) == (200, "activated")
        journey.session.check_activation()
        await journey.reach(Step.ACTIVATED)
        assert ecards_of(service, ZHANG_XIAOYU) == [("active", KIOSK_ID)]


async def test_the_service_stopped_takes_the_idle_kiosk_out_of_service_and_back_by_itself(
    service_kiosk, service: Server
) -> None:
    async with service_kiosk() as journey:
        monitor = journey.kiosk.monitor
        assert monitor.check() == ()
        await journey.reach(Step.WELCOME)

        service.stop()
        assert monitor.check() == ("SERVICE_UNREACHABLE",)
        screen = await journey.reach(Step.OUT_OF_SERVICE)
        assert screen.view.out_of_service == "SERVICE_UNREACHABLE"

        service.start()
        assert monitor.check() == ()
        await journey.reach(Step.WELCOME)


async def test_the_service_stopped_mid_journey_is_a_retriable_error_never_a_hang(
    service_kiosk, service: Server
) -> None:
    async with service_kiosk() as journey:
        assert journey.kiosk.monitor.check() == ()
        await journey.to_child_id("zhang-wei-3.00")
        await journey.enter_child(ZHANG_XIAOYU)
        await journey.reach(Step.CHILD_CONFIRM)
        await journey.pilot.press("enter")
        await journey.reach(Step.ELIGIBLE)

        service.stop()
        await journey.pilot.press("enter")  # consent: the registration cannot reach the service
        screen = await journey.reach(Step.ERROR, timeout=30)
        assert screen.view.error == "SERVICE_UNREACHABLE"
        assert ecards_of(service, ZHANG_XIAOYU) == []

        service.start()
        assert journey.session.retry()  # retriable: the card read again, the visit goes on (the same key kept:
        await journey.reach(Step.HOLDER)  # tests/unit/session/test_registry_port_work.py follows it to the e-card)


async def test_a_refused_credential_keeps_the_kiosk_out_of_service_with_the_reason(
    service_kiosk, service: Server, caplog: pytest.LogCaptureFixture
) -> None:
    credential = service.service.credentials.add(KIOSK_ID)
    service.service.credentials.revoke(KIOSK_ID, "box stolen")
    async with service_kiosk(credential) as journey:
        with caplog.at_level("WARNING", logger="kiosk.health"):
            assert journey.kiosk.monitor.check() == ("SERVICE_CREDENTIAL_REFUSED",)
        screen = await journey.reach(Step.OUT_OF_SERVICE)
        assert screen.view.out_of_service == "SERVICE_CREDENTIAL_REFUSED"
        assert "box stolen" in caplog.text  # the service's reason, for the technician


async def test_the_url_decoded_from_the_kiosks_own_qr_opens_the_phone_page_in_chromium_and_the_kiosk_shows_activated(
    service_kiosk, service: Server, browser
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import Select, WebDriverWait

    async with service_kiosk() as journey:
        assert journey.kiosk.monitor.check() == ()
        await journey.to_child_id("zhang-wei-3.00")
        screen = await journey.register(ZHANG_XIAOYU)
        (decoded,) = decode_qr_on_screen(journey.app)  # what a phone's camera reads off the kiosk's screen
        assert decoded == screen.view.ticket.url
        # The QR leads to the service's activation_url_base; the test's phone reaches the test server instead.
        browser.get(service.base_url + urllib.parse.urlsplit(decoded).path)
        assert browser.find_element(By.ID, "child").text == "张*雨"
        assert browser.find_element(By.ID, "kiosk").text == KIOSK_ID
        Select(browser.find_element(By.ID, "guardian")).select_by_value(ZHANG_WEI)
        browser.find_element(By.ID, "sign-in").click()
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "confirm")).pop().click()
        shown = WebDriverWait(browser, 10).until(lambda b: b.find_element(By.ID, "outcome"))
        assert shown.get_attribute("data-outcome") == "activated"
        journey.session.check_activation()
        await journey.reach(Step.ACTIVATED)


def test_a_missing_credential_file_stops_the_start_with_one_line_naming_it(settings_for, tmp_path: Path) -> None:
    from ecard_kiosk import StartupError

    missing = tmp_path / "nowhere.credential"
    with pytest.raises(StartupError) as caught:
        build_kiosk(settings_for(registry="http://127.0.0.1:9", registry_credential_file=str(missing)))
    message = str(caught.value)
    assert "registry_credential_file" in message and str(missing) in message and "\n" not in message
