"""Provides the tests of the card protocol over the real PC/SC stack: pcscd, vpcd, VpcdCardServer, PcscReader."""
from __future__ import annotations

from typing import Callable

import pytest

from devices.profiles import load_profiles, psam_master_key
from devices.psam import psam_key_holder_factory
from devices.service import ReaderCardService
from devices.simulated import SimulatedReader
from devices.virtual_card import VirtualCard, virtual_device
from kiosk import CONFIG_DIR
from kiosk.domain import PinResult, PinStatus
from kiosk.errors import KioskError

pytestmark = pytest.mark.pcsc


def _code_of(call: Callable[[], object]) -> str:
    with pytest.raises(KioskError) as caught:
        call()
    return caught.value.code


def _commands_of(stem: str) -> list[bytes]:
    """The command APDUs a full read, the try-counter query and one VERIFY send to card `stem` (simulated)."""
    profiles = load_profiles(CONFIG_DIR / "cards")
    key = psam_master_key(profiles)
    card = VirtualCard.from_profile(profiles[stem], key)
    sent: list[bytes] = []
    answer = card.answer
    card.answer = lambda command: (sent.append(command), answer(command))[1]  # type: ignore[method-assign]
    psam = SimulatedReader("PSAM")
    psam.insert(virtual_device(profiles["psam-test"], key))
    reader = SimulatedReader("guardian")
    reader.insert(card)
    service = ReaderCardService(reader, psam_key_holder_factory(psam))
    service.read_card()
    service.pin_tries_left()
    service.verify_pin("000000")
    return sent


_READ_2_00 = len(_commands_of("li-na-2.00")) - 2
_COMMANDS_3_00 = _commands_of("zhang-wei-3.00")[:-2]


def _one_of_each_step(commands: list[bytes]) -> list[int]:
    """Where to pull a 3.00 card: at the first APDU of every instruction (SELECT, GET RESPONSE,
    READ RECORD, GET CHALLENGE, EXTERNAL AUTHENTICATE while the PSAM connection is open), at the
    first EF06 read after the authentication, and at the last APDU. Every single position is
    covered by the simulated-reader tests; over PC/SC each pull costs two pcscd polls (~0.8 s)."""
    first: dict[int, int] = {}
    for index, command in enumerate(commands):
        first.setdefault(command[1], index)
    after_auth = next(i for i in range(first[0x82] + 1, len(commands)) if commands[i][1] == 0xB2)
    return sorted(set(first.values()) | {after_auth, len(commands) - 1})


# ---------------------------------------------------------------------------- reading
def test_2_00_card_is_read_over_pcsc(service, guardian_slot, guardian_reader, card_of, profiles) -> None:
    card = card_of("li-na-2.00")
    guardian_slot.insert(card)
    assert guardian_reader.card_present()
    guardian = service.read_card()
    assert guardian.atr == profiles["li-na-2.00"].atr
    assert guardian.holder is not None and guardian.holder.name == "李娜"
    assert guardian.issuer.spec_version == "2.00"
    assert guardian.apdu_count == card.apdus_since_power_on == _READ_2_00
    assert guardian_reader.resolved_name == "Virtual PCD 00 00"


def test_3_00_card_is_read_through_the_virtual_psam_in_slot_1(service, guardian_slot, card_of) -> None:
    card = card_of("zhang-wei-3.00")
    guardian_slot.insert(card)
    guardian = service.read_card()
    assert guardian.holder is not None and guardian.holder.resident_id == "430102198803150016"
    assert guardian.apdu_count == card.apdus_since_power_on == len(_COMMANDS_3_00)


def test_3_00_card_without_a_psam_gives_the_issuer_and_no_holder(guardian_slot, guardian_reader, card_of) -> None:
    guardian_slot.insert(card_of("zhang-wei-3.00"))
    service = ReaderCardService(guardian_reader, lambda: None)
    try:
        guardian = service.read_card()
    finally:
        service.release()
    assert guardian.holder is None and guardian.issuer.spec_version == "3.00"


def test_3_00_card_with_the_psam_taken_out_is_psam_unavailable(service, guardian_slot, psam_slot, card_of) -> None:
    psam_slot.remove()
    guardian_slot.insert(card_of("zhang-wei-3.00"))
    assert _code_of(service.read_card) == "PSAM_UNAVAILABLE"


def test_bank_card_is_not_a_social_security_card(service, guardian_slot, card_of) -> None:
    guardian_slot.insert(card_of("bank-card"))
    assert _code_of(service.read_card) == "CARD_NOT_SOCIAL_SECURITY"


def test_mute_card_sits_in_the_reader_but_is_card_mute(service, guardian_slot, guardian_reader, card_of) -> None:
    # vpcd powers the card up and gets no usable ATR; pcsc-lite 1.9.9 then reports the slot
    # PRESENT|MUTE and SCardConnect answers SCARD_W_UNPOWERED_CARD, which is CARD_MUTE.
    guardian_slot.insert(card_of("mute-card"))
    assert guardian_reader.card_present()
    with pytest.raises(KioskError) as caught:
        service.read_card()
    assert caught.value.code == "CARD_MUTE"
    assert "SCARD_W_UNPOWERED_CARD" in caught.value.detail


def test_empty_reader_is_card_absent(service, guardian_slot, guardian_reader) -> None:
    assert not guardian_reader.card_present()
    with pytest.raises(KioskError) as caught:
        service.read_card()
    assert caught.value.code == "CARD_ABSENT" and "SCARD_E_NO_SMARTCARD" in caught.value.detail


# ---------------------------------------------------------------------------- PIN
def test_right_pin_is_verified(service, guardian_slot, card_of) -> None:
    card = card_of("li-na-2.00")
    guardian_slot.insert(card)
    service.read_card()
    assert service.pin_tries_left() == 3
    assert service.verify_pin("123456") == PinResult(PinStatus.VERIFIED)
    assert card.pin_tries_left == 3


def test_wrong_pins_are_counted_down_to_blocked(service, guardian_slot, card_of) -> None:
    card = card_of("li-na-2.00")
    guardian_slot.insert(card)
    service.read_card()
    assert service.verify_pin("000000") == PinResult(PinStatus.WRONG, 2)
    assert service.pin_tries_left() == 2 and card.pin_tries_left == 2
    assert service.verify_pin("111111") == PinResult(PinStatus.WRONG, 1)
    assert service.verify_pin("222222") == PinResult(PinStatus.BLOCKED, 0)
    assert service.verify_pin("123456") == PinResult(PinStatus.BLOCKED, 0)
    assert card.pin_tries_left == 0


def test_blocked_card_says_blocked_even_to_the_right_pin(service, guardian_slot, card_of) -> None:
    guardian_slot.insert(card_of("chen-jing-blocked"))
    service.read_card()
    assert service.pin_tries_left() == 0
    assert service.verify_pin("123456") == PinResult(PinStatus.BLOCKED, 0)


# ---------------------------------------------------------------------------- pulled cards
@pytest.mark.parametrize("pulled_after", range(_READ_2_00))
def test_2_00_card_pulled_after_any_apdu_of_the_read_is_card_removed(service, guardian_slot, guardian_reader,
                                                                      card_of, pulled_after: int) -> None:
    card = card_of("li-na-2.00")
    card.pull_after_apdus = pulled_after
    guardian_slot.insert(card)
    assert _code_of(service.read_card) == "CARD_REMOVED"
    assert card.apdus_since_power_on == pulled_after
    assert not guardian_reader.card_present()


@pytest.mark.parametrize("pulled_after", _one_of_each_step(_COMMANDS_3_00))
def test_3_00_card_pulled_at_each_step_of_the_read_is_card_removed(service, guardian_slot, card_of,
                                                                    pulled_after: int) -> None:
    card = card_of("zhang-wei-3.00")
    card.pull_after_apdus = pulled_after
    guardian_slot.insert(card)
    assert _code_of(service.read_card) == "CARD_REMOVED"
    assert card.apdus_since_power_on == pulled_after


@pytest.mark.parametrize("step", ["try counter", "verify"])
@pytest.mark.parametrize("stem", ["yang-lei-last-try", "zhang-wei-3.00"])
def test_card_pulled_during_the_pin_step_is_card_removed_and_costs_no_try(service, guardian_slot, card_of,
                                                                          stem: str, step: str) -> None:
    card = card_of(stem)
    guardian_slot.insert(card)
    service.read_card()
    tries = card.pin_tries_left
    if step == "try counter":
        card.pull_after_apdus = card.apdus_since_power_on
        assert _code_of(service.pin_tries_left) == "CARD_REMOVED"
    else:
        assert service.pin_tries_left() == tries
        card.pull_after_apdus = card.apdus_since_power_on
    assert _code_of(lambda: service.verify_pin("000000")) == "CARD_REMOVED"
    assert card.pin_tries_left == tries
