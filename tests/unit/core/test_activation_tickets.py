"""Provides tests of activation tickets: hash-only storage, single use, expiry, revocation, user codes and URLs."""
from __future__ import annotations

import base64

import hashlib
import re
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy

from kiosk.domain import ECardState
from kiosk.errors import KioskError
from kiosk.ports import ManualClock
from kiosk.registry import Registry, RegistrationRefused
from kiosk.tickets import (
    USER_CODE_ALPHABET,
    activation_key,
    activation_url,
    digest,
    new_token,
    new_user_code,
    normalise_user_code,
    token_from_url,
)

from .conftest import KIOSK_ID

ZHANG_WEI = "430102198803150016"
ZHANG_XIAOYU = "430102201906010029"
LI_SIYUAN_ECARD_CHILD = "430102201809090071"
URL_BASE = "https://ecard.example.gov.cn/activate"
TTL = 300


@pytest.fixture
def ecard_id(demo_registry: Registry) -> int:
    return demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)


def activation_error(registry: Registry, presented: str) -> str:
    with pytest.raises(KioskError) as caught:
        registry.activate(presented)
    return caught.value.code


# ---------------------------------------------------------------- tokens, codes and URLs
def test_user_codes_are_eight_unambiguous_consonants_shown_in_two_groups() -> None:
    for _ in range(200):
        code = new_user_code()
        assert re.fullmatch(f"[{USER_CODE_ALPHABET}]{{4}}-[{USER_CODE_ALPHABET}]{{4}}", code)
    assert not set("AEIOUY0123456789") & set(USER_CODE_ALPHABET)


@pytest.mark.parametrize("typed", ["BCDF-GHJK", "bcdf-ghjk", "bcdfghjk", " BCDF GHJK ", "bc-df gh-jk"])
def test_user_codes_match_whatever_the_case_dashes_and_spaces(typed: str) -> None:
    assert normalise_user_code(typed) == "BCDFGHJK"


@pytest.mark.parametrize("typed", ["BCDF-GHJ", "BCDF-GHJKL", "BCDF-GHJA", "BCDF-GHJ1", ""])
def test_text_that_is_no_user_code_is_not_taken_for_one(typed: str) -> None:
    assert normalise_user_code(typed) is None


def test_tokens_are_url_safe_and_fresh_each_time() -> None:
    tokens = {new_token() for _ in range(50)}
    assert len(tokens) == 50 and all(re.fullmatch(r"[A-Za-z0-9_-]{22}", token) for token in tokens)


@pytest.mark.parametrize(
    ("base", "expected"),
    [
        ("https://e.example/activate", "https://e.example/activate/TOKEN"),
        ("https://e.example/activate/", "https://e.example/activate/TOKEN"),
        ("https://e.example/activate?lang=zh", "https://e.example/activate/TOKEN?lang=zh"),
        ("https://e.example/activate?t=old&lang=zh", "https://e.example/activate/TOKEN?lang=zh"),
        ("https://e.example/activate?lang=zh#top", "https://e.example/activate/TOKEN?lang=zh#top"),
    ],
)
def test_the_activation_url_adds_the_token_to_the_path_of_the_base(base: str, expected: str) -> None:
    assert activation_url(base, "TOKEN") == expected


def test_the_token_is_read_back_from_the_url() -> None:
    token = new_token()
    assert token_from_url(activation_url("https://e.example/a?x=1", token)) == token
    assert token_from_url("https://e.example/a?x=1") is None


def test_the_url_with_the_default_base_fits_one_80_column_line_and_carries_128_bits() -> None:
    from kiosk.settings import load_settings

    base = load_settings(environ={}).settings.activation_url_base
    url = activation_url(base, new_token())
    assert len(url) <= 80, url
    assert len(base64.urlsafe_b64decode(token_from_url(url) + "==")) * 8 >= 128


def test_a_last_release_url_of_a_live_ticket_still_reads_as_its_token() -> None:
    old_token = "A" * 43  # the last release's 32-byte tokens, in its ?t= form
    assert token_from_url(f"https://e.example/activate?t={old_token}") == old_token
    assert activation_key(f"https://e.example/activate?lang=zh&t={old_token}") == activation_key(old_token)


@pytest.mark.parametrize("pasted", [
    "https://e.example/activate/\n{token}", " https://e.example/act ivate/{token}\r\n", "https://e.example/\tactivate/{to\nken}",
    "{token}\n", "https://e.example/activate/{token}\u3000",
])
def test_whitespace_and_line_breaks_in_a_pasted_url_or_token_are_ignored(pasted: str) -> None:
    token = new_token()
    text = pasted.replace("{to\nken}", token[:5] + "\n" + token[5:]).replace("{token}", token)
    assert activation_key(text) == activation_key(token)
    assert activation_key("BCDF\nGHJK") == activation_key("BCDF-GHJK")


@pytest.mark.parametrize("typed", ["\udcff", "KBCD-\udcffFGHJ", "https://e.example/a?t=\ud800"])
def test_text_that_is_not_unicode_reads_as_no_key(typed: str) -> None:
    # Seen on main: `kiosk.py activate $'\xff'` died with UnicodeEncodeError in digest().
    assert activation_key(typed) is None


def test_what_the_app_sends_is_told_apart() -> None:
    token = new_token()
    assert activation_key(activation_url(URL_BASE, token)) == activation_key(token)
    key = activation_key("bcdf-ghjk")
    assert key is not None and key.kind == "user_code" and key.digest == digest("BCDFGHJK")
    assert activation_key("   ") is None
    assert activation_key("https://e.example/a") is None


# ---------------------------------------------------------------- issuing and activating
def test_a_new_ticket_is_pending_and_expires_after_its_time(demo_registry: Registry, ecard_id: int, clock: ManualClock) -> None:
    ticket = demo_registry.issue_ticket(ecard_id, URL_BASE, TTL)
    assert ticket.ecard_id == ecard_id and ticket.url == f"{URL_BASE}/{ticket.token}"
    assert ticket.expires_at == clock.now() + timedelta(seconds=TTL) and ticket.expires_at.tzinfo is not None
    assert demo_registry.ticket_state(ticket.ticket_id) == "pending"


def test_only_hashes_of_the_token_and_user_code_reach_the_database(
    demo_registry: Registry, ecard_id: int, tmp_path: Path
) -> None:
    ticket = demo_registry.issue_ticket(ecard_id, URL_BASE, TTL)
    with demo_registry.database.engine.connect() as connection:
        tables = sqlalchemy.inspect(connection).get_table_names()
        rows = [list(connection.execute(sqlalchemy.text(f'SELECT * FROM "{table}"'))) for table in tables]
    stored = repr(rows).encode()
    if demo_registry.database.url.startswith("sqlite"):
        # The files themselves too: the WAL and freed pages must not hold a plain token either.
        stored += b"".join(path.read_bytes() for path in (tmp_path / "data").iterdir())
    code = normalise_user_code(ticket.user_code)
    assert code is not None
    for secret in (ticket.token, ticket.user_code, code):
        assert secret.encode() not in stored
    assert hashlib.sha256(ticket.token.encode()).hexdigest().encode() in stored


@pytest.mark.parametrize("form", ["url", "token", "code", "typed code"])
def test_the_app_activates_with_the_url_the_token_or_the_user_code(
    demo_registry: Registry, ecard_id: int, clock: ManualClock, form: str
) -> None:
    ticket = demo_registry.issue_ticket(ecard_id, URL_BASE, TTL)
    presented = {
        "url": ticket.url,
        "token": ticket.token,
        "code": ticket.user_code,
        "typed code": ticket.user_code.lower().replace("-", " "),
    }[form]
    clock.advance(30)
    result = demo_registry.activate(presented)
    assert (result.ticket_id, result.ecard_id, result.child_masked_id) == (ticket.ticket_id, ecard_id, "4301**********0029")
    assert result.activated_at == clock.now()
    assert demo_registry.ticket_state(ticket.ticket_id) == "activated"
    found = demo_registry.child_ecard(ZHANG_XIAOYU)
    assert found is not None and found.state is ECardState.ACTIVE
    assert demo_registry.pending_for_guardian(ZHANG_WEI) == []


def test_a_ticket_works_only_once(demo_registry: Registry, ecard_id: int) -> None:
    ticket = demo_registry.issue_ticket(ecard_id, URL_BASE, TTL)
    demo_registry.activate(ticket.url)
    assert activation_error(demo_registry, ticket.url) == "ACTIVATION_USED"
    assert activation_error(demo_registry, ticket.user_code) == "ACTIVATION_USED"


def test_a_ticket_expires_when_the_clock_passes_its_time(demo_registry: Registry, ecard_id: int, clock: ManualClock) -> None:
    ticket = demo_registry.issue_ticket(ecard_id, URL_BASE, TTL)
    clock.advance(TTL - 1)
    assert demo_registry.ticket_state(ticket.ticket_id) == "pending"
    clock.advance(1)
    assert demo_registry.ticket_state(ticket.ticket_id) == "expired"
    assert activation_error(demo_registry, ticket.token) == "ACTIVATION_EXPIRED"
    found = demo_registry.child_ecard(ZHANG_XIAOYU)
    assert found is not None and found.state is ECardState.PENDING


def test_a_new_ticket_revokes_the_earlier_unused_one(demo_registry: Registry, ecard_id: int) -> None:
    first = demo_registry.issue_ticket(ecard_id, URL_BASE, TTL)
    second = demo_registry.issue_ticket(ecard_id, URL_BASE, TTL)
    assert demo_registry.ticket_state(first.ticket_id) == "revoked"
    assert activation_error(demo_registry, first.url) == "ACTIVATION_EXPIRED"
    assert activation_error(demo_registry, first.user_code) == "ACTIVATION_EXPIRED"
    demo_registry.activate(second.user_code)


def test_unknown_tokens_codes_and_tickets_are_activation_unknown(demo_registry: Registry, ecard_id: int) -> None:
    demo_registry.issue_ticket(ecard_id, URL_BASE, TTL)
    assert activation_error(demo_registry, new_token()) == "ACTIVATION_UNKNOWN"
    assert activation_error(demo_registry, f"{URL_BASE}?t={new_token()}") == "ACTIVATION_UNKNOWN"
    assert activation_error(demo_registry, URL_BASE) == "ACTIVATION_UNKNOWN"
    with pytest.raises(KioskError) as caught:
        demo_registry.ticket_state(987654)
    assert caught.value.code == "ACTIVATION_UNKNOWN"


def test_no_ticket_is_issued_for_an_active_e_card(demo_registry: Registry) -> None:
    active = demo_registry.child_ecard(LI_SIYUAN_ECARD_CHILD)
    assert active is not None
    with pytest.raises(RegistrationRefused) as caught:
        demo_registry.issue_ticket(active.ecard_id, URL_BASE, TTL)
    assert caught.value.code == "CHILD_HAS_ECARD"


def test_a_resumed_registration_gets_a_fresh_ticket_for_the_same_e_card(demo_registry: Registry, ecard_id: int) -> None:
    first = demo_registry.issue_ticket(ecard_id, URL_BASE, TTL)
    again = demo_registry.register_ecard(ZHANG_WEI, ZHANG_XIAOYU, KIOSK_ID)
    fresh = demo_registry.issue_ticket(again, URL_BASE, TTL)
    assert again == ecard_id and fresh.token != first.token and fresh.user_code != first.user_code
    demo_registry.activate(fresh.url)


def test_purge_deletes_run_out_tickets_and_keeps_used_ones(demo_registry: Registry, ecard_id: int, clock: ManualClock) -> None:
    revoked = demo_registry.issue_ticket(ecard_id, URL_BASE, TTL)
    used = demo_registry.issue_ticket(ecard_id, URL_BASE, TTL)
    demo_registry.activate(used.url)
    assert demo_registry.purge_expired() == 0  # the revoked one has not run out yet
    clock.advance(TTL)
    assert demo_registry.purge_expired() == 1
    assert activation_error(demo_registry, revoked.url) == "ACTIVATION_UNKNOWN"
    assert activation_error(demo_registry, used.url) == "ACTIVATION_USED"


def test_a_ticket_needs_a_positive_lifetime(demo_registry: Registry, ecard_id: int) -> None:
    with pytest.raises(ValueError):
        demo_registry.issue_ticket(ecard_id, URL_BASE, 0)
