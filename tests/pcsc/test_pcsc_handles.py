"""Provides the tests of the owners of open handles over pcscd + vpcd: KeptHandle's hand-over between the watcher and a session."""
from __future__ import annotations

import threading

import pytest

from devices.pcsc import PcscConnection, PcscReader
from devices.pcsc.handles import OPEN_HANDLES, KeptHandle

pytestmark = pytest.mark.pcsc

SELECT_MF = bytes.fromhex("00A40000023F00")
STILL_WAITING_S = 0.2  # how long a take() must visibly go on waiting


def _taker(kept: KeptHandle) -> tuple[threading.Thread, list[PcscConnection | None]]:
    taken: list[PcscConnection | None] = []
    thread = threading.Thread(target=lambda: taken.append(kept.take()), name="session-connect")
    thread.start()
    return thread, taken


def test_a_session_connecting_while_the_early_connect_runs_gets_that_handle(pcscd, guardian_slot, card_of, profiles) -> None:
    # The race the suite met under load: the session asked while the watcher's SCardConnect was under
    # way, found nothing kept, connected itself and met the watcher's exclusive hold (READER_BUSY).
    guardian_slot.insert(card_of("li-na-2.00"))
    kept = KeptHandle(enabled=True)
    kept.start()
    assert kept.card_seen(profiles["li-na-2.00"].atr)  # the watcher saw the card: its early connect begins
    thread, taken = _taker(kept)
    thread.join(STILL_WAITING_S)
    assert thread.is_alive()  # the session's connect waits for the early connect, not around it
    opened = PcscReader(pcscd.reader(0), connect_early=False).connect()  # the watcher's SCardConnect
    kept.keep(opened)
    thread.join()
    assert taken == [opened] and opened.transmit(SELECT_MF)[-2:] == b"\x90\x00"
    opened.close()


def test_an_early_connect_that_failed_lets_the_session_connect_itself(pcscd, guardian_slot, card_of, profiles) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    kept = KeptHandle(enabled=True)
    kept.start()
    assert kept.card_seen(profiles["li-na-2.00"].atr)
    thread, taken = _taker(kept)
    kept.keep(None)  # the early connect failed (the session's own connect will say why)
    thread.join()
    assert taken == [None]
    assert kept.take() is None  # nothing in progress: no wait at all


def test_a_handle_kept_for_a_card_that_left_is_let_go(pcscd, guardian_slot, card_of, profiles) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    kept = KeptHandle(enabled=True)
    kept.start()
    assert kept.card_seen(profiles["li-na-2.00"].atr)
    opened = PcscReader(pcscd.reader(0), connect_early=False).connect()
    kept.keep(opened)
    assert not kept.card_seen(None)  # the card left: nothing to open, and the kept handle goes
    assert not opened.is_open and kept.take() is None
    assert opened not in OPEN_HANDLES.of(opened.keeper)
    assert not KeptHandle(enabled=False).card_seen(profiles["li-na-2.00"].atr)  # connect_early off: never
