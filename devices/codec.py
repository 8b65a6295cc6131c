"""Provides the card's data encodings: SIMPLE-TLV records, `cn` packed BCD and dates, `an` ASCII/GBK text, PIN BCD."""
from __future__ import annotations

import unicodedata
from datetime import date
from typing import NamedTuple

from kiosk.errors import KioskError

_DIGITS = frozenset("0123456789")
FILLER: dict[str, frozenset[int]] = {
    "an": frozenset(b"\x00 \xff"),
    "cn": frozenset(b"\xff"),
    "b": frozenset(b"\x00\xff"),
}
"""Bytes a card may put after a record's value (unused record space), by the value's format: after text its padding
00 or spaces, or FF (never a GBK byte); after `cn` only FF (its F padding: 00 would be the digits "00", so a number
cut short could not be told from padding); after binary 00 or FF (binary items have a size fixed by meaning).
Anything else after the value means the length byte is shorter than the data: the value would be cut short."""
VISIBLE_MARK = "\ufffd"
"""What stands in card text for a control or format character (ESC, SO, a zero-width or bidi mark)."""
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


def _invalid(detail: str) -> KioskError:
    return KioskError("CARD_DATA_INVALID", detail)


class Tlv(NamedTuple):
    """One SIMPLE-TLV record: a one-byte tag and its value."""

    tag: int
    value: bytes


def declared_length(record: bytes) -> int:
    """The length byte of a record as READ RECORD returns it (tag, length, value).

    Raises:
        KioskError: CARD_DATA_INVALID when the record has no tag and length.
    """
    if len(record) < 2:
        raise _invalid(f"record of {len(record)} bytes has no tag and length")
    return record[1]


def parse_tlv(record: bytes, filler: frozenset[int] = FILLER["b"]) -> Tlv:
    """Parse one record as READ RECORD returns it: tag(1) length(1) value, then perhaps the record's padding.

    Args:
        record: the bytes the card answered.
        filler: the bytes that may follow the value (FILLER of the item's format).
    Raises:
        KioskError: CARD_DATA_INVALID when the record is shorter than its length byte says, or
            when something other than filler follows the value (a length shorter than the data).
    """
    length = declared_length(record)
    tag = record[0]
    value = record[2:2 + length]
    if len(value) < length:
        raise _invalid(f"record {tag:02X} truncated: length {length}, {len(value)} bytes present")
    after = record[2 + length:]
    if after and not set(after) <= filler:
        raise _invalid(f"record {tag:02X}: length {length}, but {len(after)} bytes of data follow the value")
    return Tlv(tag, bytes(value))


def encode_tlv(tag: int, value: bytes) -> bytes:
    """Returns:
        The record `tag length value`.
    Raises:
        ValueError: when the value does not fit a one-byte length.
    """
    if not 0 <= tag <= 0xFF or len(value) > 255:
        raise ValueError(f"tag {tag:#x} with {len(value)} bytes does not fit SIMPLE-TLV")
    return bytes([tag, len(value)]) + value


def decode_cn(value: bytes) -> str:
    """Decode `cn`: packed BCD digits, left-aligned, padded with F nibbles.

    Raises:
        KioskError: CARD_DATA_INVALID for a nibble A..E, or a digit after the F padding.
    """
    digits = value.hex().rstrip("f")
    # What is left must be digits only: a..e is no BCD, and an f here is a digit after the padding.
    if digits and not (digits.isdigit()):
        # Where, never what: the value may be a birth date or another personal number.
        bad = next(i for i, nibble in enumerate(digits) if not nibble.isdigit())
        raise _invalid(f"cn value of {len(value)} bytes is not packed BCD (nibble {bad})")
    return digits


def encode_cn(digits: str, length: int) -> bytes:
    """Returns:
        `digits` as packed BCD in `length` bytes, padded with F.
    Raises:
        ValueError: when `digits` has a non-digit or does not fit.
    """
    if not set(digits) <= _DIGITS or len(digits) > 2 * length:
        raise ValueError(f"{digits!r} is not up to {2 * length} digits")
    return bytes.fromhex(digits.ljust(2 * length, "F"))


def decode_cn_date(value: bytes) -> date | None:
    """Decode a `cn` date YYYYMMDD.

    Returns:
        The date, or None when the item is all padding (no date written on the card).
    Raises:
        KioskError: CARD_DATA_INVALID for anything but 8 digits of a real calendar date.
    """
    digits = decode_cn(value)
    if not digits:
        return None
    if len(digits) != 8:
        raise _invalid(f"date of {len(digits)} digits is not YYYYMMDD")
    try:
        return date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))
    except ValueError:
        raise _invalid("date is no calendar day (month or day out of range)") from None


def encode_cn_date(day: date) -> bytes:
    """Returns:
        `day` as 4 bytes of packed BCD YYYYMMDD.
    """
    return encode_cn(day.strftime("%Y%m%d"), 4)


def decode_an(value: bytes) -> str:
    """Decode `an`: ASCII, or GBK for Chinese text, left-aligned, padded with 00 (or spaces, or FF).

    Control and format characters (ESC, SO, zero-width and bidi marks) come out as VISIBLE_MARK, so
    no screen, log or JSON line ever carries them.

    Raises:
        KioskError: CARD_DATA_INVALID for bytes that are not GBK, or a 00 inside the text (the
            detail says where, never the bytes: they are the holder's name).
    """
    # FF is never part of GBK (lead and trail bytes stop at FE), so trailing FF is padding too.
    text = value.rstrip(b"\x00 \xff")
    if b"\x00" in text:
        raise _invalid(f"an value of {len(value)} bytes has 00 inside the text (byte {text.index(0)})")
    try:
        # GBK is a superset of ASCII, so one decode serves both.
        return clean_card_text(text.decode("gbk"))
    except UnicodeDecodeError as error:
        raise _invalid(f"an value of {len(value)} bytes is not GBK (byte {error.start})") from None


def clean_card_text(text: str) -> str:
    """Returns:
        `text` with every control, format, surrogate and line/paragraph separator character replaced by VISIBLE_MARK.
    """
    if text.isprintable():  # the usual case: nothing to replace (spaces and ideographs are printable)
        return text
    return "".join(VISIBLE_MARK if unicodedata.category(ch) in _HIDDEN_CATEGORIES else ch for ch in text)


def encode_an(text: str, length: int | None = None) -> bytes:
    """Returns:
        `text` in GBK, padded with 00 to `length` bytes when a length is given.
    Raises:
        ValueError: when the text has no GBK encoding or is longer than `length`.
    """
    try:
        raw = text.encode("gbk")
    except UnicodeEncodeError as error:
        raise ValueError(f"{text!r} cannot be written in GBK") from error
    if length is None:
        return raw
    if len(raw) > length:
        raise ValueError(f"{text!r} takes {len(raw)} bytes, more than {length}")
    return raw.ljust(length, b"\x00")


def pin_to_bcd(pin: str) -> bytes:
    """Pack a PIN for VERIFY: 6 digits make 3 bytes; 4..12 digits, an odd count padded with F.

    Raises:
        ValueError: when the PIN is not 4..12 ASCII digits.
    """
    if not set(pin) <= _DIGITS or not 4 <= len(pin) <= 12:
        raise ValueError("a PIN is 4 to 12 digits")
    return encode_cn(pin, (len(pin) + 1) // 2)
