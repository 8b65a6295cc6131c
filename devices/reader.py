"""Provides the card reader interface every reader implements: simulated, PC/SC, and the events they send."""
from __future__ import annotations

import abc
import contextlib
import enum
import logging
import threading
from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, ClassVar, Iterator

if TYPE_CHECKING:
    from devices.pinpad import PinPadVerify

_log = logging.getLogger(__name__)


class ReaderEventKind(enum.Enum):
    CARD_INSERTED = "card_inserted"
    CARD_REMOVED = "card_removed"
    READER_ADDED = "reader_added"
    READER_REMOVED = "reader_removed"


@dataclass(frozen=True)
class ReaderEvent:
    """Something that happened at a reader; delivered on the reader's own thread."""

    kind: ReaderEventKind
    reader: str
    atr: bytes = b""


ReaderListener = Callable[[ReaderEvent], None]


class CardConnection(abc.ABC):
    """An open connection to one card (or PSAM) in one reader slot."""

    @property
    @abc.abstractmethod
    def atr(self) -> bytes:
        """The card's answer to reset."""

    @abc.abstractmethod
    def transmit(self, command: bytes) -> bytes:
        """Send one command APDU and return the raw response: data followed by SW1 SW2.

        Args:
            command: the whole command APDU.
        Returns:
            The response bytes, at least two (the status word).
        Raises:
            KioskError: CARD_REMOVED when the card left the reader, CARD_COMMUNICATION when
                the transmit failed otherwise, READER_LOST when the reader went away.
        """

    @abc.abstractmethod
    def close(self) -> None:
        """Disconnect; safe to call twice."""

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        """Hold the card exclusively for a multi-APDU step. The default has nothing to lock."""
        yield

    # Class flag: connections of this kind may verify the PIN on the reader's own PIN pad. A class that
    # sets it answers `has_pin_pad` per reader (a PC/SC reader asks its features; the simulated one is set up so).
    offers_pin_pad: ClassVar[bool] = False

    @property
    def has_pin_pad(self) -> bool:
        """True when this connection's reader takes the PIN on its own keys (`verify_on_pin_pad`)."""
        return False

    def verify_on_pin_pad(self, verify: PinPadVerify, entered: Callable[[], None] | None = None) -> bytes:
        """Let the reader take the PIN on its pad and send the VERIFY of `verify` to the card.

        The PIN never reaches the program. Args: entered: called when the pad knows the PIN was
        confirmed and the card is checking it (a reader that cannot tell never calls it).
        Returns:
            The card's status word (or the pad's own: 6400 timed out, 6401 cancelled).
        Raises:
            KioskError: CARD_COMMUNICATION when the reader has no PIN pad; as `transmit` otherwise.
        """
        from kiosk.errors import KioskError

        raise KioskError("CARD_COMMUNICATION", "this reader has no PIN pad")


class CardReader(abc.ABC):
    """One reader slot, for the guardian's card or for a PSAM."""

    # True: a listener that raises is logged and the others still hear the event (for a reader
    # whose events come from its own thread, which a listener's bug must not stop).
    isolates_listener_failures: ClassVar[bool] = False

    def __init__(self, name: str) -> None:
        self.name = name
        self._listeners: list[ReaderListener] = []
        self._listeners_lock = threading.Lock()

    @abc.abstractmethod
    def card_present(self) -> bool:
        """Returns:
            True when a card sits in this slot (even a mute one).
        """

    @abc.abstractmethod
    def connect(self) -> CardConnection:
        """Power the card and open a connection.

        Returns:
            The connection, with the ATR read.
        Raises:
            KioskError: CARD_ABSENT, CARD_MUTE, READER_LOST, READER_UNAVAILABLE.
        """

    def add_listener(self, listener: ReaderListener) -> None:
        """Call `listener` for every event of this reader, on the reader's thread."""
        with self._listeners_lock:
            self._listeners.append(listener)

    def remove_listener(self, listener: ReaderListener) -> None:
        with self._listeners_lock:
            if listener in self._listeners:
                self._listeners.remove(listener)

    def _emit(self, event: ReaderEvent) -> None:
        """Deliver `event` to every listener, on the calling thread (for the reader classes)."""
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            if not self.isolates_listener_failures:
                listener(event)
                continue
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - logged; the reader and the other listeners go on
                _log.exception("%s: a reader event listener failed on %s", self.name, event.kind.value)
