"""Issue 12 end to end: two kiosks heartbeat to the real registry service (uvicorn, PostgreSQL); an operator in
Debian's headless chromium signs in to the console, sees both green, one stopped go amber then red, takes the other
out of service with a message that its screen (Pilot) then shows, and puts it back."""
from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from ecard_kiosk import build_app, build_kiosk
from kiosk.fleet import OPERATOR
from kiosk.ports import ManualClock
from kiosk.session import InlineRunner, Step
from tests.functional.harness import Journey
from tests.functional.screen_image import screen_text
from tests.service.conftest import NOW, RunningService

MESSAGE_ZH = "本机暂停服务，请到 2 号窗口。"
MESSAGE_EN = "Closed for now: please go to counter 2."
PASSWORD = "hall-operator-2026"


def kiosk_settings(settings_for, service: RunningService, folder: Path, kiosk_id: str):
    folder.mkdir()
    file = folder / "kiosk.credential"
    file.write_text(service.kiosk(kiosk_id) + "\n", encoding="ascii")
    return settings_for(registry=service.base_url, registry_credential_file=str(file), kiosk_id=kiosk_id,
                        data_dir=str(folder / "data"), language="en", idle_timeout_seconds=900)


@pytest.mark.parametrize("running_service", [pytest.param("postgresql", marks=pytest.mark.xdist_group(
    "service-postgresql"))], indirect=True)
async def test_the_console_sees_two_kiosks_and_takes_one_out_of_service_onto_its_screen_and_back(
    running_service: RunningService, settings_for, tmp_path: Path, browser
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    service = running_service
    service.service.operators.add("OP-1", PASSWORD)
    hall_a = build_kiosk(kiosk_settings(settings_for, service, tmp_path / "a", "HALL-A"), clock=ManualClock(NOW))
    hall_b = build_kiosk(kiosk_settings(settings_for, service, tmp_path / "b", "HALL-B"), clock=ManualClock(NOW))
    hall_b.session.use_runner(InlineRunner())  # the second kiosk runs headless (no screen: its session alone)
    console = service.base_url + "/console"

    def colour(kiosk_id: str) -> str | None:
        # Read in one script: the page's refresh replaces the cards, so an element found a moment ago may be gone.
        return browser.execute_script("var e = document.getElementById(arguments[0]); return e && e.dataset.state;",
                                      f"kiosk-{kiosk_id}")

    def until_colours(wanted: dict[str, str]) -> None:
        """The page's own refresh (no reload) shows the colours wanted."""
        WebDriverWait(browser, 15).until(lambda b: all(colour(k) == c for k, c in wanted.items()))

    def sign_in() -> None:
        browser.get(console + "/sign-in")
        browser.find_element(By.ID, "operator-id").send_keys("OP-1")
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "sign-in").click()
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "fleet"))

    def take_out() -> None:
        browser.get(console + "/kiosks/HALL-A")
        browser.find_element(By.ID, "message-zh").send_keys(MESSAGE_ZH)
        browser.find_element(By.ID, "message-en").send_keys(MESSAGE_EN)
        browser.find_element(By.ID, "take-out").click()
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "put-back"))

    def put_back() -> None:
        browser.find_element(By.ID, "put-back").click()
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "take-out"))

    app = build_app(hall_a)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            journey = Journey(pilot, hall_a)
            assert hall_a.monitor.check() == () and hall_b.monitor.check() == ()
            await journey.reach(Step.WELCOME)
            assert await asyncio.to_thread(hall_a.heartbeat.beat) and await asyncio.to_thread(hall_b.heartbeat.beat)

            await asyncio.to_thread(sign_in)
            await asyncio.to_thread(until_colours, {"HALL-A": "green", "HALL-B": "green"})

            # HALL-B stops (no more heartbeats); HALL-A goes on. Past 2 intervals amber, past 4 red.
            service.clock.advance(2 * 15 + 1)
            assert await asyncio.to_thread(hall_a.heartbeat.beat)
            await asyncio.to_thread(until_colours, {"HALL-A": "green", "HALL-B": "amber"})
            service.clock.advance(2 * 15)
            assert await asyncio.to_thread(hall_a.heartbeat.beat)
            await asyncio.to_thread(until_colours, {"HALL-A": "green", "HALL-B": "red"})

            await asyncio.to_thread(take_out)  # the console's form: at HALL-A's next heartbeat
            assert journey.session.step is Step.WELCOME
            assert await asyncio.to_thread(hall_a.heartbeat.beat)
            screen = await journey.reach(Step.OUT_OF_SERVICE)
            assert screen.view.out_of_service == OPERATOR
            assert MESSAGE_EN in screen_text(app)
            assert hall_a.heartbeat.schedule.due()  # the change reported at once, not an interval later
            assert await asyncio.to_thread(hall_a.heartbeat.beat)
            browser.get(console)
            await asyncio.to_thread(until_colours, {"HALL-A": "red", "HALL-B": "red"})

            browser.get(console + "/kiosks/HALL-A")
            await asyncio.to_thread(put_back)
            assert await asyncio.to_thread(hall_a.heartbeat.beat)
            await journey.reach(Step.WELCOME)
            assert hall_a.heartbeat.schedule.due()
            assert await asyncio.to_thread(hall_a.heartbeat.beat)
            browser.get(console)
            await asyncio.to_thread(until_colours, {"HALL-A": "green", "HALL-B": "red"})
    finally:
        for kiosk in (hall_a, hall_b):
            kiosk.heartbeat.stop()
            kiosk.close_registry()
