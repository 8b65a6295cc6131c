"""Provides the tests of odd cards over the real PC/SC stack (pcscd, vpcd): no FCI, 6282 on short records, 6300 for a
wrong PIN, longer and padded records, T=0 61xx/6Cxx, 6Cxx to VERIFY, endless 61xx; each read right or refused by name."""
from __future__ import annotations

from typing import Callable

import pytest

from devices.apdu import READ_APDU_LIMIT
from devices.codec import encode_an, encode_tlv
from devices.service import ReaderCardService
from devices.sscard import EF05, EF06
from kiosk.domain import PinResult, PinStatus
from kiosk.errors import KioskError
from tests.odd_cards import ODD_CARDS, RewritingCard, odd_card

pytestmark = pytest.mark.pcsc

# One demo card per oddity, 2.00 and 3.00 (through the PSAM in slot 1) in turn: each insertion over vpcd costs pcscd
# polls, and every oddity is read with both cards in the simulated-reader tests (tests/unit/devices/).
CASES = [(oddity, ("li-na-2.00", "zhang-wei-3.00")[index % 2]) for index, oddity in enumerate(ODD_CARDS)]


def _code_of(call: Callable[[], object]) -> str:
    with pytest.raises(KioskError) as caught:
        call()
    return caught.value.code


@pytest.mark.parametrize(("oddity", "stem"), CASES, ids=[f"{o} ({s})" for o, s in CASES])
def test_an_odd_but_valid_card_reads_over_pcsc_as_its_profile_says(service: ReaderCardService, guardian_slot,
                                                                  profiles, master_key, oddity: str, stem: str) -> None:
    behaviour, layout = ODD_CARDS[oddity]
    card = odd_card(profiles[stem], master_key, behaviour=behaviour, layout=layout)
    guardian_slot.insert(card)
    read = service.read_card()
    holder, issuer = profiles[stem].holder, profiles[stem].issuer
    assert read.holder is not None
    assert (read.holder.name, read.holder.resident_id, read.holder.birth_date) == (
        holder.name, holder.resident_id, holder.birth_date)
    assert (read.issuer.card_number, read.issuer.expiry_date, read.issuer.init_org) == (
        issuer.card_number, issuer.expiry_date, issuer.init_org)
    assert read.apdu_count == card.apdus_since_power_on <= READ_APDU_LIMIT
    assert service.verify_pin("123456") == PinResult(PinStatus.VERIFIED)


def test_a_wrong_pin_answered_6300_costs_one_try_and_says_tries_unknown(service, guardian_slot, card_of) -> None:
    card = card_of("li-na-2.00")
    card.pin_reports_tries = False
    guardian_slot.insert(card)
    service.read_card()
    assert service.pin_tries_left() is None
    assert service.verify_pin("000000") == PinResult(PinStatus.WRONG, None)
    assert card.pin_tries_left == 2


def test_6cxx_to_verify_over_pcsc_is_refused_by_name_and_costs_one_try(service, guardian_slot, card_of) -> None:
    inner = card_of("li-na-2.00")
    card = RewritingCard(inner, lambda command, answer: b"\x6c\x03" if command[:2] == b"\x00\x20" and len(command) > 5
                         else answer)
    guardian_slot.insert(card)
    service.read_card()
    assert _code_of(lambda: service.verify_pin("000000")) == "CARD_COMMUNICATION"
    assert card.verifies == 1 and inner.pin_tries_left == 2


def test_an_endless_61xx_card_over_pcsc_is_card_apdu_limit(service, guardian_slot, card_of) -> None:
    card = RewritingCard(card_of("li-na-2.00"),
                         lambda command, answer: b"\x61\x00" if command[1] in (0xB2, 0xC0) else answer)
    guardian_slot.insert(card)
    assert _code_of(service.read_card) == "CARD_APDU_LIMIT"
    assert len(card.sent) <= READ_APDU_LIMIT


@pytest.mark.parametrize(
    ("file_id", "tag", "value", "code"),
    [
        (EF05, 0x06, b"", "CARD_DATA_MISSING"),  # an empty expiry date: never "no expiry"
        (EF06, 0x09, encode_an("李娜") + b"\xff\x41", "CARD_DATA_INVALID"),  # not GBK
    ],
    ids=["empty expiry", "bad GBK"],
)
def test_a_card_with_a_missing_or_broken_item_is_refused_by_name_over_pcsc(service, guardian_slot, card_of,
                                                                          file_id: int, tag: int, value: bytes,
                                                                          code: str) -> None:
    card = card_of("li-na-2.00")
    card.set_record(file_id, tag, encode_tlv(tag, value))
    guardian_slot.insert(card)
    assert _code_of(service.read_card) == code
