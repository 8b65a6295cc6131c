"""The operator console in Debian's headless chromium (selenium): sign in, two kiosks heartbeating over HTTP turn green,
one stops and goes amber then red without a reload, the other is taken out of service by the form and put back."""
from __future__ import annotations

import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.service.heartbeat_fuzzer import PATH, valid_beat

OPERATOR, PASSWORD = "ops-1", "correct horse battery"
pytestmark = pytest.mark.parametrize("running_service", [
    pytest.param("sqlite", marks=pytest.mark.xdist_group("service-sqlite"))], indirect=True)


def state_of(browser: webdriver.Chrome, kiosk: str) -> str | None:
    # Read in the page itself: the refresh swaps the list's elements, so a held element would go stale.
    return browser.execute_script(f"var k=document.getElementById('kiosk-{kiosk}');return k?k.dataset.state:null")


def text_of(browser: webdriver.Chrome, element_id: str) -> str:
    # Read in the page too, for the same reason: an element found, then swapped by the refresh, is stale.
    return browser.execute_script(f"var e=document.getElementById('{element_id}');return e?e.innerText:''")


def open_kiosk(browser: webdriver.Chrome, kiosk: str) -> None:
    """Follow the kiosk's link in the list (in the page, so a refresh between finding and clicking cannot go stale)."""
    browser.execute_script(f"document.getElementById('kiosk-{kiosk}').click()")


def wait_for_state(browser: webdriver.Chrome, kiosk: str, state: str) -> None:
    WebDriverWait(browser, 10).until(lambda b: state_of(b, kiosk) == state,
                                     message=f"{kiosk} did not turn {state} (is {state_of(browser, kiosk)})")


def wait_outcome(browser: webdriver.Chrome, expected: str) -> None:
    """Wait for the page a form led to to say `expected`: until it has loaded, #outcome may still be the page
    before's (stale once the new one replaces it, or saying the last outcome)."""
    def says(b: webdriver.Chrome) -> bool:
        return b.execute_script("var o=document.getElementById('outcome');return o?o.dataset.outcome:null") == expected
    WebDriverWait(browser, 10).until(says, message=f"the console never said {expected}")


def test_the_console_follows_two_kiosks_and_sends_one_out_of_service_and_back(running_service, browser) -> None:
    running_service.service.operators.add(OPERATOR, PASSWORD)
    a = running_service.client(running_service.kiosk("HALL-A"))
    b = running_service.client(running_service.kiosk("HALL-B"))
    clock, interval = running_service.clock, running_service.settings.heartbeat_seconds

    def beat(kiosk, **changes) -> dict:
        answer = kiosk.post(PATH, json=valid_beat(**changes))
        assert answer.status_code == 200, answer.text
        return answer.json()

    try:
        browser.get(running_service.base_url + "/console")
        WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "operator-id"))
        assert browser.find_element(By.TAG_NAME, "h1").text == "自助终端运行监控"
        browser.find_element(By.ID, "operator-id").send_keys(OPERATOR)
        browser.find_element(By.ID, "password").send_keys(PASSWORD)
        browser.find_element(By.ID, "sign-in").click()
        wait_for_state(browser, "HALL-A", "red")  # listed, never heard from
        assert "从未收到心跳" in text_of(browser, "kiosk-HALL-A")
        page = browser.execute_script("return performance.getEntriesByType('navigation')[0].name")

        beat(a), beat(b)
        wait_for_state(browser, "HALL-A", "green")
        wait_for_state(browser, "HALL-B", "green")
        clock.advance(2 * interval + 1)  # HALL-A stops; HALL-B goes on
        beat(b)
        wait_for_state(browser, "HALL-A", "amber")
        assert "心跳中断" in text_of(browser, "kiosk-HALL-A") and state_of(browser, "HALL-B") == "green"
        clock.advance(2 * interval)
        etag = beat(b)["technicians"]["etag"]
        wait_for_state(browser, "HALL-A", "red")
        assert browser.execute_script("return performance.getEntriesByType('navigation')[0].name") == page  # no reload

        open_kiosk(browser, "HALL-B")
        WebDriverWait(browser, 10).until(lambda d: d.find_elements(By.ID, "take-out"))
        browser.find_element(By.ID, "message-zh").send_keys("本机维护中，请到 A 号机办理。")
        browser.find_element(By.ID, "message-en").send_keys("Under maintenance: please use kiosk A.")
        browser.find_element(By.ID, "take-out").click()
        wait_outcome(browser, "taken_out")
        order = beat(b, technicians_etag=etag)["out_of_service"]
        assert order["message_zh"] == "本机维护中，请到 A 号机办理。"
        assert order["message_en"] == "Under maintenance: please use kiosk A."
        beat(b, state="out_of_service", out_of_service_reasons=["operator"], technicians_etag=etag)
        browser.find_element(By.ID, "put-back").click()
        wait_outcome(browser, "put_back_done")
        assert beat(b, technicians_etag=etag)["out_of_service"] is None

        browser.get(running_service.base_url + "/console?lang=en")
        wait_for_state(browser, "HALL-B", "green")
        assert browser.find_element(By.TAG_NAME, "h1").text == "Kiosk fleet"
        assert "heartbeats missed" in text_of(browser, "kiosk-HALL-A")
        kinds = [e.kind for e in running_service.service.registry.audit_events(["console_out_of_service",
                                                                                 "console_in_service"])]
        assert kinds == ["console_in_service", "console_out_of_service"]
    finally:
        a.close()
        b.close()
        browser.delete_all_cookies()  # the next test of the module signs in afresh
        browser.get("about:blank")
