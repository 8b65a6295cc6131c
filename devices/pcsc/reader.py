"""Provides PcscReader: a PC/SC reader slot through pyscard's low-level `smartcard.scard` API, with a watcher that survives pcscd.

Every PC/SC failure becomes a catalogued KioskError whose detail names the PC/SC error:

| PC/SC result | outside a connection | during a connection |
|---|---|---|
| SCARD_E_NO_SERVICE, SCARD_E_SERVICE_STOPPED, SCARD_F_COMM_ERROR (pcscd gone) | READER_UNAVAILABLE | READER_LOST |
| SCARD_E_NO_READERS_AVAILABLE, SCARD_E_UNKNOWN_READER, SCARD_E_READER_UNAVAILABLE, no matching reader | READER_UNAVAILABLE | READER_LOST |
| SCARD_E_NO_SMARTCARD, SCARD_W_REMOVED_CARD | CARD_ABSENT | CARD_REMOVED |
| SCARD_W_UNRESPONSIVE_CARD, SCARD_W_UNPOWERED_CARD (pcsc-lite's answer for a card whose power-up failed) | CARD_MUTE | CARD_MUTE |
| SCARD_W_UNSUPPORTED_CARD, SCARD_E_PROTO_MISMATCH, SCARD_E_CARD_UNSUPPORTED | CARD_UNSUPPORTED | CARD_UNSUPPORTED |
| SCARD_E_SHARING_VIOLATION | READER_BUSY | READER_BUSY |
| anything else | CARD_COMMUNICATION | see below |

A transmit that fails any other way (SCARD_E_NOT_TRANSACTED, a response without status word, ...)
is checked against the reader before it is reported: if the card left (pcscd sees the slot empty,
or the handle says SCARD_W_REMOVED_CARD, within `removal_grace` seconds) it is CARD_REMOVED, if
the reader or pcscd left it is READER_LOST, else CARD_COMMUNICATION. So a card pulled during
VERIFY is always CARD_REMOVED and never a status word the protocol could count as a wrong PIN.

SCARD_E_SHARING_VIOLATION on connect: pcscd keeps an exclusive handle's hold on the reader even
after its card left; connections of this process in that state are closed, and the connect is
tried once more, before READER_BUSY is reported.

SCARD_W_RESET_CARD (another program reset a shared card): the handle is reconnected
(SCardReconnect, once). If nothing had been sent on the connection yet, the call goes on as if
nothing happened; otherwise the card has lost what the connection selected or authenticated,
and the call raises CARD_COMMUNICATION (retriable: the session reads the card again).

The card's handle is opened early: while the watcher runs, the reader connects to a card as soon as
it goes in (before CARD_INSERTED is announced), so the session's `connect` finds the handle open and
the guardian never waits for SCardConnect. A `connect` that comes while that early connect is under
way (one that did not wait for the event: after a pcscd restart, say) waits for it and gets its
handle, rather than meeting its exclusive hold as READER_BUSY. When a session closes its connection
and the card is still in, the handle is reset (SCardReconnect with SCARD_RESET_CARD: the PIN state
and any authentication are gone, as with a disconnect) and kept for the next session; it is let go
when the card leaves, the reader goes, or the watcher stops (KeptHandle in devices/pcsc/handles.py).
With an exclusive reader this means no other program can open the card while it sits in the kiosk's
reader (the kiosk's own tools use the kept handle); `connect_early=False` turns it off.

APDUs are never logged: a VERIFY carries the PIN.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from typing import Any

from smartcard import scard

from devices.pcsc.connection import ConnectionSettings, PcscConnection
from devices.pcsc.context import PcscContext
from devices.pcsc.handles import OPEN_HANDLES, KeptHandle
from devices.pcsc.status import (BUSY, NO_READERS, READER_GONE, SUCCESS, TIMEOUT, error_name, establish_context,
                                 pcsc_error, release_context, u32)
from devices.pcsc.watcher import CardSeen, ReaderMatched, ReaderWatcher, WatchMessage
from devices.reader import CardReader, ReaderEvent
from kiosk.errors import KioskError

_log = logging.getLogger(__name__)

PROTOCOLS = {"T0": scard.SCARD_PROTOCOL_T0, "T1": scard.SCARD_PROTOCOL_T1,
             "any": scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1}


@dataclass(frozen=True)
class ReaderStatus:
    """One PC/SC reader as `list_readers` sees it."""

    name: str
    card_present: bool  # also for a mute card
    atr: bytes  # empty without a card, and for a mute card
    mute: bool = False


def list_readers() -> list[ReaderStatus]:
    """Returns:
        Every PC/SC reader with its card state, in pcscd's order (empty when there is none).
    Raises:
        KioskError: READER_UNAVAILABLE when there is no PC/SC service.
    """
    rv, context = establish_context()
    if rv != SUCCESS:
        raise pcsc_error(rv, "SCardEstablishContext", in_session=False)
    try:
        rv, names = scard.SCardListReaders(context, [])
        rv = u32(rv)
        if rv == NO_READERS:
            return []
        if rv != SUCCESS:
            raise KioskError("READER_UNAVAILABLE", f"SCardListReaders: {error_name(rv)}")
        rv, states = scard.SCardGetStatusChange(context, 0, [(name, scard.SCARD_STATE_UNAWARE) for name in names])
        rv = u32(rv)
        if rv not in (SUCCESS, TIMEOUT):
            raise KioskError("READER_UNAVAILABLE", f"SCardGetStatusChange: {error_name(rv)}")
        return [
            ReaderStatus(name, bool(state & scard.SCARD_STATE_PRESENT), bytes(atr), bool(state & scard.SCARD_STATE_MUTE))
            for name, state, atr in states
        ]
    finally:
        release_context(context)


class PcscReader(CardReader):
    """One PC/SC reader slot, chosen by a part of its name.

    Card operations use their own PC/SC context, status queries another, and the watcher a
    third, so a slow card never holds up `card_present` and the watcher never waits for either.
    """

    isolates_listener_failures = True  # events come from the watcher's thread, which a listener's bug must not stop

    def __init__(
        self,
        name_pattern: str = "",
        exclude_pattern: str = "",
        protocol: str = "any",
        exclusive: bool = True,
        *,
        reset_on_close: bool | None = None,
        removal_grace: float = 1.5,
        connect_early: bool = True,
    ) -> None:
        """Args:
            name_pattern: a case-insensitive part of the reader's PC/SC name; empty takes the
                first reader that does not match `exclude_pattern`.
            exclude_pattern: readers whose name contains this (case-insensitive) are never
                taken, e.g. the PSAM reader's pattern; empty excludes none.
            protocol: "T0", "T1" or "any".
            exclusive: connect with SCARD_SHARE_EXCLUSIVE (the guardian's card, for the whole
                session); False shares the card (a PSAM), each step then runs in a transaction.
                Another program holding the card gives READER_BUSY.
            reset_on_close: reset the card when a connection closes (its PIN state and
                authentication are gone); None resets exclusive connections and leaves shared ones.
            removal_grace: seconds a failed transmit waits for pcscd to say whether the card left.
            connect_early: while the watcher runs, open the card's handle when it goes in and
                keep it (reset) between sessions; see the module's text.
        Raises:
            ValueError: for an unknown protocol.
        """
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol {protocol!r} is not one of {', '.join(PROTOCOLS)}")
        super().__init__(f"PC/SC reader '{name_pattern}'" if name_pattern else "PC/SC reader")
        self.name_pattern = name_pattern
        self.exclude_pattern = exclude_pattern
        self.protocol = protocol
        self.exclusive = exclusive
        self.reset_on_close = exclusive if reset_on_close is None else reset_on_close
        self.removal_grace = removal_grace
        self.connect_early = connect_early
        self._settings = ConnectionSettings(
            share=scard.SCARD_SHARE_EXCLUSIVE if exclusive else scard.SCARD_SHARE_SHARED,
            protocols=PROTOCOLS[protocol], reset_on_close=self.reset_on_close, removal_grace=removal_grace)
        self._kept = KeptHandle(enabled=connect_early)  # the card's handle while the watcher runs
        self._card_context = PcscContext(self.name)  # SCardConnect and the card handles
        self._query_context = PcscContext(self.name)  # reader lists and states
        self._resolved_lock = threading.Lock()
        self._resolved: str | None = None
        self._watch_lock = threading.Lock()
        self._watcher: ReaderWatcher | None = None

    # Which reader ---------------------------------------------------------------------

    def matches(self, reader_name: str) -> bool:
        """Returns:
            True when `reader_name` is one this reader may use (pattern in it, exclusion not).
        """
        name = reader_name.casefold()
        if self.exclude_pattern and self.exclude_pattern.casefold() in name:
            return False
        return self.name_pattern.casefold() in name

    @property
    def resolved_name(self) -> str | None:
        """The PC/SC name of the reader in use, as last seen (None: no matching reader, or no pcscd)."""
        with self._resolved_lock:
            return self._resolved

    def _set_resolved(self, name: str | None) -> None:
        with self._resolved_lock:
            self._resolved = name

    def _resolve(self) -> str:
        rv, names = self._query_context.call(lambda context: scard.SCardListReaders(context, []))
        rv = u32(rv)
        if rv == NO_READERS:
            names = []
        elif rv != SUCCESS:
            self._set_resolved(None)
            raise pcsc_error(rv, f"{self.name}: SCardListReaders", in_session=False)
        name = next((n for n in names if self.matches(n)), None)
        self._set_resolved(name)
        if name is None:
            raise KioskError("READER_UNAVAILABLE", f"{self.name}: no PC/SC reader matches (readers: {', '.join(names) or 'none'})")
        return name

    @property
    def available(self) -> bool:
        """True when a matching reader exists right now (and pcscd answers)."""
        try:
            self._resolve()
        except KioskError:
            return False
        return True

    # The card -------------------------------------------------------------------------

    def card_present(self) -> bool:
        try:
            name = self._resolve()
        except KioskError:
            return False
        rv, states = self._query_context.call(
            lambda context: scard.SCardGetStatusChange(context, 0, [(name, scard.SCARD_STATE_UNAWARE)]))
        if u32(rv) not in (SUCCESS, TIMEOUT) or not states:
            return False
        return bool(states[0][1] & scard.SCARD_STATE_PRESENT)

    def connect(self) -> PcscConnection:
        kept = self._kept.take()
        if kept is not None:
            return kept
        try:
            return self._connect()
        except KioskError as error:
            # The watcher saw the card go in just now and its early connect won the race for the
            # exclusive handle: that handle is this caller's (take waits until it is kept).
            kept = self._kept.take() if error.code == "READER_BUSY" else None
            if kept is None:
                raise
            return kept

    def _connect(self) -> PcscConnection:
        # The name found last time (or by the watcher) saves listing readers on every connect;
        # a reader that went away under that name is looked up again once.
        cached = self.resolved_name
        name = cached or self._resolve()
        settings = self._settings

        def attempt(context: int) -> Any:
            return scard.SCardConnect(context, name, settings.share, settings.protocols)

        rv, handle, active = self._card_context.call(attempt)
        if cached is not None and u32(rv) in READER_GONE:
            name = self._resolve()
            rv, handle, active = self._card_context.call(attempt)
        if u32(rv) in BUSY and OPEN_HANDLES.close_dead(name):
            rv, handle, active = self._card_context.call(attempt)
        if u32(rv) != SUCCESS:
            raise pcsc_error(rv, f"{name}: SCardConnect", in_session=False)
        seen = self._kept.card_atr
        if seen is not None:
            # The watcher read this card's ATR when it went in: no SCardStatus round trip per read.
            return PcscConnection(name, handle, active, seen, settings, self._kept)
        rv, _reader, _state, _protocol, atr = scard.SCardStatus(handle)
        if u32(rv) != SUCCESS:
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
            raise pcsc_error(rv, f"{name}: SCardStatus", in_session=False)
        return PcscConnection(name, handle, active, bytes(atr), settings, self._kept)

    def close(self) -> None:
        """Stop the watcher, close this reader's open connections and let go of its PC/SC contexts.

        For shutdown; the reader can still be used afterwards (it connects anew).
        """
        self.stop_monitoring()
        for connection in OPEN_HANDLES.of(self._kept):
            connection.discard()
        self._card_context.drop()
        self._query_context.drop()

    def _card_seen(self, atr: bytes | None) -> None:
        """The watcher's word on the card (on its thread, before an insertion is announced): open its handle early."""
        if not self._kept.card_seen(atr):
            return
        connection = None
        try:
            connection = self._connect()
        except KioskError as error:
            # Nothing lost: the session's connect tries again and reports what it finds.
            _log.debug("%s: early connect: %s", self.name, error)
        finally:
            self._kept.keep(connection)  # also when it failed: a session's connect waits for this

    # The watcher ----------------------------------------------------------------------

    @property
    def monitoring(self) -> bool:
        """True while the watcher thread runs."""
        with self._watch_lock:
            return self._watcher is not None and self._watcher.running

    def start_monitoring(self) -> None:
        """Start the watcher thread (once); returns when it has had its first look at the readers.

        From then on it emits, on its own thread: READER_ADDED / READER_REMOVED when a matching
        reader appears / disappears (pcscd stopping counts as the reader leaving, pcscd coming
        back with it as the reader arriving), and CARD_INSERTED (with the ATR; empty for a mute
        card) / CARD_REMOVED for the card in it. What is there when the watcher starts, and the
        card in a reader that has just arrived, are not announced: ask `available` and
        `card_present`. A listener that raises is logged; the watcher goes on.
        """
        with self._watch_lock:
            if self._watcher is not None and self._watcher.running:
                return
            self._kept.start()
            watcher = self._watcher = ReaderWatcher(self.matches, self._on_watch, name=self.name,
                                                    thread_name=f"pcsc-watch:{self.name_pattern}")
            watcher.start()
        watcher.wait_ready()

    def stop_monitoring(self, timeout: float = 5.0) -> None:
        """Stop the watcher thread and wait for it, and let go of the card's kept handle; safe to call when it is not running."""
        with self._watch_lock:
            watcher, self._watcher = self._watcher, None
        # Without the watcher nobody would see the card leave: the handle kept for it goes now.
        self._kept.stop()
        if watcher is not None:
            watcher.stop(timeout)

    def _on_watch(self, message: WatchMessage) -> None:
        match message:
            case ReaderMatched(name=name):
                self._set_resolved(name)
            case CardSeen(atr=atr):
                self._card_seen(atr)
            case ReaderEvent():
                self._emit(message)
