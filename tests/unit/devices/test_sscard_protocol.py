"""Provides the tests of the social security card protocol against virtual cards, one per status-word path."""
from __future__ import annotations

from datetime import date
from typing import Callable

import pytest

from devices.apdu import ApduChannel, CommandApdu
from devices.codec import encode_an, encode_cn
from devices.profiles import RecordFault
from devices.psam import KeyHolder
from devices.simulated import SimulatedReader
from devices.sscard import EF05, EF06, SSSE_AID, SocialSecurityCard
from devices.virtual_card import VirtualCard
from kiosk.domain import PinResult, PinStatus
from kiosk.errors import KioskError


def _open(card: VirtualCard) -> SocialSecurityCard:
    reader = SimulatedReader()
    reader.insert(card)
    return SocialSecurityCard(ApduChannel(reader.connect()))


def _code_of(call: Callable[[], object]) -> str:
    with pytest.raises(KioskError) as caught:
        call()
    return caught.value.code


class _FixedKeyHolder(KeyHolder):
    def __init__(self, cryptogram: bytes) -> None:
        self.answer = cryptogram

    def cryptogram(self, card_id_code: bytes, challenge: bytes) -> bytes:
        return self.answer


def test_ssse_aid_is_sx1_sh_and_shehui_baozhang_in_gbk() -> None:
    assert SSSE_AID == b"sx1.sh." + "社会保障".encode("gbk") and len(SSSE_AID) == 15


def test_select_ssse_on_a_t0_card_fetches_the_fci_with_get_response(card_of) -> None:
    sscard = _open(card_of("zhang-wei-3.00"))
    sscard.select_ssse()
    assert sscard.channel.count == 2  # SELECT -> 61xx, GET RESPONSE -> FCI 9000


def test_select_ssse_answered_6a82_is_not_a_social_security_card(card_of) -> None:
    sscard = _open(card_of("bank-card"))
    assert _code_of(sscard.select_ssse) == "CARD_NOT_SOCIAL_SECURITY"


def test_issuer_of_a_2_00_card_is_read_from_ef05(card_of) -> None:
    sscard = _open(card_of("li-na-2.00"))
    sscard.select_ssse()
    issuer = sscard.read_issuer()
    assert issuer.card_id_code == bytes.fromhex("430102D1560000050000000000000002")
    assert (issuer.card_type, issuer.spec_version, issuer.init_org) == ("3", "2.00", "430100000000")
    assert (issuer.issue_date, issuer.expiry_date, issuer.card_number) == (date(2021, 5, 20), date(2031, 5, 20), "L43000002")


def test_holder_of_a_2_00_card_is_read_from_ef06(card_of) -> None:
    sscard = _open(card_of("li-na-2.00"))
    sscard.select_ssse()
    holder = sscard.read_holder("2.00")
    assert (holder.resident_id, holder.name, holder.sex, holder.nation) == ("43010219900708004X", "李娜", "2", "01")
    assert (holder.birthplace, holder.birth_date) == ("430102", date(1990, 7, 8))


def test_ef06_of_a_3_00_card_without_authentication_needs_a_psam(card_of) -> None:
    sscard = _open(card_of("zhang-wei-3.00"))
    sscard.select_ssse()
    sscard.read_issuer()
    assert _code_of(lambda: sscard.read_holder("3.00")) == "CARD_NEEDS_PSAM"


def test_3_00_card_reads_ef06_after_external_authentication_with_the_psam(card_of, key_holder_factory) -> None:
    sscard = _open(card_of("zhang-wei-3.00"))
    sscard.select_ssse()
    issuer = sscard.read_issuer()
    sscard.authenticate(key_holder_factory(), issuer.card_id_code)
    assert sscard.read_holder("3.00").name == "张伟"


def test_refused_external_authentication_is_card_auth_failed(card_of) -> None:
    sscard = _open(card_of("zhang-wei-3.00"))
    sscard.select_ssse()
    issuer = sscard.read_issuer()
    wrong = _FixedKeyHolder(bytes(8))
    assert _code_of(lambda: sscard.authenticate(wrong, issuer.card_id_code)) == "CARD_AUTH_FAILED"
    assert _code_of(lambda: sscard.read_holder("3.00")) == "CARD_NEEDS_PSAM"


def test_6982_after_a_successful_authentication_is_card_auth_failed(scripted) -> None:
    connection = scripted("01020304050607089000", "9000", "9000", "6982")
    sscard = SocialSecurityCard(ApduChannel(connection))
    sscard.authenticate(_FixedKeyHolder(bytes(8)), bytes(16))
    assert connection.sent[1] == bytes.fromhex("0082000108") + bytes(8)
    assert _code_of(lambda: sscard.read_item(0x08)) == "CARD_AUTH_FAILED"


def test_3_00_name_extension_is_joined_to_the_name(card_of, key_holder_factory) -> None:
    card = card_of("zhang-wei-3.00")
    card.set_item(EF06, 0x4E, encode_an("明远", 20))
    sscard = _open(card)
    sscard.select_ssse()
    sscard.authenticate(key_holder_factory(), sscard.read_issuer().card_id_code)
    assert sscard.read_holder("3.00").name == "张伟明远"


def test_missing_name_extension_6a83_is_accepted(card_of, key_holder_factory) -> None:
    card = card_of("zhang-wei-3.00")
    card.remove_item(EF06, 0x4E)
    sscard = _open(card)
    sscard.select_ssse()
    sscard.authenticate(key_holder_factory(), sscard.read_issuer().card_id_code)
    assert sscard.read_holder("3.00").name == "张伟"


def test_missing_required_record_6a83_is_card_record_missing(card_of) -> None:
    card = card_of("li-na-2.00")
    card.remove_item(EF05, 0x07)
    sscard = _open(card)
    sscard.select_ssse()
    assert _code_of(sscard.read_issuer) == "CARD_RECORD_MISSING"


def test_missing_file_6a82_is_card_record_missing(scripted) -> None:
    sscard = SocialSecurityCard(ApduChannel(scripted("6A82")))
    assert _code_of(lambda: sscard.select_file(EF06)) == "CARD_RECORD_MISSING"


def test_short_record_answered_6282_is_accepted_with_its_data(card_of) -> None:
    card = card_of("li-na-2.00")
    card.set_item(EF06, 0x09, encode_an("李娜"))  # 4 bytes where 30 are asked
    sscard = _open(card)
    sscard.select_ssse()
    sscard.select_file(EF06)
    before = sscard.channel.count
    assert sscard.read_item(0x09) == encode_an("李娜")
    assert sscard.channel.count - before == 1


def test_wrong_le_6cxx_is_resent_with_the_le_the_card_asked(card_of) -> None:
    card = card_of("li-na-2.00")
    card.strict_le = True
    card.set_item(EF06, 0x09, encode_an("李娜"))
    sscard = _open(card)
    sscard.select_ssse()
    sscard.select_file(EF06)
    before = sscard.channel.count
    assert sscard.read_item(0x09) == encode_an("李娜")
    assert sscard.channel.count - before == 2


def test_record_over_256_bytes_arrives_through_6100_and_get_response(card_of) -> None:
    card = card_of("li-na-2.00")
    card.set_item(EF06, 0x09, b"A" * 255)  # 257 bytes with tag and length
    sscard = _open(card)
    sscard.select_ssse()
    sscard.select_file(EF06)
    before = sscard.channel.count
    assert sscard.read_item(0x09) == b"A" * 255
    assert sscard.channel.count - before == 3  # READ RECORD 6100, GET RESPONSE 256 -> 6101, GET RESPONSE 1


@pytest.mark.parametrize("fault", ["EF06:09", "EF06:08:tlv", "EF06:09:gbk", "EF06:0D:gbk", "EF05:01:tlv"])
def test_corrupt_record_is_card_data_invalid(card_of, fault: str) -> None:
    card = card_of("li-na-2.00")
    card.corrupt.add(RecordFault.parse(fault))
    sscard = _open(card)
    sscard.select_ssse()

    def read_all() -> None:
        sscard.read_issuer()
        sscard.read_holder("2.00")

    assert _code_of(read_all) == "CARD_DATA_INVALID"


@pytest.mark.parametrize(
    ("file_id", "tag", "value"),
    [
        (EF05, 0x01, bytes(15)),  # card identification code not 16 bytes
        (EF05, 0x03, b"9.99"),  # unknown version
        (EF05, 0x05, bytes.fromhex("20230230")),  # 30 February
        (EF05, 0x07, b"L4300"),  # card number too short
        (EF06, 0x08, b"43010219900708004"),  # ID too short
        (EF06, 0x0A, b"3"),  # gender
        (EF06, 0x0C, encode_cn("4301", 3)),  # birthplace of 4 digits
        (EF06, 0x09, bytes(30)),  # empty name
    ],
)
def test_values_that_do_not_fit_the_spec_are_card_data_invalid(card_of, file_id: int, tag: int, value: bytes) -> None:
    card = card_of("li-na-2.00")
    card.set_item(file_id, tag, value)
    sscard = _open(card)
    sscard.select_ssse()

    def read_all() -> None:
        sscard.read_issuer()
        sscard.read_holder("2.00")

    assert _code_of(read_all) == "CARD_DATA_INVALID"


def test_unknown_status_word_is_card_communication_with_the_sw(scripted) -> None:
    sscard = SocialSecurityCard(ApduChannel(scripted("6E00")))
    with pytest.raises(KioskError) as caught:
        sscard.select_ssse()
    assert caught.value.code == "CARD_COMMUNICATION" and "6E00" in caught.value.detail


def test_records_are_also_readable_by_number_which_is_not_the_tag(card_of) -> None:
    sscard = _open(card_of("li-na-2.00"))
    sscard.select_ssse()
    sscard.select_file(EF06)
    response = sscard.channel.transmit(CommandApdu(0x00, 0xB2, 0x02, 0x04, le=32))
    assert response.sw == 0x9000 and response.data[0] == 0x09


def test_right_pin_9000_is_verified(card_of) -> None:
    assert _open(card_of("li-na-2.00")).verify_pin("123456") == PinResult(PinStatus.VERIFIED)


def test_wrong_pin_63cx_says_the_tries_left(card_of) -> None:
    sscard = _open(card_of("li-na-2.00"))
    assert sscard.verify_pin("000000") == PinResult(PinStatus.WRONG, 2)
    assert sscard.verify_pin("000000") == PinResult(PinStatus.WRONG, 1)


def test_last_wrong_pin_63c0_is_blocked(card_of) -> None:
    sscard = _open(card_of("yang-lei-last-try"))
    assert sscard.verify_pin("000000") == PinResult(PinStatus.BLOCKED, 0)


def test_blocked_pin_6983_is_blocked_even_for_the_right_pin(card_of) -> None:
    assert _open(card_of("chen-jing-blocked")).verify_pin("123456") == PinResult(PinStatus.BLOCKED, 0)


def test_wrong_pin_6300_has_unknown_tries_left(card_of) -> None:
    card = card_of("li-na-2.00")
    card.pin_reports_tries = False
    assert _open(card).verify_pin("000000") == PinResult(PinStatus.WRONG, None)


def test_verify_sends_the_pin_as_three_bcd_bytes(scripted) -> None:
    connection = scripted("9000")
    SocialSecurityCard(ApduChannel(connection)).verify_pin("123456")
    assert connection.sent == [bytes.fromhex("0020000003123456")]


def test_unexpected_verify_answer_is_card_communication(scripted) -> None:
    sscard = SocialSecurityCard(ApduChannel(scripted("6A88")))
    assert _code_of(lambda: sscard.verify_pin("123456")) == "CARD_COMMUNICATION"
