"""Provides PcscConnection: an open PC/SC card handle, with transactions, reset handling and pulled-card diagnosis."""
from __future__ import annotations

import contextlib
import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

from smartcard import scard

from devices.pcsc.handles import OPEN_HANDLES
from devices.pcsc.status import (CARD_GONE, CLASSIFIED, READER_GONE, RESET_CARD, SERVICE_GONE, SUCCESS, TIMEOUT,
                                 error_name, establish_context, pcsc_error, release_context, u32)
from devices.pinpad import (CM_IOCTL_GET_FEATURE_REQUEST, FEATURE_VERIFY_PIN_DIRECT, PinPadVerify, parse_features,
                            scard_ctl_code)
from devices.reader import CardConnection
from kiosk.errors import KioskError

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ConnectionSettings:
    """How a reader's connections share the card, speak to it, close, and diagnose a failure."""

    share: int  # SCARD_SHARE_EXCLUSIVE or SCARD_SHARE_SHARED (each step then runs in a transaction)
    protocols: int  # the SCARD_PROTOCOL_* offered at connect, and again at every reconnect
    reset_on_close: bool  # the card is reset when the handle is let go or kept for the next session
    removal_grace: float  # seconds a failed transmit waits for pcscd to say whether the card left


class HandleKeeper(Protocol):
    """Where a closing connection offers its handle (a reader's KeptHandle)."""

    def take_back(self, connection: PcscConnection) -> bool:
        """Returns:
            True when the handle was kept (the connection is closed then); False: disconnect it.
        """


class PcscConnection(CardConnection):
    """An open PC/SC card handle in one reader."""

    def __init__(self, reader_name: str, handle: int, protocol: int, atr: bytes, settings: ConnectionSettings,
                 keeper: HandleKeeper) -> None:
        """Args:
            reader_name: the PC/SC name of the reader the handle is in.
            handle: the card handle SCardConnect (or SCardReconnect) gave.
            protocol: the protocol in use (SCARD_PROTOCOL_T0 or _T1).
            atr: the card's ATR.
            settings: the reader's connection settings.
            keeper: offered the handle when the connection closes.
        """
        self.reader_name = reader_name
        self._handle = handle
        self._protocol = protocol
        self._atr = atr
        self._settings = settings
        self._keeper = keeper
        self._io = threading.RLock()  # one APDU at a time; held for a whole transaction
        self._closed_lock = threading.Lock()
        self._closed = False
        self._depth = 0  # nested transaction() levels
        self._sent = 0  # APDUs answered since connect or the last reset
        self._pin_pad_code: int | None | bool = False  # False: not asked yet
        OPEN_HANDLES.add(self)

    @property
    def keeper(self) -> HandleKeeper:
        """Where this connection's handle goes when it closes (identifies the reader that made it)."""
        return self._keeper

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
            if rv == SUCCESS and len(response) >= 2:  # the usual case, with nothing around the call
                self._sent += 1
                return bytes(response)
            rv = u32(rv)
            if rv == RESET_CARD:
                # Another program reset the card: the command never reached it. Reconnect, then
                # send it once more (only when nothing had been sent before; else it raises).
                self._after_reset("SCardTransmit")
                self._check_open()
                rv, response = scard.SCardTransmit(self._handle, self._protocol, list(command))
                rv = u32(rv)
                if rv == SUCCESS and len(response) >= 2:
                    self._sent += 1
                    return bytes(response)
            self._check_open()
            call = f"{self.reader_name}: SCardTransmit"
            if rv in CLASSIFIED:
                raise pcsc_error(rv, call, in_session=True)
            problem = f"{len(response)}-byte response without status word" if rv == SUCCESS else error_name(rv)
            raise self._diagnose(f"{call}: {problem}")

    offers_pin_pad = True

    @property
    def has_pin_pad(self) -> bool:
        return self._verify_pin_direct() is not None

    def _verify_pin_direct(self) -> int | None:
        """The reader's FEATURE_VERIFY_PIN_DIRECT control code (asked once per connection), or None."""
        if self._pin_pad_code is False:
            code: int | None = None
            with self._io:
                self._check_open()
                rv, answer = scard.SCardControl(self._handle, scard_ctl_code(CM_IOCTL_GET_FEATURE_REQUEST), [])
            if u32(rv) == SUCCESS:
                code = parse_features(bytes(answer)).get(FEATURE_VERIFY_PIN_DIRECT)
            else:  # a driver without part 10 features (vpcd among them): no PIN pad
                _log.debug("%s: no PC/SC part 10 features: %s", self.reader_name, error_name(u32(rv)))
            self._pin_pad_code = code
        return self._pin_pad_code  # type: ignore[return-value]

    def verify_on_pin_pad(self, verify: PinPadVerify, entered: Callable[[], None] | None = None) -> bytes:
        code = self._verify_pin_direct()
        if code is None:
            return super().verify_on_pin_pad(verify, entered)
        with self._io:
            self._check_open()
            rv, answer = scard.SCardControl(self._handle, code, list(verify.pcsc_structure()))
            rv = u32(rv)
            if rv == SUCCESS and len(answer) >= 2:
                self._sent += 1
                return bytes(answer)
            call = f"{self.reader_name}: SCardControl(FEATURE_VERIFY_PIN_DIRECT)"
            if rv in CLASSIFIED:
                raise pcsc_error(rv, call, in_session=True)
            raise self._diagnose(f"{call}: {error_name(rv) if rv != SUCCESS else 'no status word'}")

    def _diagnose(self, what: str) -> KioskError:
        left = self._what_left()
        if left == "card":
            return KioskError("CARD_REMOVED", f"{what}; the card left the reader")
        if left == "reader":
            return KioskError("READER_LOST", f"{what}; the reader (or pcscd) went away")
        return KioskError("CARD_COMMUNICATION", what)

    def _what_left(self) -> str | None:
        """After a failed transmit: did the card (or the reader) leave? Waits up to `removal_grace`.

        Returns:
            "card" when the card left, "reader" when the reader or pcscd did, None when the card
            is still there.
        """
        rv, context = establish_context()
        if rv != SUCCESS:
            return "reader"
        deadline = time.monotonic() + self._settings.removal_grace
        state = scard.SCARD_STATE_UNAWARE
        try:
            while True:
                status = u32(scard.SCardStatus(self._handle)[0])
                if status in CARD_GONE:
                    return "card"
                if status in SERVICE_GONE or status in READER_GONE:
                    return "reader"
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                rv, states = scard.SCardGetStatusChange(context, max(1, int(remaining * 1000)),
                                                        [(self.reader_name, state)])
                rv = u32(rv)
                if rv == TIMEOUT:
                    return None
                if rv in SERVICE_GONE or rv in READER_GONE:
                    return "reader"
                if rv != SUCCESS:
                    return None
                event = states[0][1]
                if event & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
                    return "reader"
                if event & scard.SCARD_STATE_EMPTY:
                    return "card"
                state = event & ~scard.SCARD_STATE_CHANGED
        finally:
            release_context(context)

    def _after_reset(self, what: str) -> None:
        """Reconnect after SCARD_W_RESET_CARD; raise unless nothing had been sent yet."""
        rv, active = scard.SCardReconnect(self._handle, self._settings.share, self._settings.protocols, scard.SCARD_LEAVE_CARD)
        if u32(rv) != SUCCESS:
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
        if self._settings.share == scard.SCARD_SHARE_EXCLUSIVE:
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
            rv = u32(scard.SCardBeginTransaction(self._handle))
            if rv == SUCCESS:
                return
            if rv != RESET_CARD:
                raise pcsc_error(rv, f"{self.reader_name}: SCardBeginTransaction", in_session=True)
            self._after_reset("SCardBeginTransaction")
        raise KioskError("CARD_COMMUNICATION", f"{self.reader_name}: SCardBeginTransaction: the card keeps being reset")

    def _end(self) -> None:
        with self._closed_lock:
            if self._closed:
                return
        rv = u32(scard.SCardEndTransaction(self._handle, scard.SCARD_LEAVE_CARD))
        if rv != SUCCESS:
            # The step's answers are in already; a card gone now shows at the next command.
            _log.debug("%s: SCardEndTransaction: %s", self.reader_name, error_name(rv))

    def card_gone(self) -> bool:
        """True when the card this connection was made to has left the reader (or pcscd went away)."""
        with self._closed_lock:
            if self._closed:
                return False
        rv = u32(scard.SCardStatus(self._handle)[0])
        return rv in CARD_GONE or rv in SERVICE_GONE or rv in READER_GONE

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
            if self._keeper.take_back(self):
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
        OPEN_HANDLES.remove(self)
        disposition = scard.SCARD_RESET_CARD if self._settings.reset_on_close else scard.SCARD_LEAVE_CARD
        rv, active = scard.SCardReconnect(self._handle, self._settings.share, self._settings.protocols, disposition)
        if u32(rv) != SUCCESS:
            _log.debug("%s: SCardReconnect to keep the handle: %s", self.reader_name, error_name(u32(rv)))
            scard.SCardDisconnect(self._handle, scard.SCARD_LEAVE_CARD)
            return None
        return PcscConnection(self.reader_name, self._handle, active, self._atr, self._settings, self._keeper)

    def discard(self) -> None:
        """Close the connection and disconnect its handle (resetting the card when the reader says so)."""
        with self._closed_lock:
            if self._closed:
                return
            self._closed = True
        OPEN_HANDLES.remove(self)
        disposition = scard.SCARD_RESET_CARD if self._settings.reset_on_close else scard.SCARD_LEAVE_CARD
        try:
            rv = u32(scard.SCardDisconnect(self._handle, disposition))
        except Exception:  # noqa: BLE001 - closing must not fail
            return
        if rv != SUCCESS:
            _log.debug("%s: SCardDisconnect: %s", self.reader_name, error_name(rv))
