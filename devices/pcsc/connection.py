"""Provides PcscConnection: an open PC/SC card handle, with transactions, reset handling and pulled-card diagnosis."""
from __future__ import annotations

import contextlib
import logging
import threading
import weakref
from typing import TYPE_CHECKING, Iterator

from smartcard import scard

from devices.pcsc.status import _CARD_GONE, _CLASSIFIED, _READER_GONE, _RESET_CARD, _SERVICE_GONE, _SUCCESS, _u32, error_name, pcsc_error
from devices.reader import CardConnection
from kiosk.errors import KioskError

if TYPE_CHECKING:
    from devices.pcsc.reader import PcscReader

_log = logging.getLogger(__name__)

# Every open connection of this process. pcscd keeps an exclusive connection's hold on its reader
# until SCardDisconnect, even after the card left (when the handle is good for nothing more):
# connect() closes such dead connections before it reports READER_BUSY.
_OPEN_LOCK = threading.Lock()
_OPEN: "weakref.WeakSet[PcscConnection]" = weakref.WeakSet()


def _close_dead_connections(reader_name: str) -> int:
    """Close this process's connections to `reader_name` whose card has left.

    Returns:
        How many were closed.
    """
    with _OPEN_LOCK:
        candidates = [connection for connection in _OPEN if connection.reader_name == reader_name]
    closed = 0
    for connection in candidates:
        if connection._card_gone():
            _log.info("%s: closing a connection left open after its card left", reader_name)
            connection.discard()
            closed += 1
    return closed


class PcscConnection(CardConnection):
    """An open PC/SC card handle in one reader."""

    def __init__(self, reader: PcscReader, reader_name: str, handle: int, protocol: int, atr: bytes,
                 share: int, protocols: int) -> None:
        self._reader = reader
        self.reader_name = reader_name
        self._handle = handle
        self._protocol = protocol
        self._atr = atr
        self._share = share
        self._protocols = protocols
        self._io = threading.RLock()  # one APDU at a time; held for a whole transaction
        self._closed_lock = threading.Lock()
        self._closed = False
        self._depth = 0  # nested transaction() levels
        self._sent = 0  # APDUs answered since connect or the last reset
        with _OPEN_LOCK:
            _OPEN.add(self)

    @property
    def atr(self) -> bytes:
        return self._atr

    @property
    def protocol(self) -> str:
        """The protocol in use: "T0" or "T1"."""
        return "T1" if self._protocol == scard.SCARD_PROTOCOL_T1 else "T0"

    def _check_open(self) -> None:
        with self._closed_lock:
            if self._closed:
                raise KioskError("CARD_COMMUNICATION", f"{self.reader_name}: the connection is closed")

    def transmit(self, command: bytes) -> bytes:
        with self._io:
            if self._closed:
                self._check_open()  # raises
            rv, response = scard.SCardTransmit(self._handle, self._protocol, list(command))
            if rv == _SUCCESS and len(response) >= 2:  # the usual case, with nothing around the call
                self._sent += 1
                return bytes(response)
            rv = _u32(rv)
            if rv == _RESET_CARD:
                # Another program reset the card: the command never reached it. Reconnect, then
                # send it once more (only when nothing had been sent before; else it raises).
                self._after_reset("SCardTransmit")
                self._check_open()
                rv, response = scard.SCardTransmit(self._handle, self._protocol, list(command))
                rv = _u32(rv)
                if rv == _SUCCESS and len(response) >= 2:
                    self._sent += 1
                    return bytes(response)
            self._check_open()
            call = f"{self.reader_name}: SCardTransmit"
            if rv in _CLASSIFIED:
                raise pcsc_error(rv, call, in_session=True)
            problem = f"{len(response)}-byte response without status word" if rv == _SUCCESS else error_name(rv)
            raise self._diagnose(f"{call}: {problem}")

    def _diagnose(self, what: str) -> KioskError:
        left = self._reader._card_left(self.reader_name, self._handle)
        if left == "card":
            return KioskError("CARD_REMOVED", f"{what}; the card left the reader")
        if left == "reader":
            return KioskError("READER_LOST", f"{what}; the reader (or pcscd) went away")
        return KioskError("CARD_COMMUNICATION", what)

    def _after_reset(self, what: str) -> None:
        """Reconnect after SCARD_W_RESET_CARD; raise unless nothing had been sent yet."""
        rv, active = scard.SCardReconnect(self._handle, self._share, self._protocols, scard.SCARD_LEAVE_CARD)
        if _u32(rv) != _SUCCESS:
            raise pcsc_error(rv, f"{self.reader_name}: SCardReconnect after SCARD_W_RESET_CARD", in_session=True)
        self._protocol = active
        if self._sent == 0:
            return
        self._sent = 0
        raise KioskError(
            "CARD_COMMUNICATION",
            f"{self.reader_name}: {what}: SCARD_W_RESET_CARD: another program reset the card, so what this "
            "connection selected or authenticated is gone (reconnected; read the card again)")

    @contextlib.contextmanager
    def transaction(self) -> Iterator[None]:
        if self._share == scard.SCARD_SHARE_EXCLUSIVE:
            # An exclusive handle already keeps every other program away: no transaction needed.
            with self._io:
                yield
            return
        with self._io:
            if self._depth == 0:
                self._begin()
            self._depth += 1
            try:
                yield
            finally:
                self._depth -= 1
                if self._depth == 0:
                    self._end()

    def _begin(self) -> None:
        for _attempt in range(2):
            self._check_open()
            rv = _u32(scard.SCardBeginTransaction(self._handle))
            if rv == _SUCCESS:
                return
            if rv != _RESET_CARD:
                raise pcsc_error(rv, f"{self.reader_name}: SCardBeginTransaction", in_session=True)
            self._after_reset("SCardBeginTransaction")
        raise KioskError("CARD_COMMUNICATION", f"{self.reader_name}: SCardBeginTransaction: the card keeps being reset")

    def _end(self) -> None:
        with self._closed_lock:
            if self._closed:
                return
        rv = _u32(scard.SCardEndTransaction(self._handle, scard.SCARD_LEAVE_CARD))
        if rv != _SUCCESS:
            # The step's answers are in already; a card gone now shows at the next command.
            _log.debug("%s: SCardEndTransaction: %s", self.reader_name, error_name(rv))

    def _card_gone(self) -> bool:
        """True when the card this connection was made to has left the reader (or pcscd went away)."""
        with self._closed_lock:
            if self._closed:
                return False
        rv = _u32(scard.SCardStatus(self._handle)[0])
        return rv in _CARD_GONE or rv in _SERVICE_GONE or rv in _READER_GONE

    @property
    def is_open(self) -> bool:
        """True until the connection is closed (the card may have left all the same)."""
        with self._closed_lock:
            return not self._closed

    def close(self) -> None:
        """Close the connection; its reader may keep the handle, reset, for the next session."""
        with self._io:  # never under a transaction or an APDU of another thread
            if not self.is_open:
                return
            if self._reader._take_back(self):
                return
        self.discard()

    def reset_for_reuse(self) -> PcscConnection | None:
        """Reset the card on this handle (SCardReconnect, SCARD_RESET_CARD) and hand the handle to a new connection.

        This connection is closed either way.

        Returns:
            The new connection, or None when the reset failed (the handle is then disconnected).
        """
        with self._closed_lock:
            if self._closed:
                return None
            self._closed = True
        with _OPEN_LOCK:
            _OPEN.discard(self)
        disposition = scard.SCARD_RESET_CARD if self._reader.reset_on_close else scard.SCARD_LEAVE_CARD
        rv, active = scard.SCardReconnect(self._handle, self._share, self._protocols, disposition)
        if _u32(rv) != _SUCCESS:
            _log.debug("%s: SCardReconnect to keep the handle: %s", self.reader_name, error_name(_u32(rv)))
            scard.SCardDisconnect(self._handle, scard.SCARD_LEAVE_CARD)
            return None
        return PcscConnection(self._reader, self.reader_name, self._handle, active, self._atr, self._share, self._protocols)

    def discard(self) -> None:
        """Close the connection and disconnect its handle (resetting the card when the reader says so)."""
        with self._closed_lock:
            if self._closed:
                return
            self._closed = True
        with _OPEN_LOCK:
            _OPEN.discard(self)
        disposition = scard.SCARD_RESET_CARD if self._reader.reset_on_close else scard.SCARD_LEAVE_CARD
        try:
            rv = _u32(scard.SCardDisconnect(self._handle, disposition))
        except Exception:  # noqa: BLE001 - closing must not fail
            return
        if rv != _SUCCESS:
            _log.debug("%s: SCardDisconnect: %s", self.reader_name, error_name(rv))
