"""Provides the tests of ReaderCardService: reads with and without a PSAM, PIN checks, and cards pulled at every APDU."""
from __future__ import annotations

import contextlib
from typing import Callable, Iterator

import pytest

from devices.psam import KeyHolder, psam_key_holder_factory
from devices.reader import CardConnection, CardReader
from devices.service import ReaderCardService
from devices.simulated import SimulatedReader
from devices.virtual_card import VirtualCard
from kiosk.domain import PinResult, PinStatus
from kiosk.errors import KioskError
from kiosk.ports import CardService


def _code_of(call: Callable[[], object]) -> str:
    with pytest.raises(KioskError) as caught:
        call()
    return caught.value.code


def _no_psam() -> KeyHolder | None:
    return None


def test_reader_card_service_fits_the_core_port(service: ReaderCardService) -> None:
    port: CardService = service
    assert port.card_present() is False


def test_2_00_card_is_read_whole_and_counts_its_apdus(service, guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    guardian_reader.insert(card)
    guardian = service.read_card()
    assert guardian.holder is not None and guardian.holder.name == "李娜"
    assert guardian.apdu_count == card.apdus_since_power_on == 16


def test_3_00_card_is_read_whole_through_the_virtual_psam(service, guardian_reader, card_of) -> None:
    card = card_of("zhang-wei-3.00")
    guardian_reader.insert(card)
    guardian = service.read_card()
    assert guardian.holder is not None and guardian.holder.resident_id == "430102198803150016"
    assert guardian.apdu_count == card.apdus_since_power_on


def test_3_00_card_without_a_key_holder_gives_issuer_and_no_holder(guardian_reader, card_of) -> None:
    guardian_reader.insert(card_of("zhang-wei-3.00"))
    guardian = ReaderCardService(guardian_reader, _no_psam).read_card()
    assert guardian.holder is None
    assert guardian.issuer.card_number == "L43000001" and guardian.issuer.spec_version == "3.00"


def test_2_00_card_never_asks_for_the_key_holder(guardian_reader, card_of) -> None:
    asked: list[bool] = []

    def factory() -> KeyHolder | None:
        asked.append(True)
        return None

    guardian_reader.insert(card_of("li-na-2.00"))
    assert ReaderCardService(guardian_reader, factory).read_card().holder is not None
    assert asked == []


def test_3_00_card_with_an_empty_psam_slot_is_psam_unavailable(guardian_reader, card_of) -> None:
    guardian_reader.insert(card_of("zhang-wei-3.00"))
    service = ReaderCardService(guardian_reader, psam_key_holder_factory(SimulatedReader("empty PSAM slot")))
    assert _code_of(service.read_card) == "PSAM_UNAVAILABLE"


def test_empty_reader_read_is_card_absent(service) -> None:
    assert _code_of(service.read_card) == "CARD_ABSENT"


@pytest.mark.parametrize("pin", ["12345", "1234567", "12345a", "１２３４５６", "", " 12345"])
def test_pin_that_is_not_6_digits_is_pin_format_and_never_sent(service, guardian_reader, card_of, pin: str) -> None:
    card = card_of("li-na-2.00")
    guardian_reader.insert(card)
    service.read_card()
    sent = card.apdus_since_power_on
    assert _code_of(lambda: service.verify_pin(pin)) == "PIN_FORMAT"
    assert card.apdus_since_power_on == sent and card.pin_tries_left == 3


def test_pin_goes_to_the_card_read_on_the_same_connection(service, guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    guardian_reader.insert(card)
    service.read_card()
    assert service.verify_pin("000000") == PinResult(PinStatus.WRONG, 2)
    assert service.verify_pin("123456") == PinResult(PinStatus.VERIFIED)
    assert card.apdus_since_power_on == 18


def test_verify_before_any_read_is_card_absent(service) -> None:
    assert _code_of(lambda: service.verify_pin("123456")) == "CARD_ABSENT"


def test_release_drops_the_connection_and_is_safe_to_repeat(service, guardian_reader, card_of) -> None:
    guardian_reader.insert(card_of("li-na-2.00"))
    service.read_card()
    service.release()
    service.release()
    assert _code_of(lambda: service.verify_pin("123456")) == "CARD_ABSENT"


def test_card_taken_out_before_verify_is_card_removed_and_costs_no_try(service, guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    guardian_reader.insert(card)
    service.read_card()
    guardian_reader.remove()
    assert _code_of(lambda: service.verify_pin("000000")) == "CARD_REMOVED"
    assert card.pin_tries_left == 3


def _full_read_length(card: VirtualCard, service: ReaderCardService, reader: SimulatedReader) -> int:
    reader.insert(card)
    return service.read_card().apdu_count


@pytest.mark.parametrize("stem", ["li-na-2.00", "zhang-wei-3.00"])
def test_card_pulled_after_any_apdu_of_a_read_is_card_removed(service, guardian_reader, card_of, stem: str) -> None:
    total = _full_read_length(card_of(stem), service, guardian_reader)
    assert total > 10
    for pulled_after in range(total):
        card = card_of(stem)
        card.pull_after_apdus = pulled_after
        guardian_reader.insert(card)
        assert _code_of(service.read_card) == "CARD_REMOVED", pulled_after
        assert not guardian_reader.card_present()
    card = card_of(stem)
    card.pull_after_apdus = total
    guardian_reader.insert(card)
    assert service.read_card().holder is not None


@pytest.mark.parametrize("pin", ["000000", "123456"])
@pytest.mark.parametrize("stem", ["li-na-2.00", "zhang-wei-3.00", "yang-lei-last-try"])
def test_card_pulled_during_pin_costs_no_try(service, guardian_reader, card_of, stem: str, pin: str) -> None:
    read_length = _full_read_length(card_of(stem), service, guardian_reader)
    probe = card_of(stem)
    guardian_reader.insert(probe)
    service.read_card()
    service.verify_pin(pin)
    verify_length = probe.apdus_since_power_on - read_length
    assert verify_length >= 1
    for pulled_after in range(read_length, read_length + verify_length):
        card = card_of(stem)
        card.pull_after_apdus = pulled_after
        tries_before = card.pin_tries_left
        guardian_reader.insert(card)
        service.read_card()
        assert _code_of(lambda: service.verify_pin(pin)) == "CARD_REMOVED"
        assert card.pin_tries_left == tries_before
        assert _code_of(lambda: service.verify_pin(pin)) == "CARD_REMOVED"
        assert card.pin_tries_left == tries_before


class _TransactionCountingReader(CardReader):
    """A reader that wraps another one's connections and records their transactions."""

    def __init__(self, inner: SimulatedReader) -> None:
        super().__init__("counting")
        self.inner = inner
        self.transactions = 0
        self.outside: list[bytes] = []
        self.depth = 0

    def card_present(self) -> bool:
        return self.inner.card_present()

    def connect(self) -> CardConnection:
        reader, connection = self, self.inner.connect()

        class Wrapped(CardConnection):
            @property
            def atr(self) -> bytes:
                return connection.atr

            def transmit(self, command: bytes) -> bytes:
                if reader.depth == 0:
                    reader.outside.append(command)
                return connection.transmit(command)

            def close(self) -> None:
                connection.close()

            @contextlib.contextmanager
            def transaction(self) -> Iterator[None]:
                reader.transactions += 1
                reader.depth += 1
                try:
                    yield
                finally:
                    reader.depth -= 1

        return Wrapped()


def test_read_and_verify_each_run_inside_one_transaction(guardian_reader, card_of, key_holder_factory) -> None:
    reader = _TransactionCountingReader(guardian_reader)
    guardian_reader.insert(card_of("zhang-wei-3.00"))
    service = ReaderCardService(reader, key_holder_factory)
    service.read_card()
    service.verify_pin("123456")
    assert reader.transactions == 2 and reader.outside == []


# ---------------------------------------------------------------- the try counter, asked without a try
def test_try_counter_is_read_without_using_a_try() -> None:
    from devices.profiles import load_profiles, psam_master_key
    from devices.service import ReaderCardService
    from devices.simulated import SimulatedReader
    from devices.virtual_card import VirtualCard
    from kiosk import CONFIG_DIR

    profiles = load_profiles(CONFIG_DIR / "cards")
    card = VirtualCard.from_profile(profiles["yang-lei-last-try"], psam_master_key(profiles))
    reader = SimulatedReader("r")
    reader.insert(card)
    service = ReaderCardService(reader, lambda: None)
    service.read_card()
    assert service.pin_tries_left() == 1
    assert service.pin_tries_left() == 1
    assert card.pin_tries_left == 1


@pytest.mark.parametrize(
    ("sw", "expected"),
    [(0x63C2, 2), (0x63C0, 0), (0x6983, 0), (0x6700, None), (0x6A86, None), (0x9000, None)],
)
def test_try_counter_answers_map_to_tries_or_unknown(sw: int, expected: int | None) -> None:
    from devices.apdu import ApduChannel
    from devices.sscard import SocialSecurityCard

    class OneAnswer:
        atr = b"\x3b\x00"
        sent: list[bytes] = []

        def transmit(self, command: bytes) -> bytes:
            self.sent.append(command)
            return sw.to_bytes(2, "big")

    connection = OneAnswer()
    assert SocialSecurityCard(ApduChannel(connection)).pin_tries_left() == expected
    assert connection.sent == [bytes.fromhex("00200000")]


def test_virtual_card_without_counter_reports_says_wrong_length_to_the_counter_query() -> None:
    from devices.profiles import load_profiles, psam_master_key
    from devices.virtual_card import VirtualCard
    from kiosk import CONFIG_DIR

    profiles = load_profiles(CONFIG_DIR / "cards")
    card = VirtualCard.from_profile(profiles["li-na-2.00"], psam_master_key(profiles))
    card.pin_reports_tries = False
    card.power_on()
    assert card.answer(bytes.fromhex("00200000"))[-2:] == bytes.fromhex("6700")
    assert card.pin_tries_left == card.pin_max_tries
