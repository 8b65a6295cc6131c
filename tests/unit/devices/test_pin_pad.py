"""The PIN pad: PC/SC part 10 features and PIN_VERIFY_STRUCTURE built and read back, and the simulated reader's pad,
whose VERIFY reaches the virtual card while the program only ever hears the card's answer."""
from __future__ import annotations

import threading

import pytest

from devices.pinpad import (
    CM_IOCTL_GET_FEATURE_REQUEST,
    FEATURE_VERIFY_PIN_DIRECT,
    PinPadVerify,
    VirtualPinPad,
    parse_features,
    read_pcsc_structure,
    scard_ctl_code,
)
from devices.service import ReaderCardService
from devices.simulated import SimulatedReader
from kiosk.domain import PinStatus
from kiosk.errors import KioskError


def test_the_feature_request_control_code_is_pcsc_lites():
    assert scard_ctl_code(CM_IOCTL_GET_FEATURE_REQUEST) == 0x42000000 + 3400 == 0x42000D48


def test_the_features_tlv_gives_verify_pin_directs_control_code():
    answer = bytes.fromhex("06 04 42 33 00 06" "07 04 42 33 00 07" "12 04 42 33 00 12".replace(" ", ""))
    assert parse_features(answer) == {0x06: 0x42330006, 0x07: 0x42330007, 0x12: 0x42330012}
    assert parse_features(answer)[FEATURE_VERIFY_PIN_DIRECT] == 0x42330006
    assert parse_features(b"") == {}
    assert parse_features(bytes.fromhex("0604423300060702")) == {0x06: 0x42330006}  # a cut entry ends the list


def test_pin_verify_structure_for_the_cards_bcd_verify():
    structure = PinPadVerify(timeout_seconds=30).pcsc_structure()
    fields, apdu = read_pcsc_structure(structure)
    assert structure[:19].hex() == "1e1e81030006060201090400000000" "08000000"
    assert fields["bmFormatString"] == 0x81  # bytes, offset 0, left justified, BCD
    assert fields["bmPINBlockString"] == 3 and fields["wPINMaxExtraDigit"] == 0x0606
    assert fields["bEntryValidationCondition"] == 0x02 and fields["ulDataLength"] == 8
    assert apdu == bytes.fromhex("0020000003ffffff")
    assert PinPadVerify().apdu("123456") == bytes.fromhex("0020000003123456")
    with pytest.raises(ValueError):
        read_pcsc_structure(structure[:-1])


@pytest.fixture
def pad_reader(card_of):
    pad = VirtualPinPad()
    reader = SimulatedReader("PIN pad reader", pad)
    return reader, pad, card_of


def _service(reader, card_of, profile: str) -> ReaderCardService:
    reader.insert(card_of(profile))
    service = ReaderCardService(reader, lambda: None)
    service.read_card()
    return service


def test_the_pad_verifies_and_the_wrong_pin_counts_on_the_card(pad_reader):
    reader, pad, card_of = pad_reader
    service = _service(reader, card_of, "li-na-2.00")
    assert service.has_pin_pad()
    entered = threading.Event()
    pad.type_pin("999999")
    assert service.verify_pin_on_pad(entered.set).status is PinStatus.WRONG
    assert entered.is_set()
    assert service.pin_tries_left() == 2
    pad.type_pin("123456")
    assert service.verify_pin_on_pad().status is PinStatus.VERIFIED


def test_cancel_on_the_pad_costs_no_try_and_a_pulled_card_neither(pad_reader):
    reader, pad, card_of = pad_reader
    service = _service(reader, card_of, "li-na-2.00")
    pad.press("1")
    pad.press("cancel")
    with pytest.raises(KioskError) as cancelled:
        service.verify_pin_on_pad()
    assert cancelled.value.code == "PIN_PAD_CANCELLED"
    assert service.pin_tries_left() == 3
    pad.press("9")
    threading.Timer(0.1, reader.remove).start()
    with pytest.raises(KioskError) as pulled:
        service.verify_pin_on_pad()
    assert pulled.value.code == "CARD_REMOVED"


def test_a_reader_without_a_pad_says_so(card_of):
    reader = SimulatedReader("plain reader")
    service = _service(reader, card_of, "li-na-2.00")
    assert not service.has_pin_pad()
    with pytest.raises(KioskError) as error:
        service.verify_pin_on_pad()
    assert error.value.code == "CARD_COMMUNICATION"


def test_the_pads_display_counts_the_digits_while_it_waits_and_clear_empties_it():
    pad = VirtualPinPad()
    seen: list[int] = []
    taken: list[str | None] = []
    waiting = threading.Thread(target=lambda: taken.append(pad.take_pin(PinPadVerify())))
    assert pad.typed == 0 and not pad.active
    waiting.start()
    try:
        for key, count in (("1", 1), ("2", 2), ("clear", 0), ("4", 1)):
            pad.press(key)
            tick = threading.Event()
            for _ in range(200):  # the pad's thread takes the key within its 50 ms poll
                if pad.typed == count:
                    break
                tick.wait(0.01)
            seen.append(pad.typed)
    finally:
        pad.press("cancel")
        waiting.join(5)
    assert seen == [1, 2, 0, 1]
    assert taken == [None] and pad.typed == 0 and not pad.active
