"""Provides the tests of the card data encodings: TLV, cn BCD and dates, an text, PIN BCD."""
from __future__ import annotations

from datetime import date

import pytest

from devices.codec import (
    FILLER,
    clean_card_text,
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


# ---------------------------------------------------------------- cards that answer oddly (issue 9)
def test_bytes_after_the_value_that_are_not_filler_mean_a_length_shorter_than_the_data() -> None:
    # Seen on main: a TLV length shorter than the data cut the name silently (张伟 read as 张).
    _rejected_as_invalid(parse_tlv, bytes.fromhex("0902D5C5CEB0") + bytes(26))


@pytest.mark.parametrize("after", ["", "00", "FFFF", "0000FF00"])
def test_00_and_ff_filler_after_the_value_is_the_records_padding(after: str) -> None:
    assert parse_tlv(bytes.fromhex("0904D5C5CEB0" + after)).value == bytes.fromhex("D5C5CEB0")


def test_00_after_a_bcd_value_is_digits_not_filler() -> None:
    # Found by the APDU fuzzer: a length byte 2 short left "0000" after 43010000 and the number read cut short.
    _rejected_as_invalid(lambda: parse_tlv(bytes.fromhex("040443010000" + "0000"), filler=FILLER["cn"]))
    assert parse_tlv(bytes.fromhex("0406430100000000FFFF"), filler=FILLER["cn"]).value == bytes.fromhex("430100000000")


def test_spaces_after_a_text_value_are_filler_for_text_only() -> None:
    assert parse_tlv(b"\x07\x02L4   ", filler=FILLER["an"]).value == b"L4"
    _rejected_as_invalid(lambda: parse_tlv(b"\x0b\x01\x01   ", filler=FILLER["cn"]))


@pytest.mark.parametrize(
    ("raw", "text"),
    [
        (b"\x1b[2J\xd5\xc5", "\ufffd[2J张"),  # ESC: a terminal would clear the screen
        (b"\xd5\xc5\x0e\xce\xb0", "张\ufffd伟"),  # SO: a terminal would switch character sets
        (b"\x07\x08\x7f\x9b", None),  # BEL, BS, DEL; 9B is half a GBK character
        (b"a\tb\nc\rd", "a\ufffdb\ufffdc\ufffdd"),
    ],
)
def test_control_characters_in_card_text_become_a_visible_mark(raw: bytes, text: str | None) -> None:
    if text is None:
        _rejected_as_invalid(decode_an, raw)
        return
    decoded = decode_an(raw)
    assert decoded == text
    assert all(ch.isprintable() for ch in decoded)


def test_format_characters_become_a_visible_mark_too() -> None:
    assert clean_card_text("张\u200b伟\u202e\ufeff") == "张\ufffd伟\ufffd\ufffd"
    assert clean_card_text("李娜") == "李娜" and clean_card_text("Li Na·") == "Li Na·"


def test_trailing_ff_of_a_text_value_is_padding() -> None:
    assert decode_an(bytes.fromhex("D5C5CEB0FFFFFF")) == "张伟"


@pytest.mark.parametrize(
    ("call", "raw"),
    [
        (decode_an, bytes.fromhex("D5C5CE")),  # a GBK character cut in half
        (decode_an, bytes.fromhex("D5C5FF41")),  # FF starts no GBK character
        (decode_an, bytes.fromhex("D5C500CEB0")),  # 00 inside the text
        (decode_cn, bytes.fromhex("19880A15")),
        (decode_cn_date, bytes.fromhex("19881315")),
        (decode_cn_date, bytes.fromhex("1988031F")),
    ],
)
def test_a_refused_value_leaves_none_of_its_bytes_in_the_error(call, raw: bytes) -> None:
    # Seen on main: invalid GBK put the name's bytes into the log, in hex.
    with pytest.raises(KioskError) as caught:
        call(raw)
    told = str(caught.value) + caught.value.detail
    for shown in (raw.hex(), raw.hex().upper(), raw.hex(" "), raw.hex(" ").upper(), raw.hex()[:6], raw.hex().upper()[:6]):
        assert shown not in told
    assert "1988" not in told and "张" not in told and "\\x" not in told
