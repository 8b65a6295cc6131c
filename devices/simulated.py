"""Provides SimulatedReader, a slot taking a virtual card or PSAM, and SimulatedBench, the tester's hands at it."""
from __future__ import annotations

import contextlib
import threading
from typing import Iterator

from devices.apdu import ApduResponder
from devices.profiles import CardProfile
from devices.reader import CardConnection, CardReader, ReaderEvent, ReaderEventKind
from devices.virtual_card import VirtualCard
from kiosk.errors import KioskError


class SimulatedReader(CardReader):
    """A reader slot holding at most one `ApduResponder`.

    `insert` and `remove` come from the UI thread, card I/O from worker threads; one lock
    guards the slot. Events are delivered on the thread that caused them: the inserting or
    removing thread, or the worker whose APDU made the card leave (a `pull_after_apdus` fault).
    """

    def __init__(self, name: str = "Simulated reader") -> None:
        super().__init__(name)
        self._lock = threading.Lock()
        # Held for a whole multi-APDU step, like SCardBeginTransaction; re-entrant for nested steps.
        self._transaction_lock = threading.RLock()
        self._card: ApduResponder | None = None
        self._insertion = 0  # grows with every insert and remove; a connection is valid for one value

    @property
    def card(self) -> ApduResponder | None:
        """The card in the slot, or None."""
        with self._lock:
            return self._card

    def insert(self, card: ApduResponder) -> None:
        """Put `card` into the slot; a card already there is taken out first (with its event)."""
        with self._lock:
            replaced = self._card is not None
            self._card = card
            self._insertion += 1
        if replaced:
            self._emit(ReaderEvent(ReaderEventKind.CARD_REMOVED, self.name))
        self._emit(ReaderEvent(ReaderEventKind.CARD_INSERTED, self.name, card.atr or b""))

    def remove(self) -> None:
        """Take the card out of the slot; nothing happens when the slot is empty."""
        self._take_out(None)

    def _take_out(self, insertion: int | None) -> None:
        # `insertion` given: only that insertion's card leaves (a newer card stays put).
        with self._lock:
            if self._card is None or (insertion is not None and insertion != self._insertion):
                return
            self._card = None
            self._insertion += 1
        self._emit(ReaderEvent(ReaderEventKind.CARD_REMOVED, self.name))

    def card_present(self) -> bool:
        with self._lock:
            return self._card is not None

    def connect(self) -> CardConnection:
        with self._lock:
            card, insertion = self._card, self._insertion
            if card is None:
                raise KioskError("CARD_ABSENT", f"{self.name}: no card")
            atr = card.atr
            if atr is None:
                raise KioskError("CARD_MUTE", f"{self.name}: the card gave no ATR")
            card.power_on()
        return _SimulatedConnection(self, card, insertion, atr)

    def _transmit(self, card: ApduResponder, insertion: int, command: bytes) -> bytes:
        self._check_inserted(insertion)
        try:
            response = card.answer(command)
        except KioskError as error:
            if error.code == "CARD_REMOVED":
                self._take_out(insertion)
            raise
        # A card taken out while it was answering: the answer never reaches the reader.
        self._check_inserted(insertion)
        return response

    def _check_inserted(self, insertion: int) -> None:
        with self._lock:
            if insertion != self._insertion:
                raise KioskError("CARD_REMOVED", f"{self.name}: the card was taken out")

    @contextlib.contextmanager
    def _transaction(self) -> Iterator[None]:
        with self._transaction_lock:
            yield


class _SimulatedConnection(CardConnection):
    """A connection to one insertion of one card; stale once that card leaves the slot."""

    def __init__(self, reader: SimulatedReader, card: ApduResponder, insertion: int, atr: bytes) -> None:
        self._reader = reader
        self._card = card
        self._insertion = insertion
        self._atr = atr
        self._closed = False

    @property
    def atr(self) -> bytes:
        return self._atr

    def transmit(self, command: bytes) -> bytes:
        if self._closed:
            raise KioskError("CARD_COMMUNICATION", f"{self._reader.name}: transmit on a closed connection")
        return self._reader._transmit(self._card, self._insertion, command)

    def close(self) -> None:
        self._closed = True

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        with self._reader._transaction():
            yield


class SimulatedBench:
    """Implements `kiosk.ports.TesterBench`: the demo card profiles a tester inserts into a `SimulatedReader`.

    Each profile's card is built once and kept, so that it remembers what happened to it
    between insertions as a real card does (PIN tries used, a pull fault that fired);
    `reset` builds it anew. `card` hands it out for changes on the fly.
    """

    def __init__(self, reader: SimulatedReader, profiles: dict[str, CardProfile], psam_master_key: bytes | None) -> None:
        """Args:
            reader: the guardian's slot.
            profiles: the loaded profiles; those of kind "card" become choices.
            psam_master_key: personalises the 3.00 cards (see `VirtualCard.from_profile`).
        """
        self._reader = reader
        self._profiles = {name: p for name, p in profiles.items() if p.kind == "card"}
        self._master_key = psam_master_key
        self._cards: dict[str, VirtualCard] = {}
        self._lock = threading.Lock()

    def choices(self) -> list[CardProfile]:
        """Returns:
            The card profiles, in name order.
        """
        return [self._profiles[name] for name in sorted(self._profiles)]

    def card(self, name: str) -> VirtualCard:
        """Returns:
            The virtual card of profile `name`, built on first use.
        Raises:
            KeyError: when there is no card profile `name`.
        """
        with self._lock:
            if name not in self._cards:
                self._cards[name] = VirtualCard.from_profile(self._profiles[name], self._master_key)
            return self._cards[name]

    def reset(self, name: str) -> None:
        """Forget what happened to the card of profile `name`; a card in the reader stays until removed."""
        with self._lock:
            self._cards.pop(name, None)

    def inserted(self) -> str | None:
        """Returns:
            The profile name of the card in the reader, or None (also for a card not from this bench).
        """
        current = self._reader.card
        with self._lock:
            return next((name for name, card in self._cards.items() if card is current), None)

    def insert(self, name: str) -> None:
        """Put the card of profile `name` into the reader, taking out any card there.

        Raises:
            KeyError: when there is no card profile `name`.
        """
        self._reader.insert(self.card(name))

    def remove(self) -> None:
        """Take the card out of the reader."""
        self._reader.remove()
