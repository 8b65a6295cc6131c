"""Provides the tests of ReaderWatcher on its own over pcscd + vpcd: what it reports, in which order, through its one callback."""
from __future__ import annotations

import queue
import threading
from typing import Iterator

import pytest

from devices.pcsc.watcher import CardSeen, ReaderMatched, ReaderWatcher, WatchMessage
from devices.reader import ReaderEvent, ReaderEventKind

pytestmark = pytest.mark.pcsc

TIMEOUT = 5.0


class Reports:
    """The watcher's messages as they come, with the thread each came on."""

    def __init__(self) -> None:
        self.messages: queue.Queue[tuple[WatchMessage, str]] = queue.Queue()

    def __call__(self, message: WatchMessage) -> None:
        self.messages.put((message, threading.current_thread().name))

    def next(self) -> WatchMessage:
        message, thread = self.messages.get(timeout=TIMEOUT)
        assert thread == "pcsc-watch:test"  # always on the watcher's own thread
        return message

    def until(self, last: WatchMessage) -> list[WatchMessage]:
        """Every message up to and including `last`."""
        seen = [self.next()]
        while seen[-1] != last:
            seen.append(self.next())
        return seen


@pytest.fixture
def reports(pcscd) -> Iterator[tuple[Reports, ReaderWatcher]]:
    """A watcher following slot 0, started, its first look done; stopped after the test."""
    collected = Reports()
    watcher = ReaderWatcher(lambda name: name == pcscd.reader(0), collected, name="test", thread_name="pcsc-watch:test")
    watcher.start()
    assert watcher.wait_ready()
    yield collected, watcher
    watcher.stop()
    assert not watcher.running


def test_the_first_look_reports_the_reader_and_the_card_without_announcing_them(pcscd, guardian_slot, card_of, profiles) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    collected = Reports()
    watcher = ReaderWatcher(lambda name: name == pcscd.reader(0), collected, name="test", thread_name="pcsc-watch:test")
    watcher.start()
    try:
        assert watcher.wait_ready() and watcher.running
        assert [collected.next(), collected.next()] == [ReaderMatched(pcscd.reader(0)), CardSeen(profiles["li-na-2.00"].atr)]
        assert collected.messages.empty()  # what was there at the start is not announced
    finally:
        watcher.stop()
    assert not watcher.running


def test_a_card_is_seen_before_its_insertion_is_announced_and_unseen_before_its_removal(
        pcscd, guardian_slot, reports, card_of, profiles) -> None:
    collected, _watcher = reports
    assert collected.until(CardSeen(None))[0] == ReaderMatched(pcscd.reader(0))
    atr = profiles["li-na-2.00"].atr
    guardian_slot.insert(card_of("li-na-2.00"))
    assert [collected.next(), collected.next()] == [CardSeen(atr), ReaderEvent(ReaderEventKind.CARD_INSERTED, pcscd.reader(0), atr)]
    guardian_slot.remove()
    assert [collected.next(), collected.next()] == [CardSeen(None), ReaderEvent(ReaderEventKind.CARD_REMOVED, pcscd.reader(0))]
    guardian_slot.insert(card_of("mute-card"))  # present, but no ATR to open a handle on
    assert [collected.next(), collected.next()] == [CardSeen(None), ReaderEvent(ReaderEventKind.CARD_INSERTED, pcscd.reader(0), b"")]


def test_pcscd_leaving_and_coming_back_is_reported_in_order(pcscd, guardian_slot, reports, card_of, profiles) -> None:
    collected, watcher = reports
    collected.until(CardSeen(None))
    guardian_slot.insert(card_of("li-na-2.00"))
    collected.until(ReaderEvent(ReaderEventKind.CARD_INSERTED, pcscd.reader(0), profiles["li-na-2.00"].atr))
    pcscd.kill()
    # The card goes first (a kept handle is let go), then which reader, then the announcement.
    gone = collected.until(ReaderEvent(ReaderEventKind.READER_REMOVED, pcscd.reader(0)))
    assert gone[-2] == ReaderMatched(None) and set(gone[:-2]) == {CardSeen(None)}
    pcscd.start()
    back = collected.until(ReaderEvent(ReaderEventKind.READER_ADDED, pcscd.reader(0)))
    followed = back.index(ReaderMatched(pcscd.reader(0)))
    assert set(back[:followed]) <= {CardSeen(None), ReaderMatched(None)}  # asked again and again while pcscd is away
    assert len(back) - followed <= 3 and all(isinstance(message, CardSeen) for message in back[followed + 1:-1])
    assert watcher.running


def test_a_report_that_raises_restarts_the_loop_and_stop_ends_the_thread(pcscd, guardian_slot, card_of, profiles) -> None:
    collected = Reports()
    failures = []

    def report(message: WatchMessage) -> None:
        if isinstance(message, ReaderEvent) and not failures:
            failures.append(message)
            raise RuntimeError("report bug")
        collected(message)

    watcher = ReaderWatcher(lambda name: name == pcscd.reader(0), report, name="test", thread_name="pcsc-watch:test")
    watcher.start()
    try:
        assert watcher.wait_ready()
        guardian_slot.insert(card_of("li-na-2.00"))
        # The failed announcement is lost, the loop starts again, follows the reader anew and goes on.
        guardian_slot.remove()
        collected.until(ReaderEvent(ReaderEventKind.CARD_REMOVED, pcscd.reader(0)))
        assert failures == [ReaderEvent(ReaderEventKind.CARD_INSERTED, pcscd.reader(0), profiles["li-na-2.00"].atr)]
        assert watcher.running
    finally:
        watcher.stop()
    assert not watcher.running
