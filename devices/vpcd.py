"""Provides VpcdCardServer: a virtual card or PSAM put into a vsmartcard `vpcd` reader slot over its socket.

vpcd (the vsmartcard PC/SC driver loaded by pcscd) listens on TCP port 35963 + slot and takes
one "virtual ICC" per slot. Frames both ways are a 2-byte big-endian length and a payload; a
1-byte payload from vpcd is a control code (00 power off, 01 power on, 02 reset, 04 "send your
ATR"), anything longer is a command APDU answered by the response APDU. Closing the socket takes
the card out. vpcd asks for the ATR on every presence poll (pcscd polls about every 400 ms), so
a card that answers nothing to 04 vanishes from the reader.

How faults look to pcscd:
- a mute responder (its `atr` is None) answers 04 with a frame longer than an ATR can be
  (33 bytes): vpcd counts the card as present, but its power-up fails, so pcscd reports the
  slot as SCARD_STATE_PRESENT | SCARD_STATE_MUTE and SCardConnect answers SCARD_W_UNPOWERED_CARD
  (pcsc-lite 1.9.9). An empty frame would not do: vpcd takes it for a card that left.
- a responder that raises KioskError CARD_REMOVED from `answer` (a `pull_after_apdus` fault)
  has the socket closed at once, without an answer: the card left the reader in the middle of
  the command, and stays out until `insert` puts it (or another card) back.
"""
from __future__ import annotations

import logging
import socket
import struct
import threading
import time

from devices.apdu import ApduResponder, ResponseApdu
from kiosk.errors import KioskError

VPCD_PORT = 35963
"""The TCP port of vpcd's first slot (CHANNELID 0x8C7B in /etc/reader.conf.d/vpcd)."""

_POWER_OFF = 0x00
_POWER_ON = 0x01
_RESET = 0x02
_GET_ATR = 0x04
# Longer than any ATR (ISO 7816-3: at most 33 bytes): vpcd's power-up refuses it, its presence poll accepts it.
_MUTE_ATR_FRAME = bytes(40)
# A command the card could not answer at all (an exception in the responder): "no precise diagnosis".
_NO_DIAGNOSIS = ResponseApdu.of(0x6F00).to_bytes()
_RETRY_FIRST = 0.05
_RETRY_MAX = 1.0
_CONNECT_TIMEOUT = 2.0
# pcscd asks vpcd about the card every 400 ms. A card that left and a card that came within one
# poll look like one card that stayed (same ATR, no events): after a card leaves, the next one
# comes no sooner than this, so pcscd always sees the slot empty in between.
_OUT_AT_LEAST = 0.5

_log = logging.getLogger(__name__)


def slot_port(slot: int) -> int:
    """Returns:
        The TCP port of vpcd slot `slot` (0 is "Virtual PCD 00 00", 1 is "Virtual PCD 00 01").
    Raises:
        ValueError: for a negative slot.
    """
    if slot < 0:
        raise ValueError("vpcd slots count from 0")
    return VPCD_PORT + slot


class VpcdCardServer:
    """Keeps one `ApduResponder` inserted in one vpcd slot, answering vpcd on a thread of its own.

    While a card is inserted the thread stays connected to vpcd; when vpcd goes away (pcscd
    stopped or restarted) it connects again, retrying with a backoff that grows to one second,
    until the card is removed or the server is stopped. `remove` and a pull fault take the card
    out (the socket is closed); `insert` puts a card back, or swaps cards. A card that follows
    one taken out on this side connects no sooner than 0.5 s later: pcscd polls vpcd every
    400 ms, and a quicker swap would look to pcscd like one card that never left.
    `stop` takes the card out too; `insert` and `start` again to serve once more.
    """

    def __init__(self, responder: ApduResponder | None, host: str = "127.0.0.1", port: int = VPCD_PORT) -> None:
        """Args:
            responder: the card in the slot at `start`, or None for an empty slot.
            host: where vpcd listens.
            port: vpcd's port for the slot (`slot_port(slot)`).
        """
        self.host = host
        self.port = port
        self._responder = responder
        self._inserted = responder is not None
        self._cond = threading.Condition()
        self._sock: socket.socket | None = None
        self._seen = False  # vpcd has talked to the card on the current connection
        self._stopping = False
        self._thread: threading.Thread | None = None
        self._connections = 0
        self._left_at: float | None = None  # when vpcd last lost a card it had seen (monotonic)

    # The tester's hands -------------------------------------------------------------

    @property
    def responder(self) -> ApduResponder | None:
        """The card this slot holds or last held (a pulled card stays here until replaced)."""
        with self._cond:
            return self._responder

    @property
    def inserted(self) -> bool:
        """True while a card is meant to be in the slot (connected to vpcd or trying to)."""
        with self._cond:
            return self._inserted

    @property
    def connected(self) -> bool:
        """True when vpcd has accepted the card and asked it for its ATR on the current connection."""
        with self._cond:
            return self._sock is not None and self._seen

    @property
    def connections(self) -> int:
        """How many times vpcd accepted the card so far (grows with every insertion and reconnection)."""
        with self._cond:
            return self._connections

    def start(self) -> VpcdCardServer:
        """Start the server thread (once); a card given to the constructor goes in now.

        Returns:
            self, for `server = VpcdCardServer(card).start()`.
        """
        with self._cond:
            if self._thread is None:
                self._stopping = False
                self._thread = threading.Thread(target=self._run, name=f"vpcd-card:{self.port}", daemon=True)
                self._thread.start()
        return self

    def stop(self, timeout: float = 5.0) -> None:
        """Take the card out and end the thread; safe to call twice."""
        with self._cond:
            self._stopping = True
            self._inserted = False
            self._shutdown_locked()
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)
        with self._cond:
            self._thread = None

    def insert(self, responder: ApduResponder | None = None) -> None:
        """Put a card into the slot (a card already there is taken out first).

        Args:
            responder: the card; None puts the card this slot last held back in.
        Raises:
            ValueError: when there is no card to put back.
        """
        with self._cond:
            if responder is None and self._responder is None:
                raise ValueError("no card to insert")
            if self._inserted:
                # Out first (the thread must not reconnect the old card), then the new one in.
                self._inserted = False
                self._shutdown_locked()
                self._cond.notify_all()
                self._wait_disconnected_locked(5.0)
            if responder is not None:
                self._responder = responder
            self._inserted = True
            self._cond.notify_all()

    def remove(self, timeout: float = 5.0) -> None:
        """Take the card out: the socket is closed, so vpcd reports the slot empty at its next poll."""
        with self._cond:
            self._inserted = False
            self._shutdown_locked()
            self._cond.notify_all()
            self._wait_disconnected_locked(timeout)

    def wait_connected(self, timeout: float) -> bool:
        """Wait until vpcd has accepted the card and asked for its ATR (pcscd then reports it present).

        Returns:
            True when connected, False when `timeout` seconds passed first.
        """
        with self._cond:
            return self._cond.wait_for(lambda: self._sock is not None and self._seen, timeout)

    def wait_disconnected(self, timeout: float) -> bool:
        """Wait until the card's socket is closed (removed, pulled, or vpcd gone).

        Returns:
            True when disconnected, False when `timeout` seconds passed first.
        """
        with self._cond:
            return self._wait_disconnected_locked(timeout)

    def __enter__(self) -> VpcdCardServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # The server thread ---------------------------------------------------------------

    def _shutdown_locked(self) -> None:
        # shutdown, not close: the server thread blocked in recv wakes up and closes the socket itself.
        if self._sock is not None:
            try:
                self._sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _wait_disconnected_locked(self, timeout: float) -> bool:
        return self._cond.wait_for(lambda: self._sock is None, timeout)

    def _run(self) -> None:
        delay = _RETRY_FIRST
        while True:
            with self._cond:
                self._cond.wait_for(lambda: self._stopping or self._inserted)
                if self._stopping:
                    return
                if self._left_at is not None:
                    rest = self._left_at + _OUT_AT_LEAST - time.monotonic()
                    if rest > 0 and self._cond.wait_for(lambda: self._stopping or not self._inserted, rest):
                        continue
            sock = self._connect()
            if sock is None:
                with self._cond:
                    # Wake early for stop/remove; vpcd is retried with a bounded backoff.
                    self._cond.wait_for(lambda: self._stopping or not self._inserted, delay)
                delay = min(delay * 2, _RETRY_MAX)
                continue
            with self._cond:
                if self._stopping or not self._inserted:
                    sock.close()
                    continue
                self._sock, self._seen = sock, False
                responder = self._responder
            pulled = False
            try:
                pulled = self._serve(sock, responder)
            except OSError as error:
                _log.debug("vpcd port %s: connection ended: %s", self.port, error)
            except Exception:  # noqa: BLE001 - the card reconnects; the thread must not die
                _log.exception("vpcd port %s: the virtual card failed", self.port)
            finally:
                sock.close()
                with self._cond:
                    if self._seen:
                        delay = _RETRY_FIRST
                    if self._seen and (pulled or not self._inserted):
                        # Taken out on this side (pulled, removed, swapped): keep the slot empty a while.
                        # When vpcd went away instead (pcscd stopped), the card may come back at once.
                        self._left_at = time.monotonic()
                    if pulled:
                        self._inserted = False
                    self._sock, self._seen = None, False
                    self._cond.notify_all()

    def _connect(self) -> socket.socket | None:
        try:
            sock = socket.create_connection((self.host, self.port), timeout=_CONNECT_TIMEOUT)
        except OSError:
            return None
        sock.settimeout(None)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return sock

    def _serve(self, sock: socket.socket, responder: ApduResponder | None) -> bool:
        """Answer vpcd until the connection ends.

        Returns:
            True when the card was pulled by its fault, False when vpcd or `remove` ended it.
        """
        assert responder is not None
        while True:
            header = _receive(sock, 2)
            if header is None:
                return False
            (length,) = struct.unpack(">H", header)
            payload = _receive(sock, length)
            if payload is None:
                return False
            if length == 1:
                self._control(sock, responder, payload[0])
                continue
            try:
                response = responder.answer(payload)
            except KioskError as error:
                if error.code == "CARD_REMOVED":
                    _log.info("vpcd port %s: %s; the card leaves the reader", self.port, error.detail)
                    return True
                _log.warning("vpcd port %s: the virtual card failed to answer: %s", self.port, error)
                response = _NO_DIAGNOSIS
            except Exception:  # noqa: BLE001 - a broken responder answers like a confused card
                _log.exception("vpcd port %s: the virtual card failed to answer", self.port)
                response = _NO_DIAGNOSIS
            _send(sock, response)

    def _control(self, sock: socket.socket, responder: ApduResponder, code: int) -> None:
        if code == _GET_ATR:
            atr = responder.atr
            _send(sock, atr if atr else _MUTE_ATR_FRAME)
            with self._cond:
                if not self._seen:
                    self._seen = True
                    self._connections += 1
                    self._cond.notify_all()
        elif code in (_POWER_ON, _RESET):
            responder.power_on()
        elif code != _POWER_OFF:
            _log.warning("vpcd port %s: unknown control code %02X", self.port, code)


def _receive(sock: socket.socket, count: int) -> bytes | None:
    """Read exactly `count` bytes; None when the peer closed the connection first."""
    data = bytearray()
    while len(data) < count:
        # vpcd writes the length and the payload separately: without quick ACKs every frame
        # would wait for the delayed ACK (~40 ms). Linux clears TCP_QUICKACK after each use.
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
        chunk = sock.recv(count - len(data))
        if not chunk:
            return None
        data += chunk
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_QUICKACK, 1)
    return bytes(data)


def _send(sock: socket.socket, payload: bytes) -> None:
    sock.sendall(struct.pack(">H", len(payload)) + payload)
