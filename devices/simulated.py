"""Provides SimulatedReader, a slot taking a virtual card or PSAM, and SimulatedBench, the tester's hands at it."""
from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Iterator

from devices.apdu import ApduResponder
from devices.codec import decode_cn_date
from devices.pinpad import PinPadVerify, VirtualPinPad
from devices.profiles import CardProfile

if TYPE_CHECKING:
    # The virtual cards (and the card file layout) load with the first card made: the bench reads its profiles after
    # the kiosk's first screen.
    from devices.virtual_card import VirtualCard
from devices.reader import CardConnection, CardReader, ReaderEvent, ReaderEventKind
from kiosk.errors import KioskError
from kiosk.ports import PhoneScan


class SimulatedReader(CardReader):
    """A reader slot holding at most one `ApduResponder`.

    `insert` and `remove` come from the UI thread, card I/O from worker threads; one lock
    guards the slot. Events are delivered on the thread that caused them: the inserting or
    removing thread, or the worker whose APDU made the card leave (a `pull_after_apdus` fault).
    """

    def __init__(self, name: str = "Simulated reader", pin_pad: VirtualPinPad | None = None) -> None:
        """Args:
            pin_pad: the reader's own PIN pad (a PC/SC part 10 reader's, simulated); None: none.
        """
        super().__init__(name)
        self.pin_pad = pin_pad
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

    offers_pin_pad = True

    @property
    def has_pin_pad(self) -> bool:
        return self._reader.pin_pad is not None

    def verify_on_pin_pad(self, verify: PinPadVerify, entered: Callable[[], None] | None = None) -> bytes:
        pad = self._reader.pin_pad
        if pad is None:
            return super().verify_on_pin_pad(verify, entered)
        return pad.verify(verify, self.transmit, entered, stop=self._card_left)

    def _card_left(self) -> bool:
        if self._closed:  # released (the visit ended): the pad stops waiting as the card's removal would stop it
            return True
        try:
            self._reader._check_inserted(self._insertion)
        except KioskError:
            return True
        return False


@dataclass(frozen=True)
class VirtualCardState:
    """What the tester panel shows of one virtual card, as it is now."""

    name: str
    in_reader: bool
    pin_tries_left: int
    pin_max_tries: int
    expiry: date | None
    """The expiry date written on the card (EF05 item 06); None when it has none (or no EF05 at all)."""
    has_issuer_file: bool
    pull_after_apdus: int | None
    """The card leaves the reader at this APDU after power-on; None: never."""
    apdus_since_power_on: int
    mute: bool

    @property
    def pin_blocked(self) -> bool:
        return self.pin_tries_left <= 0


class SimulatedBench:
    """Implements `kiosk.ports.TesterBench`: the demo card profiles a tester inserts into a `SimulatedReader`.

    Each profile's card is built once and kept, so that it remembers what happened to it
    between insertions as a real card does (PIN tries used, a pull fault that fired);
    `reset` builds it anew. `card` hands it out for changes on the fly, and the setters below
    make the changes the tester panel offers. They apply at once, where a real card would
    notice them: the PIN counter and a pull fault at the card's next APDU, a mute card and a
    new expiry date at the next insertion (the kiosk reads a card's data once per visit).
    """

    def __init__(self, reader: SimulatedReader, profiles: dict[str, CardProfile], psam_master_key: bytes | None) -> None:
        """Args:
            reader: the guardian's slot.
            profiles: the loaded profiles; those of kind "card" become choices.
            psam_master_key: personalises the 3.00 cards (see `VirtualCard.from_profile`).
        """
        self._reader = reader
        self._source: Path | None = None
        self._loaded: tuple[dict[str, CardProfile], bytes | None] | None = (
            {name: p for name, p in profiles.items() if p.kind == "card"}, psam_master_key)
        self._cards: dict[str, VirtualCard] = {}
        self._lock = threading.Lock()
        # The guardian's phone presenting a QR code's URL or user code: the embedded registry's `activate`,
        # or the registry service's phone route as the card holder (kiosk.registry.phone_client.ServicePhone),
        # given by the composition root (see `scan`).
        self.phone: Callable[[str], PhoneScan] | None = None

    @classmethod
    def from_directory(cls, reader: SimulatedReader, directory: Path) -> SimulatedBench:
        """A bench whose profiles are the `*.toml` files in `directory`, read at the first use (or `load`), not now;
        the 3.00 cards are personalised with the first PSAM profile's master key."""
        bench = cls(reader, {}, None)
        bench._source, bench._loaded = directory, None
        return bench

    def load(self) -> None:
        """Read the profiles now if they were not yet (a kiosk does it after its first screen).

        Raises:
            ValueError: naming the file and the key of the first bad profile.
        """
        self._profiles_and_key()

    def _profiles_and_key(self) -> tuple[dict[str, CardProfile], bytes | None]:
        with self._lock:
            if self._loaded is None:
                from devices.profiles import load_profiles, psam_master_key

                assert self._source is not None
                profiles = load_profiles(self._source)
                self._loaded = ({name: p for name, p in profiles.items() if p.kind == "card"}, psam_master_key(profiles))
            return self._loaded

    @property
    def _profiles(self) -> dict[str, CardProfile]:
        return self._profiles_and_key()[0]

    def choices(self) -> list[CardProfile]:
        """Returns:
            The card profiles, in name order.
        Raises:
            ValueError: for a bad profile file, when they are read now (`from_directory`).
        """
        return [self._profiles[name] for name in sorted(self._profiles)]

    def card(self, name: str) -> VirtualCard:
        """Returns:
            The virtual card of profile `name`, built on first use.
        Raises:
            KeyError: when there is no card profile `name`.
        """
        profiles, master_key = self._profiles_and_key()
        with self._lock:
            if name not in self._cards:
                from devices.virtual_card import VirtualCard

                self._cards[name] = VirtualCard.from_profile(profiles[name], master_key)
            return self._cards[name]

    def reset(self, name: str) -> None:
        """Forget what happened to the card of profile `name`: it is built anew from its profile.

        When that card is in the reader the fresh one takes its place (the kiosk sees it taken
        out and put in, as it would a different card).
        """
        in_reader = self.inserted() == name
        with self._lock:
            self._cards.pop(name, None)
        if in_reader:
            self.insert(name)

    def state(self, name: str) -> VirtualCardState:
        """Returns:
            How the card of profile `name` is now (built on first use).
        """
        from devices.sscard import EF05

        card = self.card(name)
        raw_expiry = card.item(EF05, 0x06)
        try:
            expiry = decode_cn_date(raw_expiry) if raw_expiry else None
        except KioskError:
            expiry = None  # a corrupt date: the kiosk says so when it reads the card
        return VirtualCardState(
            name=name,
            in_reader=self.inserted() == name,
            pin_tries_left=card.pin_tries_left,
            pin_max_tries=card.pin_max_tries,
            expiry=expiry,
            has_issuer_file=raw_expiry is not None,
            pull_after_apdus=card.pull_after_apdus,
            apdus_since_power_on=card.apdus_since_power_on,
            mute=card.mute,
        )

    def set_pin_tries(self, name: str, tries: int) -> int:
        """Set the PIN try counter (0 blocks the PIN), kept within 0..the card's maximum.

        Returns:
            The tries left now.
        """
        card = self.card(name)
        card.pin_tries_left = max(0, min(tries, card.pin_max_tries))
        return card.pin_tries_left

    def toggle_expiry(self, name: str, today: date) -> date | None:
        """Expire the card (its expiry date becomes the day before `today`), or renew an expired one.

        A renewed card gets its profile's expiry date back, or ten years from `today` when that
        date has passed too (an expired demo card). Nothing changes on a card without EF05.

        Args:
            today: the kiosk's today (its clock may have been jumped).
        Returns:
            The expiry date now on the card.
        """
        state = self.state(name)
        if not state.has_issuer_file:
            return None
        card = self.card(name)
        if state.expiry is not None and state.expiry < today:
            issuer = self._profiles[name].issuer
            original = issuer.expiry_date if issuer is not None else None
            renewed = original if original is None or original >= today else today + timedelta(days=3653)
            card.set_expiry_date(renewed)
            return renewed
        expired = today - timedelta(days=1)
        card.set_expiry_date(expired)
        return expired

    def set_pull_after(self, name: str, apdus: int | None) -> None:
        """Make the card leave the reader at its `apdus`-th APDU after power-on (0 or None: never).

        A number at or below the APDUs already answered takes the card out at its next APDU.
        """
        self.card(name).pull_after_apdus = apdus or None

    def set_mute(self, name: str, mute: bool) -> None:
        """A mute card gives no answer to reset: the kiosk notices at the next insertion."""
        self.card(name).mute = mute

    def scan(self, presented: str) -> PhoneScan:
        """Play the guardian's phone: present a QR code's URL or its user code (blocking: database or service).

        Raises:
            KioskError: ACTIVATION_UNKNOWN, ACTIVATION_USED, ACTIVATION_EXPIRED, DATABASE_UNAVAILABLE; through
                the registry service also ACTIVATION_DENIED, ACTIVATION_SLOW_DOWN, SERVICE_UNREACHABLE;
                ACTIVATION_UNKNOWN also when no phone was given to this bench.
        """
        if self.phone is None:
            raise KioskError("ACTIVATION_UNKNOWN", "this bench has no phone (no registry wired)")
        return self.phone(presented)

    @property
    def pin_pad(self) -> VirtualPinPad | None:
        """The reader's PIN pad, where the tester types the guardian's PIN (None: the reader has none)."""
        return self._reader.pin_pad

    def holder_resident_id(self) -> str | None:
        """The resident ID of the holder of the card in the reader (by its profile), or None: the guardian whose phone it is."""
        name = self.inserted()
        holder = self._profiles[name].holder if name is not None else None
        return holder.resident_id if holder is not None else None

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
