"""The tester's phone page in Debian's headless chromium (selenium): open the QR's URL, sign in, confirm; a stranger is refused."""
from __future__ import annotations

import html
import urllib.parse

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, WebDriverException
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import Select, WebDriverWait

from kiosk.registry.service_client import ServiceRegistry, ServiceTimeouts
from tests.unit.core.test_registry_port import LI_NA, ZHANG_CARD, ZHANG_WEI, ZHANG_XIAOYU

QUICK = ServiceTimeouts(connect_seconds=2, read_seconds=10, total_seconds=10, retries=1, backoff_seconds=0.05)
pytestmark = pytest.mark.parametrize("running_service", [
    pytest.param("sqlite", marks=pytest.mark.xdist_group("service-sqlite"))], indirect=True)


@pytest.fixture
def ticket(running_service):
    kiosk = ServiceRegistry(running_service.base_url, running_service.kiosk("HALL-3"), QUICK)
    issued = kiosk.register(ZHANG_CARD, ZHANG_XIAOYU, "phone-page-0001").ticket
    assert issued is not None
    yield kiosk, issued
    kiosk.close()


def page_url(running_service, qr_url: str) -> str:
    """The QR's URL, its host swapped for the test server's (the tester's phone reaches the LAN address instead)."""
    return running_service.base_url + urllib.parse.urlsplit(qr_url).path


def after_the_page_turns(browser: webdriver.Chrome, element_id: str, shows) -> None:
    """Wait until the element `element_id` of the next page `shows(text)` (the old page's element may go stale meanwhile)."""
    # chromium may also answer "node does not belong to the document" (a WebDriverException) while the page turns.
    WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException, WebDriverException)).until(
        lambda b: shows(b.find_element(By.ID, element_id).text))


def outcome(browser: webdriver.Chrome) -> str:
    # Read in one go and retried: found while the page turns, the element may go stale before its attribute is read.
    return WebDriverWait(browser, 10, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: b.find_element(By.ID, "outcome").get_attribute("data-outcome"))


def test_the_guardian_signs_in_on_the_phone_page_and_confirms(running_service, browser, ticket) -> None:
    kiosk, issued = ticket
    browser.get(page_url(running_service, issued.url))
    assert browser.find_element(By.TAG_NAME, "h1").text == "激活儿童电子社保卡"
    assert browser.find_element(By.ID, "child").text == "张*雨"
    assert browser.find_element(By.ID, "kiosk").text == "HALL-3"
    Select(browser.find_element(By.ID, "guardian")).select_by_value(ZHANG_WEI)
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "confirm"))
    assert browser.find_element(By.ID, "signed-in").text == "4301…0016"
    browser.find_element(By.ID, "confirm").click()
    assert outcome(browser) == "activated"
    assert kiosk.ticket_state(issued.ticket_id).state == "activated"


def test_another_guardian_typed_in_english_is_refused_plainly(running_service, browser, ticket) -> None:
    kiosk, issued = ticket
    browser.get(page_url(running_service, issued.url) + "?lang=en")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Activate a child's e-card"
    browser.find_element(By.ID, "typed").send_keys(LI_NA)
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "confirm")).pop().click()
    assert outcome(browser) == "access_denied"
    assert "not the guardian" in browser.find_element(By.ID, "outcome").text
    assert kiosk.ticket_state(issued.ticket_id).state == "pending"


def test_a_form_posted_without_the_page_token_is_refused(running_service, ticket) -> None:
    _, issued = ticket
    token = urllib.parse.urlsplit(issued.url).path.rsplit("/", 1)[1]
    with running_service.client() as phone:
        forged = phone.post(f"/a/{token}/confirm", data={"rid": ZHANG_WEI, "csrf": "guess", "lang": "zh"})
    assert forged.status_code == 403 and 'data-outcome="csrf"' in forged.text


def test_the_language_switch_after_sign_in_keeps_the_guardian_signed_in_on_the_same_step(
    running_service, browser, ticket
) -> None:
    kiosk, issued = ticket
    browser.get(page_url(running_service, issued.url))
    Select(browser.find_element(By.ID, "guardian")).select_by_value(ZHANG_WEI)
    browser.find_element(By.ID, "sign-in").click()
    WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.ID, "confirm"))
    assert browser.find_element(By.ID, "confirm").text == "确认激活"
    browser.find_element(By.ID, "lang-switch").click()  # the step was a POST: a link here answered 405
    after_the_page_turns(browser, "confirm", lambda text: text == "Confirm activation")
    assert browser.find_element(By.TAG_NAME, "h1").text == "Activate a child's e-card"
    assert browser.find_element(By.ID, "signed-in").text == "4301…0016"  # still the same guardian
    assert browser.find_element(By.ID, "child").text == "张*雨"
    browser.find_element(By.ID, "confirm").click()
    assert outcome(browser) == "activated"
    assert "Go back to the kiosk" in browser.find_element(By.ID, "outcome").text
    browser.find_element(By.ID, "lang-switch").click()  # the outcome again in Chinese, not a second activation
    after_the_page_turns(browser, "outcome", lambda text: "回到自助机" in text)
    assert outcome(browser) == "activated"
    assert kiosk.ticket_state(issued.ticket_id).state == "activated"


def test_the_phone_page_words_are_the_kiosks_catalogue_in_both_languages(running_service, ticket) -> None:
    from kiosk.i18n import message
    from registry_service.phone_page import OUTCOME_KEYS, WORDS

    _, issued = ticket
    path = urllib.parse.urlsplit(issued.url).path
    with running_service.client() as phone:
        for lang, query in (("zh", ""), ("en", "?lang=en")):
            page = phone.get(path + query).text
            for key in ("title", "child", "kiosk", "sign_in", "pick", "next", "switch"):
                assert html.escape(message(WORDS[key], lang)) in page, (lang, key)
    assert all(message(key, "zh") != message(key, "en") for key in OUTCOME_KEYS.values())
