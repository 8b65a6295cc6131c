"""Provides the tests of the card data encodings: TLV, cn BCD and dates, an text, PIN BCD."""
from __future__ import annotations

from datetime import date

import pytest

from devices.codec import (
    decode_an,
    decode_cn,
    decode_cn_date,
    encode_an,
    encode_cn,
    encode_cn_date,
    encode_tlv,
    parse_tlv,
    pin_to_bcd,
)
from kiosk.errors import KioskError


def _rejected_as_invalid(call, *args) -> None:
    with pytest.raises(KioskError) as caught:
        call(*args)
    assert caught.value.code == "CARD_DATA_INVALID"


def test_tlv_record_gives_tag_and_value() -> None:
    record = parse_tlv(bytes.fromhex("0A0131"))
    assert (record.tag, record.value) == (0x0A, b"1")


def test_tlv_empty_value_is_allowed() -> None:
    assert parse_tlv(bytes.fromhex("4E00")).value == b""


def test_tlv_padding_after_the_value_is_ignored() -> None:
    assert parse_tlv(bytes.fromhex("0A0131FFFF")).value == b"1"


@pytest.mark.parametrize("raw", ["", "09", "0903C9E7", "091E" + "00" * 29])
def test_truncated_tlv_is_card_data_invalid(raw: str) -> None:
    _rejected_as_invalid(parse_tlv, bytes.fromhex(raw))


def test_tlv_encodes_what_it_parses() -> None:
    assert parse_tlv(encode_tlv(0x09, b"abc")).value == b"abc"


def test_tlv_refuses_values_longer_than_255() -> None:
    with pytest.raises(ValueError):
        encode_tlv(0x09, bytes(256))


@pytest.mark.parametrize(
    ("raw", "digits"),
    [("430100000000", "430100000000"), ("01", "01"), ("430102", "430102"), ("12345F", "12345"), ("FFFF", "")],
)
def test_cn_decodes_left_aligned_bcd(raw: str, digits: str) -> None:
    assert decode_cn(bytes.fromhex(raw)) == digits


@pytest.mark.parametrize("raw", ["1A", "C1", "F1", "1F2F", "12F4"])
def test_cn_rejects_non_digits_and_digits_after_padding(raw: str) -> None:
    _rejected_as_invalid(decode_cn, bytes.fromhex(raw))


def test_cn_encoder_pads_with_f() -> None:
    assert encode_cn("12345", 4) == bytes.fromhex("12345FFF")


@pytest.mark.parametrize("digits", ["12a", "123456789"])
def test_cn_encoder_refuses_non_digits_and_overflow(digits: str) -> None:
    with pytest.raises(ValueError):
        encode_cn(digits, 4)


def test_cn_date_decodes_yyyymmdd() -> None:
    assert decode_cn_date(bytes.fromhex("19880315")) == date(1988, 3, 15)


def test_cn_date_all_padding_means_no_date() -> None:
    assert decode_cn_date(bytes.fromhex("FFFFFFFF")) is None


@pytest.mark.parametrize("raw", ["20230230", "20231301", "20230000", "202301FF", "2023010"])
def test_impossible_or_short_dates_are_card_data_invalid(raw: str) -> None:
    _rejected_as_invalid(decode_cn_date, bytes.fromhex(raw.ljust(8, "F")))


def test_cn_date_round_trips() -> None:
    assert decode_cn_date(encode_cn_date(date(2024, 2, 29))) == date(2024, 2, 29)


def test_an_decodes_ascii_and_strips_00_and_spaces() -> None:
    assert decode_an(b"L43000001") == "L43000001"
    assert decode_an(b"3.00  \x00\x00") == "3.00"


def test_an_decodes_gbk_chinese() -> None:
    assert decode_an(bytes.fromhex("D5C5CEB0") + bytes(26)) == "张伟"


def test_an_empty_padding_is_empty_text() -> None:
    assert decode_an(bytes(20)) == ""


@pytest.mark.parametrize("raw", ["FF41", "C9", "D5C5CE", "4100420000"])
def test_bad_gbk_or_embedded_00_is_card_data_invalid(raw: str) -> None:
    _rejected_as_invalid(decode_an, bytes.fromhex(raw))


def test_an_encoder_pads_gbk_with_00() -> None:
    assert encode_an("李娜", 6) == "李娜".encode("gbk") + b"\x00\x00"


def test_an_encoder_refuses_text_too_long_or_outside_gbk() -> None:
    with pytest.raises(ValueError):
        encode_an("张伟张伟", 6)
    with pytest.raises(ValueError):
        encode_an("😀", 6)


def test_six_digit_pin_packs_into_three_bytes() -> None:
    assert pin_to_bcd("123456") == bytes.fromhex("123456")


@pytest.mark.parametrize(("pin", "packed"), [("1234", "1234"), ("12345", "12345F"), ("123456789012", "123456789012")])
def test_pin_of_4_to_12_digits_is_padded_with_f(pin: str, packed: str) -> None:
    assert pin_to_bcd(pin) == bytes.fromhex(packed)


@pytest.mark.parametrize("pin", ["123", "1234567890123", "12a456", "１２３４５６", ""])
def test_pin_that_is_not_4_to_12_ascii_digits_is_refused(pin: str) -> None:
    with pytest.raises(ValueError):
        pin_to_bcd(pin)
