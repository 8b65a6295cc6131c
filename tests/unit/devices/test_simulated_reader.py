"""Provides the tests of the simulated reader: insert/remove events, connections that die with their insertion."""
from __future__ import annotations

import threading

import pytest

from devices.reader import ReaderEvent, ReaderEventKind
from devices.simulated import SimulatedBench, SimulatedReader
from kiosk.errors import KioskError

SELECT_MF = bytes.fromhex("00A40000023F00")


def _code_of(call) -> str:
    with pytest.raises(KioskError) as caught:
        call()
    return caught.value.code


@pytest.fixture
def events(guardian_reader: SimulatedReader) -> list[ReaderEvent]:
    seen: list[ReaderEvent] = []
    guardian_reader.add_listener(seen.append)
    return seen


def test_empty_reader_has_no_card_and_connect_is_card_absent(guardian_reader: SimulatedReader) -> None:
    assert not guardian_reader.card_present()
    assert _code_of(guardian_reader.connect) == "CARD_ABSENT"


def test_insert_and_remove_send_events_with_the_atr(guardian_reader, events, card_of) -> None:
    card = card_of("li-na-2.00")
    guardian_reader.insert(card)
    guardian_reader.remove()
    guardian_reader.remove()
    assert [(e.kind, e.reader) for e in events] == [
        (ReaderEventKind.CARD_INSERTED, "Guardian slot"),
        (ReaderEventKind.CARD_REMOVED, "Guardian slot"),
    ]
    assert events[0].atr == card.atr


def test_inserting_over_a_card_removes_it_first(guardian_reader, events, card_of) -> None:
    guardian_reader.insert(card_of("li-na-2.00"))
    guardian_reader.insert(card_of("bank-card"))
    assert [e.kind for e in events] == [ReaderEventKind.CARD_INSERTED, ReaderEventKind.CARD_REMOVED, ReaderEventKind.CARD_INSERTED]


def test_a_removed_listener_hears_nothing(guardian_reader, card_of) -> None:
    seen: list[ReaderEvent] = []
    guardian_reader.add_listener(seen.append)
    guardian_reader.remove_listener(seen.append)
    guardian_reader.insert(card_of("li-na-2.00"))
    assert seen == []


def test_connection_forwards_apdus_to_the_card(guardian_reader, card_of) -> None:
    guardian_reader.insert(card_of("li-na-2.00"))
    connection = guardian_reader.connect()
    assert connection.atr == bytes.fromhex("3B6C0000806411650190730000008102")
    assert connection.transmit(SELECT_MF) == bytes.fromhex("9000")


def test_connection_after_removal_is_card_removed(guardian_reader, card_of) -> None:
    guardian_reader.insert(card_of("li-na-2.00"))
    connection = guardian_reader.connect()
    guardian_reader.remove()
    assert _code_of(lambda: connection.transmit(SELECT_MF)) == "CARD_REMOVED"


def test_reinserting_the_same_card_does_not_revive_old_connections(guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    guardian_reader.insert(card)
    old = guardian_reader.connect()
    guardian_reader.remove()
    guardian_reader.insert(card)
    assert _code_of(lambda: old.transmit(SELECT_MF)) == "CARD_REMOVED"
    assert guardian_reader.connect().transmit(SELECT_MF) == bytes.fromhex("9000")


def test_closed_connection_refuses_to_transmit(guardian_reader, card_of) -> None:
    guardian_reader.insert(card_of("li-na-2.00"))
    connection = guardian_reader.connect()
    connection.close()
    connection.close()
    assert _code_of(lambda: connection.transmit(SELECT_MF)) == "CARD_COMMUNICATION"


def test_mute_card_is_present_but_connect_is_card_mute(guardian_reader, card_of) -> None:
    guardian_reader.insert(card_of("mute-card"))
    assert guardian_reader.card_present()
    assert _code_of(guardian_reader.connect) == "CARD_MUTE"


def test_a_pulled_card_leaves_the_slot_and_says_so(guardian_reader, events, card_of) -> None:
    card = card_of("li-na-2.00")
    card.pull_after_apdus = 1
    guardian_reader.insert(card)
    connection = guardian_reader.connect()
    connection.transmit(SELECT_MF)
    assert _code_of(lambda: connection.transmit(SELECT_MF)) == "CARD_REMOVED"
    assert not guardian_reader.card_present()
    assert events[-1].kind is ReaderEventKind.CARD_REMOVED
    assert _code_of(lambda: connection.transmit(SELECT_MF)) == "CARD_REMOVED"


def test_a_pull_does_not_throw_out_a_card_inserted_since(guardian_reader, card_of) -> None:
    first = card_of("li-na-2.00")
    guardian_reader.insert(first)
    connection = guardian_reader.connect()
    second = card_of("bank-card")
    guardian_reader.insert(second)
    first.pull_after_apdus = 0
    assert _code_of(lambda: connection.transmit(SELECT_MF)) == "CARD_REMOVED"
    assert guardian_reader.card is second


def test_card_taken_out_while_answering_loses_the_answer(guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    card.slow_ms = 10
    card._sleep = lambda seconds: guardian_reader.remove()
    guardian_reader.insert(card)
    connection = guardian_reader.connect()
    assert _code_of(lambda: connection.transmit(SELECT_MF)) == "CARD_REMOVED"


def test_connect_powers_the_card_on_again(guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    guardian_reader.insert(card)
    guardian_reader.connect().transmit(SELECT_MF)
    guardian_reader.connect()
    assert card.apdus_since_power_on == 0


def test_inserting_and_removing_from_another_thread_never_breaks_card_io(guardian_reader, card_of) -> None:
    card = card_of("li-na-2.00")
    guardian_reader.insert(card)
    failures: list[BaseException] = []
    done = threading.Event()

    def worker() -> None:
        try:
            for _ in range(300):
                try:
                    guardian_reader.connect().transmit(SELECT_MF)
                except KioskError as error:
                    assert error.code in ("CARD_REMOVED", "CARD_ABSENT")
        except BaseException as error:  # reported below, on the test's thread
            failures.append(error)
        finally:
            done.set()

    thread = threading.Thread(target=worker)
    thread.start()
    while not done.is_set():
        guardian_reader.remove()
        guardian_reader.insert(card)
    thread.join()
    assert failures == []


def test_bench_offers_the_card_profiles_but_not_the_psam(guardian_reader, profiles, master_key) -> None:
    bench = SimulatedBench(guardian_reader, profiles, master_key)
    names = [choice.name for choice in bench.choices()]
    assert names == sorted(names) and "psam-test" not in names and "zhang-wei-3.00" in names
    assert all(choice.label.zh and choice.description.en for choice in bench.choices())


def test_bench_inserts_and_removes_by_profile_name(guardian_reader, events, profiles, master_key) -> None:
    bench = SimulatedBench(guardian_reader, profiles, master_key)
    assert bench.inserted() is None
    bench.insert("li-na-2.00")
    assert bench.inserted() == "li-na-2.00" and guardian_reader.card is bench.card("li-na-2.00")
    bench.insert("bank-card")
    assert bench.inserted() == "bank-card"
    bench.remove()
    assert bench.inserted() is None
    assert [e.kind for e in events].count(ReaderEventKind.CARD_INSERTED) == 2
    with pytest.raises(KeyError):
        bench.insert("nobody")


def test_bench_card_remembers_its_pin_tries_until_reset(guardian_reader, profiles, master_key) -> None:
    bench = SimulatedBench(guardian_reader, profiles, master_key)
    bench.insert("li-na-2.00")
    bench.card("li-na-2.00").pin_tries_left = 1
    bench.remove()
    bench.insert("li-na-2.00")
    assert bench.card("li-na-2.00").pin_tries_left == 1
    bench.reset("li-na-2.00")
    assert bench.card("li-na-2.00").pin_tries_left == 3


def test_bench_knows_a_pulled_card_is_gone(guardian_reader, profiles, master_key) -> None:
    bench = SimulatedBench(guardian_reader, profiles, master_key)
    bench.insert("zhao-min-pulled")
    connection = guardian_reader.connect()
    for _ in range(4):
        connection.transmit(SELECT_MF)
    assert _code_of(lambda: connection.transmit(SELECT_MF)) == "CARD_REMOVED"
    assert bench.inserted() is None
