"""Provides the tests of the virtual card's own behaviour: files, PIN counter, authentication, T=0 manners, faults."""
from __future__ import annotations

from datetime import date

import pytest

from devices.codec import decode_cn_date, encode_an
from devices.profiles import RecordFault
from devices.psam import compute_cryptogram, derive_card_key, diversification_data
from devices.sscard import EF05, EF06, SSSE_AID
from devices.virtual_card import VirtualCard
from kiosk.errors import KioskError

SELECT_SSSE = "00A404000F" + SSSE_AID.hex()
SELECT_EF05 = "00A4020002EF05"
SELECT_EF06 = "00A4020002EF06"


def send(card: VirtualCard, command: str) -> tuple[bytes, int]:
    raw = card.answer(bytes.fromhex(command))
    return raw[:-2], int.from_bytes(raw[-2:], "big")


def sw(card: VirtualCard, command: str) -> int:
    return send(card, command)[1]


def _in_ef06(card: VirtualCard) -> VirtualCard:
    card.power_on()
    send(card, SELECT_SSSE)
    send(card, SELECT_EF06)
    return card


def test_wrong_pin_counts_down_with_63cx(card_of) -> None:
    card = card_of("li-na-2.00")
    assert [sw(card, "0020000003000000") for _ in range(2)] == [0x63C2, 0x63C1]
    assert card.pin_tries_left == 1


def test_last_wrong_pin_answers_63c0_then_6983_even_for_the_right_pin(card_of) -> None:
    card = card_of("yang-lei-last-try")
    assert sw(card, "0020000003000000") == 0x63C0
    assert card.pin_tries_left == 0
    assert sw(card, "0020000003123456") == 0x6983


def test_right_pin_resets_the_counter(card_of) -> None:
    card = card_of("li-na-2.00")
    send(card, "0020000003000000")
    assert sw(card, "0020000003123456") == 0x9000
    assert card.pin_tries_left == 3


def test_tries_can_be_changed_on_the_fly(card_of) -> None:
    card = card_of("chen-jing-blocked")
    card.pin_tries_left = 2
    assert sw(card, "0020000003000000") == 0x63C1


def test_ef06_of_a_3_00_card_answers_6982_until_external_authentication(card_of, master_key: bytes) -> None:
    card = _in_ef06(card_of("zhang-wei-3.00"))
    card.t0_get_response = False
    assert sw(card, "00B2080014") == 0x6982
    challenge, status = send(card, "0084000008")
    assert status == 0x9000 and len(challenge) == 8
    key = derive_card_key(master_key, diversification_data(bytes.fromhex("430102D1560000050000000000000001")))
    assert sw(card, "0082000108" + compute_cryptogram(key, challenge).hex()) == 0x9000
    assert send(card, "00B2080014")[0][2:] == b"430102198803150016"


def test_external_authentication_must_answer_the_last_challenge(card_of, master_key: bytes) -> None:
    card = card_of("zhang-wei-3.00")
    card.t0_get_response = False
    key = card.card_key
    assert key is not None
    old, _ = send(card, "0084000008")
    send(card, "0084000008")
    assert sw(card, "0082000108" + compute_cryptogram(key, old).hex()) == 0x6300


def test_a_challenge_is_good_for_one_external_authentication(card_of) -> None:
    card = card_of("zhang-wei-3.00")
    card.t0_get_response = False
    assert card.card_key is not None
    challenge, _ = send(card, "0084000008")
    assert sw(card, "0082000108" + bytes(8).hex()) == 0x6300
    assert sw(card, "0082000108" + compute_cryptogram(card.card_key, challenge).hex()) == 0x6985


def test_external_authentication_with_an_unknown_key_reference_is_6a88(card_of) -> None:
    card = card_of("zhang-wei-3.00")
    assert sw(card, "0082000908" + bytes(8).hex()) == 0x6A88


def test_power_on_forgets_the_authentication(card_of, master_key: bytes) -> None:
    card = card_of("zhang-wei-3.00")
    card.t0_get_response = False
    assert card.card_key is not None
    challenge, _ = send(card, "0084000008")
    send(card, "0082000108" + compute_cryptogram(card.card_key, challenge).hex())
    assert sw(_in_ef06(card), "00B2080014") == 0x6982


def test_3_00_card_without_a_master_key_refuses_authentication(profiles) -> None:
    card = VirtualCard.from_profile(profiles["zhang-wei-3.00"], None)
    card.t0_get_response = False
    send(card, "0084000008")
    assert sw(card, "0082000108" + bytes(8).hex()) == 0x6A88


def test_t0_card_answers_61xx_and_serves_get_response_in_pieces(card_of) -> None:
    card = card_of("zhang-wei-3.00")
    assert sw(card, SELECT_SSSE) == 0x6113
    first, status = send(card, "00C0000005")
    assert (first, status) == (bytes.fromhex("6F11840F73"), 0x610E)
    rest, status = send(card, "00C000000E")
    assert first + rest == bytes([0x6F, 0x11, 0x84, 0x0F]) + SSSE_AID and status == 0x9000


def test_get_response_with_nothing_waiting_is_6985(card_of) -> None:
    assert sw(card_of("li-na-2.00"), "00C0000008") == 0x6985


def test_another_command_drops_the_waiting_response(card_of) -> None:
    card = card_of("zhang-wei-3.00")
    send(card, SELECT_SSSE)
    send(card, SELECT_EF05)
    assert sw(card, "00C0000013") == 0x6985


def test_strict_le_answers_6cxx_for_any_other_le(card_of) -> None:
    card = _in_ef06(card_of("li-na-2.00"))
    card.strict_le = True
    assert sw(card, "00B20A0010") == 0x6C03
    assert send(card, "00B20A0003") == (bytes.fromhex("0A0132"), 0x9000)


def test_lenient_card_answers_a_longer_le_with_6282_and_a_shorter_one_with_6cxx(card_of) -> None:
    card = _in_ef06(card_of("li-na-2.00"))
    assert send(card, "00B20A0010") == (bytes.fromhex("0A0132"), 0x6282)
    assert sw(card, "00B2090010") == 0x6C20
    assert send(card, "00B20A0000")[1] == 0x9000


def test_read_record_needs_a_current_file(card_of) -> None:
    card = card_of("li-na-2.00")
    send(card, SELECT_SSSE)
    assert sw(card, "00B2010000") == 0x6986


def test_files_are_found_only_inside_ssse(card_of) -> None:
    card = card_of("li-na-2.00")
    assert sw(card, SELECT_EF05) == 0x6A82
    send(card, SELECT_SSSE)
    assert sw(card, "00A4020002EF07") == 0x6A82
    assert sw(card, SELECT_EF05) == 0x9000
    assert sw(card, "00A40000023F00") == 0x9000
    assert sw(card, SELECT_EF05) == 0x6A82


def test_read_record_by_unknown_tag_or_number_is_6a83(card_of) -> None:
    card = _in_ef06(card_of("li-na-2.00"))
    assert sw(card, "00B2010000") == 0x6A83
    assert sw(card, "00B2070400") == 0x6A83
    assert sw(card, "00B2010100") == 0x6A86


def test_unknown_class_and_instruction_and_malformed_apdus(card_of) -> None:
    card = card_of("li-na-2.00")
    assert sw(card, "80B2010400") == 0x6E00
    assert sw(card, "00CA000000") == 0x6D00
    assert sw(card, "00A4") == 0x6700
    assert sw(card, "00A4020005EF05") == 0x6700


def test_bank_card_has_no_ssse(card_of) -> None:
    assert sw(card_of("bank-card"), SELECT_SSSE) == 0x6A82


def test_mute_card_has_no_atr_until_unmuted(card_of) -> None:
    card = card_of("li-na-2.00")
    card.mute = True
    assert card.atr is None
    card.mute = False
    assert card.atr == bytes.fromhex("3B6C0000806411650190730000008102")


def test_card_is_pulled_at_the_apdu_after_pull_after_apdus(card_of) -> None:
    card = card_of("li-na-2.00")
    card.pull_after_apdus = 2
    send(card, SELECT_SSSE)
    send(card, SELECT_EF05)
    with pytest.raises(KioskError) as caught:
        send(card, "00B2010012")
    assert caught.value.code == "CARD_REMOVED"
    card.power_on()
    assert sw(card, SELECT_SSSE) == 0x9000  # put back, the card works


def test_slow_card_waits_slow_ms_before_each_answer(card_of) -> None:
    slept: list[float] = []
    card = card_of("li-na-2.00")
    card._sleep = slept.append
    card.slow_ms = 250
    send(card, SELECT_SSSE)
    send(card, SELECT_EF05)
    assert slept == [0.25, 0.25]


@pytest.mark.parametrize(
    ("fault", "answer"),
    [("EF06:0A", "8A0131"), ("EF06:0A:tlv", "0A0231"), ("EF06:0A:gbk", "0A01FF")],
)
def test_corrupt_record_answers_as_the_fault_says(card_of, fault: str, answer: str) -> None:
    card = _in_ef06(card_of("huang-qiang-slots-full"))
    card.corrupt.add(RecordFault.parse(fault))
    assert send(card, "00B20A0003") == (bytes.fromhex(answer), 0x9000)


def test_expiry_date_can_be_changed_on_the_fly(card_of) -> None:
    card = card_of("li-na-2.00")
    card.set_expiry_date(date(2024, 1, 31))
    assert decode_cn_date(card.item(EF05, 0x06) or b"") == date(2024, 1, 31)
    card.set_expiry_date(None)
    assert card.item(EF05, 0x06) == b"\xff" * 4


def test_empty_name_extension_is_an_empty_4e_record(card_of) -> None:
    card = card_of("zhang-wei-3.00")
    assert card.item(EF06, 0x4E) == b""
    assert card.item(EF06, 0x09) == encode_an("张伟", 30)


def test_psam_profile_is_not_a_card(profiles, master_key: bytes) -> None:
    with pytest.raises(ValueError):
        VirtualCard.from_profile(profiles["psam-test"], master_key)
