"""Provides the tests of the card layer against cards that answer oddly (issue 9): longer and padded records, missing
and impossible items, escapes in names, 6Cxx to VERIFY, endless 61xx, each read right or refused by name."""
from __future__ import annotations

from datetime import date, timedelta
from typing import Callable

import pytest

from devices.apdu import PIN_APDU_LIMIT, READ_APDU_LIMIT
from devices.codec import VISIBLE_MARK, encode_an, encode_cn, encode_cn_date, encode_tlv
from devices.service import ReaderCardService
from devices.simulated import SimulatedReader
from devices.sscard import EF05, EF06
from devices.virtual_card import VirtualCard
from kiosk.domain import GuardianCard, PinResult, PinStatus
from kiosk.errors import KioskError
from tests.odd_cards import ODD_CARDS, RewritingCard, answer_to, odd_card

STEMS = ("li-na-2.00", "zhang-wei-3.00")


def _code_of(call: Callable[[], object]) -> str:
    with pytest.raises(KioskError) as caught:
        call()
    return caught.value.code


def _read(service: ReaderCardService, reader: SimulatedReader, card) -> GuardianCard:
    reader.insert(card)
    return service.read_card()


# ---------------------------------------------------------------- valid cards, laid out the way other issuers do
@pytest.mark.parametrize("stem", STEMS)
@pytest.mark.parametrize("oddity", list(ODD_CARDS))
def test_an_odd_but_valid_card_reads_exactly_as_a_plain_one(service, guardian_reader, card_of, profiles, master_key,
                                                           stem: str, oddity: str) -> None:
    plain = _read(service, guardian_reader, card_of(stem))
    behaviour, layout = ODD_CARDS[oddity]
    odd = _read(service, guardian_reader, odd_card(profiles[stem], master_key, behaviour=behaviour, layout=layout))
    assert (odd.issuer, odd.holder) == (plain.issuer, plain.holder)
    assert odd.apdu_count <= READ_APDU_LIMIT


def test_a_record_longer_than_le_answered_the_iso_way_is_read_again_once_with_its_declared_length(
        service, guardian_reader, card_of, profiles, master_key) -> None:
    # Seen on main: the first Le bytes with 9000 were refused as CARD_DATA_INVALID.
    plain = _read(service, guardian_reader, card_of("li-na-2.00"))
    iso = odd_card(profiles["li-na-2.00"], master_key, behaviour={"long_record": "truncate"})
    assert _read(service, guardian_reader, iso).apdu_count == plain.apdu_count  # no extra APDU for a normal card
    longer = odd_card(profiles["li-na-2.00"], master_key, behaviour={"long_record": "truncate"},
                      layout={"sizes": {"name": 40, "init_org": 12}})
    read = _read(service, guardian_reader, longer)
    assert read.apdu_count == plain.apdu_count + 2  # one more READ RECORD for each of the two longer items
    assert (read.holder.name, read.issuer.init_org) == ("李娜", "430100000000")


def test_a_name_longer_than_the_specs_30_bytes_is_read_whole(service, guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    long_name = "阿卜杜热合曼·买买提明·艾则孜"
    card.set_item(EF06, 0x09, encode_an(long_name, 40))
    assert _read(service, guardian_reader, card).holder.name == long_name


def test_an_organisation_number_written_in_12_bytes_is_read(service, guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    card.set_item(EF05, 0x04, encode_cn("430100000000", 12))
    assert _read(service, guardian_reader, card).issuer.init_org == "430100000000"


def test_a_resident_id_padded_after_its_18_characters_is_read(service, guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    card.set_item(EF06, 0x08, b"43010219900708004X  \x00\x00")
    assert _read(service, guardian_reader, card).holder.resident_id == "43010219900708004X"


# ---------------------------------------------------------------- silent misreads
def test_a_tlv_length_shorter_than_the_data_never_cuts_the_name(service, guardian_reader, card_of) -> None:
    # Seen on main: length 2 before 张伟 (4 bytes) read the name as 张.
    card = card_of("li-na-2.00")
    card.set_record(EF06, 0x09, bytes([0x09, 2]) + encode_an("李娜", 30))
    guardian_reader.insert(card)
    assert _code_of(service.read_card) == "CARD_DATA_INVALID"


@pytest.mark.parametrize(
    ("file_id", "tag", "value"),
    [
        (EF05, 0x06, b""),  # seen on main: a zero-length expiry date read as "no expiry"
        (EF05, 0x06, b"\xff" * 4),
        (EF06, 0x0D, b""),
        (EF06, 0x0D, b"\xff" * 4),
        (EF06, 0x08, b""),
        (EF06, 0x08, bytes(18)),
        (EF05, 0x07, b""),
        (EF05, 0x07, b" " * 9),
    ],
)
def test_an_empty_item_the_rules_need_is_card_data_missing(service, guardian_reader, card_of,
                                                          file_id: int, tag: int, value: bytes) -> None:
    card = card_of("li-na-2.00")
    card.set_item(file_id, tag, value)
    guardian_reader.insert(card)
    assert _code_of(service.read_card) == "CARD_DATA_MISSING"


def test_an_expiry_date_the_card_does_not_have_is_card_data_missing(service, guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    card.set_expiry_date(None)
    guardian_reader.insert(card)
    assert _code_of(service.read_card) == "CARD_DATA_MISSING"


@pytest.mark.parametrize(
    ("file_id", "tag", "value"),
    [
        (EF06, 0x0D, encode_cn_date(date(8187, 1, 1))),  # seen on main: accepted
        (EF06, 0x0D, encode_cn_date(date.today() + timedelta(days=2))),  # born after today
        (EF06, 0x0D, encode_cn_date(date(1799, 12, 31))),
        (EF05, 0x06, encode_cn_date(date(8187, 1, 1))),
        (EF05, 0x06, encode_cn_date(date(2020, 1, 1))),  # expires before it was issued (2021)
        (EF05, 0x05, encode_cn_date(date(8187, 1, 1))),
        (EF06, 0x08, b"430102199007080041"),  # check character wrong
        (EF06, 0x08, b"430102199002300047"),  # 30 February
    ],
)
def test_an_impossible_value_is_card_data_invalid(service, guardian_reader, card_of,
                                                 file_id: int, tag: int, value: bytes) -> None:
    card = card_of("li-na-2.00")
    card.set_item(file_id, tag, value)
    guardian_reader.insert(card)
    assert _code_of(service.read_card) == "CARD_DATA_INVALID"


# ---------------------------------------------------------------- escapes
def test_terminal_escapes_in_the_holders_name_are_shown_as_a_visible_mark(service, guardian_reader, card_of) -> None:
    # Seen on main: ESC [2J and SO in the name went raw to the terminal.
    card = card_of("li-na-2.00")
    card.set_item(EF06, 0x09, b"\x1b[2J\x0e" + encode_an("李娜"))
    name = _read(service, guardian_reader, card).holder.name
    assert name == f"{VISIBLE_MARK}[2J{VISIBLE_MARK}李娜"
    assert "\x1b" not in name and "\x0e" not in name


def test_a_name_that_is_not_gbk_leaves_none_of_its_bytes_in_the_error(service, guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    raw = encode_an("李娜") + b"\xff\x41"
    card.set_record(EF06, 0x09, encode_tlv(0x09, raw))
    guardian_reader.insert(card)
    with pytest.raises(KioskError) as caught:
        service.read_card()
    assert caught.value.code == "CARD_DATA_INVALID"
    assert raw.hex().upper()[:8] not in caught.value.detail.upper() and "李" not in caught.value.detail


# ---------------------------------------------------------------- PIN tries and bounded reads
@pytest.mark.parametrize(("pin", "tries_after"), [("000000", 2), ("123456", 3)])
def test_6cxx_to_verify_costs_the_typed_pin_one_try_at_most(service, guardian_reader, card_of,
                                                            pin: str, tries_after: int) -> None:
    # Seen on main: the VERIFY was sent again with Le from 6Cxx: one typed PIN cost two tries.
    inner = card_of("li-na-2.00")
    card = RewritingCard(inner, lambda command, answer: b"\x6c\x03" if command[:2] == b"\x00\x20" and len(command) > 5
                         else answer)
    guardian_reader.insert(card)
    service.read_card()
    assert _code_of(lambda: service.verify_pin(pin)) == "CARD_COMMUNICATION"
    assert card.verifies == 1 and inner.pin_tries_left == tries_after


@pytest.mark.parametrize("answer", ["6100", "AA6101", "6C10"])
def test_a_card_answering_61xx_or_6cxx_forever_is_refused_within_the_reads_budget(
        service, guardian_reader, card_of, answer: str) -> None:
    # Seen on main: 616,137 APDUs in 5 s, the read never ended.
    card = RewritingCard(card_of("li-na-2.00"), answer_to(0xB2, bytes.fromhex(answer)))
    if answer == "AA6101":
        card.rewrite = lambda command, response: bytes.fromhex(answer) if command[1] in (0xB2, 0xC0) else response
    guardian_reader.insert(card)
    assert _code_of(service.read_card) in ("CARD_APDU_LIMIT", "CARD_COMMUNICATION")
    assert len(card.sent) <= READ_APDU_LIMIT


def test_an_endless_61xx_chain_is_card_apdu_limit(service, guardian_reader, card_of) -> None:
    card = RewritingCard(card_of("li-na-2.00"),
                         lambda command, response: b"\x61\x00" if command[1] in (0xB2, 0xC0) else response)
    guardian_reader.insert(card)
    assert _code_of(service.read_card) == "CARD_APDU_LIMIT"


def test_the_pin_steps_are_bounded_too(service, guardian_reader, card_of) -> None:
    inner = card_of("li-na-2.00")
    card = RewritingCard(inner, lambda command, response: response)
    guardian_reader.insert(card)
    service.read_card()
    card.rewrite = lambda command, response: b"\x61\x00" if command[1] in (0x20, 0xC0) else response
    before = len(card.sent)
    assert _code_of(service.pin_tries_left) == "CARD_APDU_LIMIT"
    assert _code_of(lambda: service.verify_pin("123456")) == "CARD_APDU_LIMIT"
    assert len(card.sent) - before <= 2 * PIN_APDU_LIMIT and card.verifies == 1


def test_a_wrong_pin_answered_6300_without_a_counter_is_wrong_with_tries_unknown(service, guardian_reader,
                                                                                   card_of) -> None:
    card: VirtualCard = card_of("li-na-2.00")
    card.pin_reports_tries = False
    guardian_reader.insert(card)
    service.read_card()
    assert service.verify_pin("000000") == PinResult(PinStatus.WRONG, None)
    assert card.pin_tries_left == 2
