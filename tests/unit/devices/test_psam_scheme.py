"""Provides the tests of the SM4 key scheme, the virtual PSAM and the PSAM key holder."""
from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from devices.apdu import ApduChannel, CommandApdu
from devices.psam import (
    PsamKeyHolder,
    VirtualPsam,
    compute_cryptogram,
    derive_card_key,
    diversification_data,
    psam_key_holder_factory,
)
from devices.simulated import SimulatedReader
from kiosk.errors import KioskError

# The GB/T 32907 example key, which is also the published test master key of psam-test.toml.
TEST_MASTER_KEY = bytes.fromhex("0123456789ABCDEFFEDCBA9876543210")
ZHANG_WEI_CARD_ID = bytes.fromhex("430102D1560000050000000000000001")
PSAM_ATR = bytes.fromhex("3B6A00008065A2015053414D0001")


def test_sm4_is_the_gb_t_32907_cipher() -> None:
    # The standard's own example: key = plaintext = 0123456789ABCDEFFEDCBA9876543210.
    encryptor = Cipher(algorithms.SM4(TEST_MASTER_KEY), modes.ECB()).encryptor()
    assert encryptor.update(TEST_MASTER_KEY) + encryptor.finalize() == bytes.fromhex("681EDF34D206965E86B3E94F536E4246")


def test_diversification_data_is_the_last_8_bytes_of_the_card_id_code() -> None:
    assert diversification_data(ZHANG_WEI_CARD_ID) == bytes.fromhex("0000000000000001")


def test_card_key_and_cryptogram_match_the_pinned_known_answer() -> None:
    card_key = derive_card_key(TEST_MASTER_KEY, diversification_data(ZHANG_WEI_CARD_ID))
    assert card_key == bytes.fromhex("9C65EC263F0D43823D90497E1E3D143F")
    assert compute_cryptogram(card_key, bytes.fromhex("1122334455667788")) == bytes.fromhex("2F93FABEB91CB8C4")


def test_every_card_gets_its_own_key() -> None:
    keys = {derive_card_key(TEST_MASTER_KEY, bytes(7) + bytes([n])) for n in range(1, 9)}
    assert len(keys) == 8


def test_test_master_key_lives_only_in_the_psam_profile(master_key: bytes) -> None:
    assert master_key == TEST_MASTER_KEY


@pytest.mark.parametrize("bad", [b"", bytes(15), bytes(17)])
def test_card_id_code_must_have_16_bytes(bad: bytes) -> None:
    with pytest.raises(ValueError):
        diversification_data(bad)


def _psam_slot() -> SimulatedReader:
    reader = SimulatedReader("PSAM slot")
    reader.insert(VirtualPsam(TEST_MASTER_KEY, PSAM_ATR))
    return reader


def test_psam_key_holder_computes_the_scheme_cryptogram_through_the_psam() -> None:
    holder = PsamKeyHolder(_psam_slot().connect())
    assert holder.cryptogram(ZHANG_WEI_CARD_ID, bytes.fromhex("1122334455667788")) == bytes.fromhex("2F93FABEB91CB8C4")


def test_psam_key_holder_sends_80_1a_then_80_fa() -> None:
    connection = _psam_slot().connect()
    sent: list[bytes] = []
    original = connection.transmit

    def recording(command: bytes) -> bytes:
        sent.append(command)
        return original(command)

    connection.transmit = recording  # type: ignore[method-assign]
    PsamKeyHolder(connection).cryptogram(ZHANG_WEI_CARD_ID, bytes(8))
    assert sent == [bytes.fromhex("801A450108") + bytes.fromhex("0000000000000001"), bytes.fromhex("80FA000010") + bytes(16)]


def test_virtual_psam_refuses_compute_before_initialise() -> None:
    channel = ApduChannel(_psam_slot().connect())
    assert channel.transmit(CommandApdu(0x80, 0xFA, 0x00, 0x00, bytes(16))).sw == 0x6985


def test_virtual_psam_answers_unknown_commands_with_iso_status_words() -> None:
    channel = ApduChannel(_psam_slot().connect())
    assert channel.transmit(CommandApdu(0x00, 0xA4, 0x04, 0x00, b"\x01")).sw == 0x6E00
    assert channel.transmit(CommandApdu(0x80, 0x10, 0x00, 0x00)).sw == 0x6D00
    assert channel.transmit(CommandApdu(0x80, 0x1A, 0x45, 0x01, bytes(7))).sw == 0x6700
    assert channel.transmit(CommandApdu(0x80, 0x1A, 0x46, 0x01, bytes(8))).sw == 0x6A88


def test_psam_refusing_to_compute_is_card_auth_failed(scripted) -> None:
    holder = PsamKeyHolder(scripted("9000", "6985"))
    with pytest.raises(KioskError) as caught:
        holder.cryptogram(ZHANG_WEI_CARD_ID, bytes(8))
    assert caught.value.code == "CARD_AUTH_FAILED" and "6985" in caught.value.detail


def test_empty_psam_slot_is_psam_unavailable() -> None:
    holder = psam_key_holder_factory(SimulatedReader("PSAM slot"))()
    with pytest.raises(KioskError) as caught:
        holder.cryptogram(ZHANG_WEI_CARD_ID, bytes(8))
    assert caught.value.code == "PSAM_UNAVAILABLE"


def test_psam_connection_is_kept_between_cards_and_reopened_after_the_psam_came_back() -> None:
    reader = _psam_slot()
    connects = []
    original = reader.connect

    def counting_connect():
        connects.append(1)
        return original()

    reader.connect = counting_connect  # type: ignore[method-assign]
    factory = psam_key_holder_factory(reader)
    first = factory().cryptogram(ZHANG_WEI_CARD_ID, bytes(8))
    factory().close()  # the service closes its key holder after each card: the PSAM stays open
    assert factory().cryptogram(ZHANG_WEI_CARD_ID, bytes(8)) == first
    assert len(connects) == 1

    psam = reader.card
    reader.remove()
    reader.insert(psam)  # a new insertion: the kept connection is stale
    assert factory().cryptogram(ZHANG_WEI_CARD_ID, bytes(8)) == first
    assert len(connects) == 2


def test_psam_pulled_during_computation_is_psam_unavailable_not_card_removed() -> None:
    reader = _psam_slot()
    holder = psam_key_holder_factory(reader)()
    reader.remove()
    with pytest.raises(KioskError) as caught:
        holder.cryptogram(ZHANG_WEI_CARD_ID, bytes(8))
    assert caught.value.code == "PSAM_UNAVAILABLE"


def test_no_master_key_appears_in_the_code() -> None:
    from pathlib import Path

    import devices

    key_hex = TEST_MASTER_KEY.hex()
    for source in Path(devices.__file__).parent.glob("*.py"):
        assert key_hex not in source.read_text(encoding="utf-8").lower(), source


def test_virtual_psam_is_built_from_the_psam_profile_only(profiles) -> None:
    psam = VirtualPsam.from_profile(profiles["psam-test"])
    assert psam.atr == PSAM_ATR
    with pytest.raises(ValueError):
        VirtualPsam.from_profile(profiles["li-na-2.00"])
