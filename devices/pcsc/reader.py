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
the guardian never waits for SCardConnect. When a session closes its connection and the card is
still in, the handle is reset (SCardReconnect with SCARD_RESET_CARD: the PIN state and any
authentication are gone, as with a disconnect) and kept for the next session; it is let go when the
card leaves, the reader goes, or the watcher stops. With an exclusive reader this means no other
program can open the card while it sits in the kiosk's reader (the kiosk's own tools use the kept
handle); `connect_early=False` turns it off.

APDUs are never logged: a VERIFY carries the PIN.
"""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Any, Callable

from smartcard import scard

from devices.pcsc.connection import _OPEN, _OPEN_LOCK, PcscConnection, _close_dead_connections
from devices.pcsc.status import _BUSY, _CARD_GONE, _NO_READERS, _READER_GONE, _SERVICE_GONE, _SUCCESS, _TIMEOUT, _establish, _release, _u32, error_name, pcsc_error
from devices.pcsc.watcher import _Watcher, _RETRY_MAX, _READY_TIMEOUT
from devices.reader import CardReader, ReaderEvent, ReaderEventKind
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
    rv, context = _establish()
    if rv != _SUCCESS:
        raise pcsc_error(rv, "SCardEstablishContext", in_session=False)
    try:
        rv, names = scard.SCardListReaders(context, [])
        rv = _u32(rv)
        if rv == _NO_READERS:
            return []
        if rv != _SUCCESS:
            raise KioskError("READER_UNAVAILABLE", f"SCardListReaders: {error_name(rv)}")
        rv, states = scard.SCardGetStatusChange(context, 0, [(name, scard.SCARD_STATE_UNAWARE) for name in names])
        rv = _u32(rv)
        if rv not in (_SUCCESS, _TIMEOUT):
            raise KioskError("READER_UNAVAILABLE", f"SCardGetStatusChange: {error_name(rv)}")
        return [
            ReaderStatus(name, bool(state & scard.SCARD_STATE_PRESENT), bytes(atr), bool(state & scard.SCARD_STATE_MUTE))
            for name, state, atr in states
        ]
    finally:
        _release(context)


class _Context:
    """One PC/SC context, established on first use and replaced when pcscd restarted under it."""

    def __init__(self, owner: str) -> None:
        self._owner = owner
        self._lock = threading.Lock()
        self._context: int | None = None

    def call(self, action: Callable[[int], Any]) -> Any:
        """Run `action(context)`, whose result is a tuple starting with a PC/SC result or the result alone.

        A context left over from a pcscd that went away answers SCARD_E_NO_SERVICE for ever
        (SCardIsValidContext still says it is fine); it is replaced and the action runs once more.

        Raises:
            KioskError: READER_UNAVAILABLE when no context can be established.
        """
        result: Any = None
        for _attempt in range(2):
            context = self._get()
            result = action(context)
            rv = result[0] if isinstance(result, (tuple, list)) else result
            if _u32(rv) not in _SERVICE_GONE:
                return result
            self.drop(context)
        return result

    def _get(self) -> int:
        with self._lock:
            if self._context is None:
                rv, context = _establish()
                if rv != _SUCCESS:
                    raise pcsc_error(rv, f"{self._owner}: SCardEstablishContext", in_session=False)
                self._context = context
            return self._context

    def drop(self, context: int | None = None) -> None:
        """Release the context (only `context`, when given and still current)."""
        with self._lock:
            if self._context is None or (context is not None and context != self._context):
                return
            context, self._context = self._context, None
        _release(context)


class PcscReader(CardReader):
    """One PC/SC reader slot, chosen by a part of its name.

    Card operations use their own PC/SC context, status queries another, and the watcher a
    third, so a slow card never holds up `card_present` and the watcher never waits for either.
    """

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
        self._early_lock = threading.Lock()  # guards _early and the watcher's _seen_atr updates
        self._early: PcscConnection | None = None  # the handle opened before anyone asked for it
        self._card_context = _Context(self.name)  # SCardConnect and the card handles
        self._query_context = _Context(self.name)  # reader lists and states
        self._resolved_lock = threading.Lock()
        self._resolved: str | None = None
        self._seen_atr: bytes | None = None  # the ATR of the card the watcher last saw go in
        self._watch_lock = threading.Lock()
        self._watch_thread: threading.Thread | None = None
        self._watch_stop = threading.Event()
        self._watch_context: int | None = None

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
        rv = _u32(rv)
        if rv == _NO_READERS:
            names = []
        elif rv != _SUCCESS:
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
        if _u32(rv) not in (_SUCCESS, _TIMEOUT) or not states:
            return False
        return bool(states[0][1] & scard.SCARD_STATE_PRESENT)

    def connect(self) -> PcscConnection:
        with self._early_lock:
            early, self._early = self._early, None
        if early is not None and early.is_open:
            return early
        return self._connect()

    def _connect(self) -> PcscConnection:
        # The name found last time (or by the watcher) saves listing readers on every connect;
        # a reader that went away under that name is looked up again once.
        cached = self.resolved_name
        name = cached or self._resolve()
        share = scard.SCARD_SHARE_EXCLUSIVE if self.exclusive else scard.SCARD_SHARE_SHARED
        protocols = PROTOCOLS[self.protocol]

        def attempt(context: int) -> Any:
            return scard.SCardConnect(context, name, share, protocols)

        rv, handle, active = self._card_context.call(attempt)
        if cached is not None and _u32(rv) in _READER_GONE:
            name = self._resolve()
            rv, handle, active = self._card_context.call(attempt)
        if _u32(rv) in _BUSY and _close_dead_connections(name):
            rv, handle, active = self._card_context.call(attempt)
        if _u32(rv) != _SUCCESS:
            raise pcsc_error(rv, f"{name}: SCardConnect", in_session=False)
        seen = self._seen_atr if self.monitoring else None
        if seen is not None:
            # The watcher read this card's ATR when it went in: no SCardStatus round trip per read.
            return PcscConnection(self, name, handle, active, seen, share, protocols)
        rv, _reader, _state, _protocol, atr = scard.SCardStatus(handle)
        if _u32(rv) != _SUCCESS:
            scard.SCardDisconnect(handle, scard.SCARD_LEAVE_CARD)
            raise pcsc_error(rv, f"{name}: SCardStatus", in_session=False)
        return PcscConnection(self, name, handle, active, bytes(atr), share, protocols)

    def close(self) -> None:
        """Stop the watcher, close this reader's open connections and let go of its PC/SC contexts.

        For shutdown; the reader can still be used afterwards (it connects anew).
        """
        self.stop_monitoring()
        with _OPEN_LOCK:
            mine = [connection for connection in _OPEN if connection._reader is self]
        for connection in mine:
            connection.discard()
        self._card_context.drop()
        self._query_context.drop()

    def _card_left(self, reader_name: str, handle: int) -> str | None:
        """After a failed transmit: did the card (or the reader) leave? Waits up to `removal_grace`.

        Returns:
            "card" when the card left, "reader" when the reader or pcscd did, None when the card
            is still there.
        """
        rv, context = _establish()
        if rv != _SUCCESS:
            return "reader"
        deadline = time.monotonic() + self.removal_grace
        state = scard.SCARD_STATE_UNAWARE
        try:
            while True:
                status = _u32(scard.SCardStatus(handle)[0])
                if status in _CARD_GONE:
                    return "card"
                if status in _SERVICE_GONE or status in _READER_GONE:
                    return "reader"
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                rv, states = scard.SCardGetStatusChange(context, max(1, int(remaining * 1000)), [(reader_name, state)])
                rv = _u32(rv)
                if rv == _TIMEOUT:
                    return None
                if rv in _SERVICE_GONE or rv in _READER_GONE:
                    return "reader"
                if rv != _SUCCESS:
                    return None
                event = states[0][1]
                if event & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE):
                    return "reader"
                if event & scard.SCARD_STATE_EMPTY:
                    return "card"
                state = event & ~scard.SCARD_STATE_CHANGED
        finally:
            _release(context)

    # The handle opened early ------------------------------------------------------------

    def _card_seen(self, atr: bytes | None) -> None:
        """The watcher's word on the card in the reader: its ATR, or None (none, or a mute one).

        A handle kept for an earlier card goes; with `connect_early`, one is opened for a new card.
        Called on the watcher's thread, before the change is announced.
        """
        with self._early_lock:
            self._seen_atr = atr
            early, self._early = self._early, None
        if early is not None:
            early.discard()
        if atr is None or not self.connect_early:
            return
        try:
            connection = self._connect()
        except KioskError as error:
            # Nothing lost: the session's connect tries again and reports what it finds.
            _log.debug("%s: early connect: %s", self.name, error)
            return
        with self._early_lock:
            keep = self._seen_atr is not None and self._early is None
            if keep:
                self._early = connection
        if not keep:
            connection.discard()

    def _drop_early(self) -> None:
        with self._early_lock:
            early, self._early = self._early, None
        if early is not None:
            early.discard()

    def _take_back(self, connection: PcscConnection) -> bool:
        """Keep a connection its user closes, reset, for the next session.

        Returns:
            True when it was kept (its handle now belongs to a new PcscConnection in `_early`);
            False when the caller must disconnect it (watcher not running, no card, one kept already).
        """
        if not self.connect_early or not self.monitoring:
            return False
        with self._early_lock:
            if self._early is not None or self._seen_atr is None:
                return False
            kept = connection.reset_for_reuse()
            if kept is not None:
                self._early = kept
        return kept is not None

    # The watcher ----------------------------------------------------------------------

    @property
    def monitoring(self) -> bool:
        """True while the watcher thread runs."""
        with self._watch_lock:
            return self._watch_thread is not None and self._watch_thread.is_alive()

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
            if self._watch_thread is not None and self._watch_thread.is_alive():
                return
            self._watch_stop = threading.Event()
            ready = threading.Event()
            self._watch_thread = threading.Thread(
                target=self._watch, args=(self._watch_stop, ready), name=f"pcsc-watch:{self.name_pattern}", daemon=True)
            self._watch_thread.start()
        ready.wait(_READY_TIMEOUT)

    def stop_monitoring(self, timeout: float = 5.0) -> None:
        """Stop the watcher thread and wait for it, and let go of the card's kept handle; safe to call when it is not running."""
        with self._watch_lock:
            thread, self._watch_thread = self._watch_thread, None
            self._watch_stop.set()
        if thread is None or thread is threading.current_thread():
            self._drop_early()
            return
        deadline = time.monotonic() + timeout
        while thread.is_alive() and time.monotonic() < deadline:
            # A cancel that comes while the watcher is between two waits is lost: cancel until it ends.
            with self._watch_lock:
                context = self._watch_context
            if context is not None:
                try:
                    scard.SCardCancel(context)
                except Exception:  # noqa: BLE001 - a dead pcscd has nothing to cancel
                    pass
            thread.join(0.05)
        # Without the watcher nobody would see the card leave: the handle kept for it goes now.
        self._drop_early()

    def _send(self, kind: ReaderEventKind, reader_name: str, atr: bytes = b"") -> None:
        self._emit(ReaderEvent(kind, reader_name, atr))

    def _emit(self, event: ReaderEvent) -> None:
        # Each listener on its own: one that raises neither stops the watcher nor the others.
        with self._listeners_lock:
            listeners = list(self._listeners)
        for listener in listeners:
            try:
                listener(event)
            except Exception:  # noqa: BLE001 - logged, the watcher goes on
                _log.exception("%s: a reader event listener failed on %s", self.name, event.kind.value)

    def _watch(self, stop: threading.Event, ready: threading.Event) -> None:
        watcher = _Watcher(self, stop, ready)
        try:
            while not stop.is_set():
                try:
                    watcher.run()
                except Exception:  # noqa: BLE001 - a watcher that dies silently is the bug this class avoids
                    _log.exception("%s: the reader watcher failed; it starts again", self.name)
                    watcher.close()
                    ready.set()
                    stop.wait(_RETRY_MAX)
        finally:
            ready.set()
            watcher.close()
