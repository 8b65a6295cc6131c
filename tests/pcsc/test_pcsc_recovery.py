"""Provides the tests of life without pcscd and across its restarts: errors, watcher events, cards served again."""
from __future__ import annotations

import queue
from typing import Iterator

import pytest

from devices.pcsc import PcscReader, list_readers
from devices.reader import ReaderEvent, ReaderEventKind
from kiosk.domain import PinResult, PinStatus
from kiosk.errors import KioskError

pytestmark = pytest.mark.pcsc

EVENT_TIMEOUT = 5.0


@pytest.fixture
def events(guardian_reader: PcscReader) -> Iterator[queue.Queue[ReaderEvent]]:
    """The events of the guardian reader (its watcher is started by the test)."""
    seen: queue.Queue[ReaderEvent] = queue.Queue()
    guardian_reader.add_listener(seen.put)
    yield seen
    guardian_reader.stop_monitoring()
    assert not guardian_reader.monitoring


def _next(events: queue.Queue[ReaderEvent]) -> ReaderEvent:
    return events.get(timeout=EVENT_TIMEOUT)


def test_without_pcscd_every_call_is_reader_unavailable(pcscd) -> None:
    pcscd.stop()
    with pytest.raises(KioskError) as caught:
        list_readers()
    assert caught.value.code == "READER_UNAVAILABLE" and "SCARD_E_NO_SERVICE" in caught.value.detail
    reader = PcscReader(pcscd.reader(0))
    assert not reader.available and not reader.card_present() and reader.resolved_name is None
    with pytest.raises(KioskError) as caught:
        reader.connect()
    assert caught.value.code == "READER_UNAVAILABLE" and "SCARD_E_NO_SERVICE" in caught.value.detail
    pcscd.start()
    assert reader.available and reader.resolved_name == pcscd.reader(0)


@pytest.mark.parametrize("how", ["kill", "stop"])
def test_pcscd_restart_is_reader_removed_then_added_and_the_same_reader_reads_again(
        pcscd, guardian_slot, psam_slot, guardian_reader, service, events, card_of, how: str) -> None:
    guardian_slot.insert(card_of("zhang-wei-3.00"))
    guardian_reader.start_monitoring()
    assert service.read_card().holder is not None
    getattr(pcscd, how)()  # SIGKILL (a crash) or SIGTERM
    assert _next(events) == ReaderEvent(ReaderEventKind.READER_REMOVED, pcscd.reader(0))
    assert not guardian_reader.available
    pcscd.start()
    assert _next(events) == ReaderEvent(ReaderEventKind.READER_ADDED, pcscd.reader(0))
    # Both virtual cards connect to the new vpcd by themselves.
    pcscd.wait_card(0, present=True)
    pcscd.wait_card(1, present=True)
    assert guardian_slot.server.connections == 2 and psam_slot.server.connections >= 2
    guardian = service.read_card()  # same service, same PcscReader: its PC/SC contexts are renewed
    assert guardian.holder is not None and guardian.holder.name == "张伟"
    assert guardian_reader.resolved_name == pcscd.reader(0)
    guardian_slot.remove()
    rest = [_next(events).kind]
    if rest[0] is ReaderEventKind.CARD_INSERTED:  # the card came back after the reader did
        rest.append(_next(events).kind)
    assert rest[-1] is ReaderEventKind.CARD_REMOVED and events.empty()


def test_pcscd_killed_before_verify_is_reader_lost_and_costs_no_try(pcscd, guardian_slot, service, card_of) -> None:
    card = card_of("yang-lei-last-try")
    guardian_slot.insert(card)
    service.read_card()
    pcscd.kill()
    with pytest.raises(KioskError) as caught:
        service.verify_pin("000000")
    assert caught.value.code == "READER_LOST"
    assert card.pin_tries_left == 1
    pcscd.start()
    pcscd.wait_card(0, present=True)
    service.read_card()
    assert service.pin_tries_left() == 1
    assert service.verify_pin("123456") == PinResult(PinStatus.VERIFIED)


def test_watcher_started_without_pcscd_reports_the_reader_when_pcscd_comes(pcscd, guardian_reader, events) -> None:
    pcscd.stop()
    guardian_reader.start_monitoring()
    assert not guardian_reader.available and guardian_reader.monitoring
    pcscd.start()
    assert _next(events) == ReaderEvent(ReaderEventKind.READER_ADDED, pcscd.reader(0))
    assert guardian_reader.available
    pcscd.kill()
    assert _next(events) == ReaderEvent(ReaderEventKind.READER_REMOVED, pcscd.reader(0))
    assert events.empty()
