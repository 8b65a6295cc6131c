"""Provides the tests of PcscReader itself over pcscd + vpcd: choosing the reader, sharing, protocols, resets, events."""
from __future__ import annotations

import queue

import pytest
from smartcard import scard

from devices.pcsc import PcscReader, error_name, list_readers, pcsc_error
from devices.reader import ReaderEvent, ReaderEventKind
from kiosk.errors import CATALOGUE, KioskError

pytestmark = pytest.mark.pcsc

SELECT_MF = bytes.fromhex("00A40000023F00")
EVENT_TIMEOUT = 5.0


def _code_of(call) -> str:
    with pytest.raises(KioskError) as caught:
        call()
    return caught.value.code


@pytest.mark.parametrize(
    ("name", "outside", "inside"),
    [
        ("SCARD_E_NO_SERVICE", "READER_UNAVAILABLE", "READER_LOST"),
        ("SCARD_E_SERVICE_STOPPED", "READER_UNAVAILABLE", "READER_LOST"),
        ("SCARD_F_COMM_ERROR", "READER_UNAVAILABLE", "READER_LOST"),
        ("SCARD_E_UNKNOWN_READER", "READER_UNAVAILABLE", "READER_LOST"),
        ("SCARD_E_READER_UNAVAILABLE", "READER_UNAVAILABLE", "READER_LOST"),
        ("SCARD_E_NO_SMARTCARD", "CARD_ABSENT", "CARD_REMOVED"),
        ("SCARD_W_REMOVED_CARD", "CARD_ABSENT", "CARD_REMOVED"),
        ("SCARD_W_UNRESPONSIVE_CARD", "CARD_MUTE", "CARD_MUTE"),
        ("SCARD_W_UNPOWERED_CARD", "CARD_MUTE", "CARD_MUTE"),
        ("SCARD_W_UNSUPPORTED_CARD", "CARD_UNSUPPORTED", "CARD_UNSUPPORTED"),
        ("SCARD_E_PROTO_MISMATCH", "CARD_UNSUPPORTED", "CARD_UNSUPPORTED"),
        ("SCARD_E_SHARING_VIOLATION", "READER_BUSY", "READER_BUSY"),
        ("SCARD_E_NOT_TRANSACTED", "CARD_COMMUNICATION", "CARD_COMMUNICATION"),
        ("SCARD_F_INTERNAL_ERROR", "CARD_COMMUNICATION", "CARD_COMMUNICATION"),
    ],
)
def test_every_pcsc_error_maps_to_a_catalogued_code_naming_the_error(name: str, outside: str, inside: str) -> None:
    rv = getattr(scard, name)
    for in_session, code in ((False, outside), (True, inside)):
        error = pcsc_error(rv, "Virtual PCD 00 00: SCardX", in_session=in_session)
        assert error.code == code and error.code in CATALOGUE
        assert name in error.detail
    assert error_name(rv) == name


def test_list_readers_shows_both_vpcd_slots_with_their_cards(pcscd, guardian_slot, psam_slot, card_of, profiles) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    readers = {status.name: status for status in list_readers()}
    assert readers[pcscd.reader(0)].card_present and readers[pcscd.reader(0)].atr == profiles["li-na-2.00"].atr
    assert readers[pcscd.reader(1)].atr == profiles["psam-test"].atr and not readers[pcscd.reader(1)].mute


def test_list_readers_flags_a_mute_card(pcscd, guardian_slot, card_of) -> None:
    guardian_slot.insert(card_of("mute-card"))
    status = next(s for s in list_readers() if s.name == pcscd.reader(0))
    assert status.card_present and status.mute and status.atr == b""


def test_empty_pattern_takes_the_first_reader_that_is_not_excluded(pcscd, psam_slot) -> None:
    reader = PcscReader("", exclude_pattern="pcd 00 00", exclusive=False)
    connection = reader.connect()  # the PSAM: slot 0 is excluded, case-insensitively
    try:
        assert reader.resolved_name == pcscd.reader(1)
    finally:
        connection.close()
    assert PcscReader("virtual pcd").available
    assert PcscReader("").available


def test_no_matching_reader_is_reader_unavailable(pcscd) -> None:
    reader = PcscReader("ACS ACR39U")
    assert not reader.available and not reader.card_present()
    with pytest.raises(KioskError) as caught:
        reader.connect()
    assert caught.value.code == "READER_UNAVAILABLE" and "Virtual PCD 00 00" in caught.value.detail
    assert reader.resolved_name is None
    assert not PcscReader("Virtual PCD", exclude_pattern="Virtual").available


def test_unknown_protocol_is_refused() -> None:
    with pytest.raises(ValueError):
        PcscReader("x", protocol="T=2")


def test_exclusive_connection_makes_a_second_one_reader_busy(pcscd, guardian_slot, card_of) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    first = PcscReader(pcscd.reader(0)).connect()
    try:
        assert _code_of(PcscReader(pcscd.reader(0), exclusive=False).connect) == "READER_BUSY"
        assert first.transmit(SELECT_MF)[-2:] == b"\x90\x00"
    finally:
        first.close()
    second = PcscReader(pcscd.reader(0)).connect()  # free again once the first closed
    second.close()
    second.close()


def test_a_connection_left_open_never_blocks_the_next_card(pcscd, guardian_slot, card_of) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    forgotten = PcscReader(pcscd.reader(0)).connect()  # exclusive, and never closed
    guardian_slot.remove()
    guardian_slot.insert(card_of("bank-card"))
    # pcscd still counts the dead handle as holding the reader; connect() closes it first.
    reader = PcscReader(pcscd.reader(0))
    connection = reader.connect()
    assert _code_of(lambda: forgotten.transmit(SELECT_MF)) == "CARD_COMMUNICATION"
    reader.close()  # at shutdown: the reader's connections are closed with it
    assert _code_of(lambda: connection.transmit(SELECT_MF)) == "CARD_COMMUNICATION"
    PcscReader(pcscd.reader(0)).connect().close()


def test_shared_connections_take_turns_in_transactions(pcscd, psam_slot) -> None:
    one, two = PcscReader(pcscd.reader(1), exclusive=False).connect(), PcscReader(pcscd.reader(1), exclusive=False).connect()
    try:
        with one.transaction(), one.transaction():
            assert one.transmit(bytes.fromhex("8050000000"))[-2:] == b"\x6d\x00"
        with two.transaction():
            assert two.transmit(bytes.fromhex("8050000000"))[-2:] == b"\x6d\x00"
    finally:
        one.close()
        two.close()


def test_t1_only_reader_setting_refuses_a_t0_card_as_card_unsupported(pcscd, guardian_slot, card_of) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))  # its ATR offers T=0 only
    with pytest.raises(KioskError) as caught:
        PcscReader(pcscd.reader(0), protocol="T1").connect()
    assert caught.value.code == "CARD_UNSUPPORTED" and "SCARD_E_PROTO_MISMATCH" in caught.value.detail
    connection = PcscReader(pcscd.reader(0), protocol="T0").connect()
    assert connection.protocol == "T0"
    connection.close()


def test_card_reset_by_another_program_is_reconnected_and_reported_once(pcscd, guardian_slot, card_of) -> None:
    card = card_of("li-na-2.00")
    guardian_slot.insert(card)
    ours = PcscReader(pcscd.reader(0), exclusive=False).connect()
    theirs = PcscReader(pcscd.reader(0), exclusive=False, reset_on_close=True)
    try:
        assert ours.transmit(SELECT_MF)[-2:] == b"\x90\x00"
        theirs.connect().close()  # resets the card under our feet
        with pytest.raises(KioskError) as caught:
            ours.transmit(SELECT_MF)
        assert caught.value.code == "CARD_COMMUNICATION" and "SCARD_W_RESET_CARD" in caught.value.detail
        assert ours.transmit(SELECT_MF)[-2:] == b"\x90\x00"  # reconnected: the connection goes on
        # A reset before anything was sent costs nothing: the command simply goes through.
        fresh = PcscReader(pcscd.reader(0), exclusive=False).connect()
        theirs.connect().close()
        assert fresh.transmit(SELECT_MF)[-2:] == b"\x90\x00"
        fresh.close()
    finally:
        ours.close()


def test_transmit_on_a_closed_connection_is_card_communication(pcscd, guardian_slot, card_of) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    connection = PcscReader(pcscd.reader(0)).connect()
    connection.close()
    assert _code_of(lambda: connection.transmit(SELECT_MF)) == "CARD_COMMUNICATION"


# ---------------------------------------------------------------------------- events
@pytest.fixture
def watched(guardian_reader):
    """The guardian reader's watcher running, its events in a queue."""
    events: queue.Queue[ReaderEvent] = queue.Queue()
    guardian_reader.add_listener(events.put)
    guardian_reader.start_monitoring()
    yield events
    guardian_reader.stop_monitoring()
    assert not guardian_reader.monitoring


def _next(events: queue.Queue[ReaderEvent]) -> ReaderEvent:
    return events.get(timeout=EVENT_TIMEOUT)


def test_watcher_reports_card_insertion_with_atr_and_removal(pcscd, guardian_slot, watched, card_of, profiles) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    assert _next(watched) == ReaderEvent(ReaderEventKind.CARD_INSERTED, pcscd.reader(0), profiles["li-na-2.00"].atr)
    guardian_slot.remove()
    assert _next(watched) == ReaderEvent(ReaderEventKind.CARD_REMOVED, pcscd.reader(0))
    guardian_slot.insert(card_of("mute-card"))
    assert _next(watched) == ReaderEvent(ReaderEventKind.CARD_INSERTED, pcscd.reader(0), b"")
    assert watched.empty()


def test_watcher_reports_a_card_pulled_during_a_read(pcscd, guardian_slot, watched, service, card_of) -> None:
    card = card_of("zhao-min-pulled")
    guardian_slot.insert(card)
    assert _next(watched).kind is ReaderEventKind.CARD_INSERTED
    assert _code_of(service.read_card) == "CARD_REMOVED"
    assert _next(watched).kind is ReaderEventKind.CARD_REMOVED


def test_watcher_does_not_announce_what_was_there_when_it_started(pcscd, guardian_slot, guardian_reader, card_of) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    events: queue.Queue[ReaderEvent] = queue.Queue()
    guardian_reader.add_listener(events.put)
    guardian_reader.start_monitoring()
    try:
        assert guardian_reader.available and guardian_reader.card_present()
        guardian_slot.remove()
        assert _next(events).kind is ReaderEventKind.CARD_REMOVED
        assert events.empty()
    finally:
        guardian_reader.stop_monitoring()


def test_a_listener_that_raises_does_not_stop_the_watcher(pcscd, guardian_slot, guardian_reader, card_of) -> None:
    def broken(event: ReaderEvent) -> None:
        raise RuntimeError("listener bug")

    events: queue.Queue[ReaderEvent] = queue.Queue()
    guardian_reader.add_listener(broken)
    guardian_reader.add_listener(events.put)
    guardian_reader.start_monitoring()
    try:
        guardian_slot.insert(card_of("li-na-2.00"))
        guardian_slot.remove()
        assert [_next(events).kind, _next(events).kind] == [ReaderEventKind.CARD_INSERTED, ReaderEventKind.CARD_REMOVED]
        assert guardian_reader.monitoring
    finally:
        guardian_reader.stop_monitoring()


def test_vpcd_slot_ports_follow_the_driver_configuration() -> None:
    from devices.vpcd import VPCD_PORT, slot_port

    assert (VPCD_PORT, slot_port(0), slot_port(1)) == (0x8C7B, 35963, 35964)
    with pytest.raises(ValueError):
        slot_port(-1)


def test_a_card_swapped_in_the_vpcd_slot_is_removed_then_inserted(pcscd, guardian_slot, watched, card_of, profiles) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    assert _next(watched).atr == profiles["li-na-2.00"].atr
    guardian_slot.insert(card_of("bank-card"))  # the server takes the first card out before the second goes in
    assert _next(watched).kind is ReaderEventKind.CARD_REMOVED
    assert _next(watched) == ReaderEvent(ReaderEventKind.CARD_INSERTED, pcscd.reader(0), profiles["bank-card"].atr)
    assert guardian_slot.server.connections == 2


# ------------------------------------------------------------------- the handle opened early
SELECT_SSSE = bytes.fromhex("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")
SELECT_EF05 = bytes.fromhex("00A4020002EF05")


def test_the_watcher_opens_the_cards_handle_before_announcing_it(pcscd, guardian_slot, guardian_reader, watched, card_of, profiles) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    assert _next(watched).kind is ReaderEventKind.CARD_INSERTED
    # By the time the insertion is announced the kiosk holds the card: another program cannot have it.
    assert _code_of(PcscReader(pcscd.reader(0)).connect) == "READER_BUSY"
    connection = guardian_reader.connect()
    assert connection.atr == profiles["li-na-2.00"].atr
    assert connection.transmit(SELECT_SSSE)[-2:] == b"\x90\x00"
    connection.close()


def test_a_closed_session_resets_the_card_and_the_next_finds_the_handle_open(pcscd, guardian_slot, guardian_reader, watched, card_of) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    assert _next(watched).kind is ReaderEventKind.CARD_INSERTED
    first = guardian_reader.connect()
    assert first.transmit(SELECT_SSSE)[-2:] == b"\x90\x00"
    assert first.transmit(SELECT_EF05)[-2:] == b"\x90\x00"
    first.close()
    assert _code_of(lambda: first.transmit(SELECT_EF05)) == "CARD_COMMUNICATION"  # the old connection is closed
    second = guardian_reader.connect()
    # The card was reset in between: the application the first session selected is no longer selected.
    assert second.transmit(SELECT_EF05)[-2:] != b"\x90\x00"
    assert second.transmit(SELECT_SSSE)[-2:] == b"\x90\x00"
    second.close()


def test_the_kept_handle_goes_with_the_card_and_with_the_watcher(pcscd, guardian_slot, guardian_reader, watched, card_of, profiles) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    assert _next(watched).kind is ReaderEventKind.CARD_INSERTED
    guardian_slot.insert(card_of("bank-card"))  # swapped: the handle kept for the first card must not serve the second
    assert [_next(watched).kind, _next(watched).kind] == [ReaderEventKind.CARD_REMOVED, ReaderEventKind.CARD_INSERTED]
    connection = guardian_reader.connect()
    assert connection.atr == profiles["bank-card"].atr
    assert connection.transmit(SELECT_MF)[-2:] != b""
    connection.close()
    guardian_reader.stop_monitoring()
    # No watcher, no kept handle: the card is free for another program.
    other = PcscReader(pcscd.reader(0)).connect()
    other.close()


def test_early_connect_can_be_turned_off(pcscd, guardian_slot, card_of) -> None:
    reader = PcscReader(pcscd.reader(0), connect_early=False)
    events: queue.Queue[ReaderEvent] = queue.Queue()
    reader.add_listener(events.put)
    reader.start_monitoring()
    try:
        guardian_slot.insert(card_of("li-na-2.00"))
        assert _next(events).kind is ReaderEventKind.CARD_INSERTED
        other = PcscReader(pcscd.reader(0)).connect()  # nobody holds the card
        other.close()
    finally:
        reader.close()
