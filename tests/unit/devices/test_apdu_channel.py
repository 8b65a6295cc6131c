"""Provides the tests of command/response APDUs and the channel's GET RESPONSE and Le handling."""
from __future__ import annotations

import pytest

from devices.apdu import (
    MAX_GET_RESPONSES,
    READ_APDU_LIMIT,
    ApduChannel,
    CommandApdu,
    ResponseApdu,
    correct_le,
    more_data_length,
    pin_tries_left,
)
from devices.reader import CardConnection
from kiosk.errors import KioskError


def test_command_encodes_header_lc_data_and_le() -> None:
    assert CommandApdu(0x00, 0xA4, 0x02, 0x00, b"\xef\x05").to_bytes() == bytes.fromhex("00A4020002EF05")
    assert CommandApdu(0x00, 0xB2, 0x09, 0x00, le=32).to_bytes() == bytes.fromhex("00B2090020")
    assert CommandApdu(0x00, 0xC0, 0x00, 0x00, le=256).to_bytes() == bytes.fromhex("00C0000000")
    assert CommandApdu(0x00, 0x84, 0x00, 0x00).to_bytes() == bytes.fromhex("00840000")


@pytest.mark.parametrize("raw", ["00840000", "0084000008", "00A4020002EF05", "80FA00001000112233445566778899AABBCCDDEEFF08", "00B2090000"])
def test_command_parses_what_it_encodes(raw: str) -> None:
    assert CommandApdu.from_bytes(bytes.fromhex(raw)).to_bytes() == bytes.fromhex(raw)


def test_le_00_parses_as_256() -> None:
    assert CommandApdu.from_bytes(bytes.fromhex("00C0000000")).le == 256


@pytest.mark.parametrize("raw", ["00A402", "00A4020003EF05", "00A4020002EF050000", "00A4020000EF05"])
def test_malformed_command_is_refused(raw: str) -> None:
    with pytest.raises(ValueError):
        CommandApdu.from_bytes(bytes.fromhex(raw))


@pytest.mark.parametrize("kwargs", [{"le": 0}, {"le": 257}, {"data": bytes(256)}, {"p2": 256}])
def test_command_out_of_range_is_refused(kwargs: dict) -> None:
    with pytest.raises(ValueError):
        CommandApdu(**{"cla": 0x00, "ins": 0xB2, "p1": 0x01, "p2": 0x04, **kwargs})


def test_response_splits_data_and_status_word() -> None:
    response = ResponseApdu.from_bytes(bytes.fromhex("01029000"))
    assert (response.data, response.sw1, response.sw2, response.sw) == (b"\x01\x02", 0x90, 0x00, 0x9000)


def test_response_without_status_word_is_card_communication() -> None:
    with pytest.raises(KioskError) as caught:
        ResponseApdu.from_bytes(b"\x90")
    assert caught.value.code == "CARD_COMMUNICATION"


def test_status_word_helpers_read_61xx_6cxx_63cx() -> None:
    assert more_data_length(0x6110) == 0x10 and more_data_length(0x6100) == 256 and more_data_length(0x9000) is None
    assert correct_le(0x6C12) == 0x12 and correct_le(0x6C00) == 256 and correct_le(0x6A82) is None
    assert pin_tries_left(0x63C2) == 2 and pin_tries_left(0x63C0) == 0 and pin_tries_left(0x6300) is None


def test_61xx_is_followed_by_get_response_and_data_concatenated(scripted) -> None:
    connection = scripted("6104", "AABB6102", "CCDD9000")
    channel = ApduChannel(connection)
    response = channel.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x00, b"\x01"))
    assert response.data == bytes.fromhex("AABBCCDD") and response.sw == 0x9000
    assert connection.sent[1:] == [bytes.fromhex("00C0000004"), bytes.fromhex("00C0000002")]
    assert channel.count == 3


def test_6100_asks_get_response_for_256_bytes(scripted) -> None:
    connection = scripted("6100", "11" * 256 + "6101", "22" + "9000")
    response = ApduChannel(connection).transmit(CommandApdu(0x00, 0xB2, 0x01, 0x04, le=256))
    assert connection.sent[1] == bytes.fromhex("00C0000000")
    assert connection.sent[2] == bytes.fromhex("00C0000001")
    assert len(response.data) == 257 and response.sw == 0x9000


def test_last_status_word_of_the_chain_is_returned(scripted) -> None:
    response = ApduChannel(scripted("6102", "4E006282")).transmit(CommandApdu(0x00, 0xB2, 0x4E, 0x00, le=22))
    assert response.data == bytes.fromhex("4E00") and response.sw == 0x6282


def test_6cxx_resends_the_same_command_with_the_le_asked(scripted) -> None:
    connection = scripted("6C02", "4E009000")
    channel = ApduChannel(connection)
    response = channel.transmit(CommandApdu(0x00, 0xB2, 0x4E, 0x00, le=22))
    assert connection.sent == [bytes.fromhex("00B24E0016"), bytes.fromhex("00B24E0002")]
    assert response.data == bytes.fromhex("4E00") and channel.count == 2


def test_6c00_resends_with_le_256(scripted) -> None:
    connection = scripted("6C00", "9000")
    ApduChannel(connection).transmit(CommandApdu(0x00, 0xB2, 0x01, 0x04, le=10))
    assert connection.sent[1] == bytes.fromhex("00B2010400")


def test_6cxx_then_61xx_is_resolved_both_ways(scripted) -> None:
    connection = scripted("6C02", "6102", "4E009000")
    response = ApduChannel(connection).transmit(CommandApdu(0x00, 0xB2, 0x4E, 0x00, le=22))
    assert response.data == bytes.fromhex("4E00") and len(connection.sent) == 3


def test_a_second_6cxx_is_returned_not_looped(scripted) -> None:
    connection = scripted("6C02", "6C03")
    response = ApduChannel(connection).transmit(CommandApdu(0x00, 0xB2, 0x4E, 0x00, le=22))
    assert response.sw == 0x6C03 and len(connection.sent) == 2


def test_endless_get_response_chain_of_full_pieces_is_card_apdu_limit(scripted) -> None:
    connection = scripted(*(["00" * 256 + "6100"] * 300))
    connection.answers.insert(0, bytes.fromhex("6100"))
    with pytest.raises(KioskError) as caught:
        ApduChannel(connection).transmit(CommandApdu(0x00, 0xB2, 0x01, 0x04))
    assert caught.value.code == "CARD_APDU_LIMIT"
    assert len(connection.sent) <= 1 + MAX_GET_RESPONSES


class _EndlessConnection(CardConnection):
    """A card that answers every command the same way, forever (it counts what it is sent)."""

    def __init__(self, answer: str) -> None:
        self.answer = bytes.fromhex(answer)
        self.sent = 0

    @property
    def atr(self) -> bytes:
        return bytes.fromhex("3B00")

    def transmit(self, command: bytes) -> bytes:
        self.sent += 1
        return self.answer

    def close(self) -> None:
        pass


@pytest.mark.parametrize("answer", ["6100", "6110", "AA6101", "AABBCC6100"])
def test_a_card_that_never_stops_answering_61xx_is_card_apdu_limit_after_a_few_get_responses(answer: str) -> None:
    # Seen on main: 616,137 APDUs in 5 s for a card answering 61xx with no data (or one byte at a time).
    connection = _EndlessConnection(answer)
    with pytest.raises(KioskError) as caught:
        ApduChannel(connection).transmit(CommandApdu(0x00, 0xB2, 0x09, 0x00, le=32))
    assert caught.value.code == "CARD_APDU_LIMIT"
    assert connection.sent == 1 + MAX_GET_RESPONSES


def test_a_read_that_needs_more_than_its_budget_is_card_apdu_limit() -> None:
    connection = _EndlessConnection("6C10")  # every read ends (6Cxx, re-sent once), none ever succeeds
    channel = ApduChannel(connection)
    with pytest.raises(KioskError) as caught, channel.budget(READ_APDU_LIMIT):
        while True:
            channel.transmit(CommandApdu(0x00, 0xB2, 0x09, 0x00, le=32))
    assert caught.value.code == "CARD_APDU_LIMIT"
    assert connection.sent == READ_APDU_LIMIT
    channel.transmit(CommandApdu(0x00, 0xB2, 0x09, 0x00, le=32))  # outside the budget the channel works on
    assert connection.sent == READ_APDU_LIMIT + 2


@pytest.mark.parametrize(
    ("name", "command"),
    [
        ("VERIFY", CommandApdu(0x00, 0x20, 0x00, 0x00, bytes.fromhex("123456"))),
        ("EXTERNAL AUTHENTICATE", CommandApdu(0x00, 0x82, 0x00, 0x01, bytes(8))),
        ("GET CHALLENGE", CommandApdu(0x00, 0x84, 0x00, 0x00, le=8)),
        ("PSAM init", CommandApdu(0x80, 0x1A, 0x45, 0x01, bytes(8))),
        ("PSAM compute", CommandApdu(0x80, 0xFA, 0x00, 0x00, bytes(16))),
    ],
)
def test_6cxx_to_a_command_that_changes_card_state_is_returned_never_resent(scripted, name: str, command) -> None:
    # Seen on main: a card answering 6Cxx to VERIFY got the VERIFY again: one typed PIN cost two tries.
    connection = scripted("6C03", "9000")
    response = ApduChannel(connection).transmit(command)
    assert response.sw == 0x6C03, name
    assert connection.sent == [command.raw]


@pytest.mark.parametrize("ins", [0xA4, 0xB0, 0xB2, 0xCA])
def test_6cxx_to_a_read_is_resent_once_with_the_le_asked(scripted, ins: int) -> None:
    connection = scripted("6C02", "01029000")
    response = ApduChannel(connection).transmit(CommandApdu(0x00, ins, 0x01, 0x04, le=10))
    assert response.data == b"\x01\x02" and len(connection.sent) == 2
