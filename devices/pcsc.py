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

APDUs are never logged: a VERIFY carries the PIN.
"""
from __future__ import annotations

import contextlib
import logging
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any, Callable, Iterator

from smartcard import scard

from devices.reader import CardConnection, CardReader, ReaderEvent, ReaderEventKind
from kiosk.errors import KioskError

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
"""The pseudo-reader whose state changes when a reader arrives or leaves."""

PROTOCOLS = {"T0": scard.SCARD_PROTOCOL_T0, "T1": scard.SCARD_PROTOCOL_T1,
             "any": scard.SCARD_PROTOCOL_T0 | scard.SCARD_PROTOCOL_T1}

_log = logging.getLogger(__name__)

# Every open connection of this process. pcscd keeps an exclusive connection's hold on its reader
# until SCardDisconnect, even after the card left (when the handle is good for nothing more):
# connect() closes such dead connections before it reports READER_BUSY.
_OPEN_LOCK = threading.Lock()
_OPEN: "weakref.WeakSet[PcscConnection]" = weakref.WeakSet()


def _u32(rv: int) -> int:
    return rv & 0xFFFFFFFF


def _code(name: str) -> int:
    return _u32(getattr(scard, name))


_NAMES: dict[int, str] = {0: "SCARD_S_SUCCESS"}
for _name in sorted(dir(scard)):
    if _name.startswith(("SCARD_E_", "SCARD_W_", "SCARD_F_", "SCARD_P_")) and isinstance(getattr(scard, _name), int):
        _NAMES.setdefault(_u32(getattr(scard, _name)), _name)

_SUCCESS = 0
_TIMEOUT = _code("SCARD_E_TIMEOUT")
_CANCELLED = _code("SCARD_E_CANCELLED")
_NO_READERS = _code("SCARD_E_NO_READERS_AVAILABLE")
_RESET_CARD = _code("SCARD_W_RESET_CARD")
_REMOVED_CARD = _code("SCARD_W_REMOVED_CARD")
_SERVICE_GONE = frozenset(map(_code, ("SCARD_E_NO_SERVICE", "SCARD_E_SERVICE_STOPPED", "SCARD_F_COMM_ERROR")))
_READER_GONE = frozenset(map(_code, ("SCARD_E_NO_READERS_AVAILABLE", "SCARD_E_UNKNOWN_READER", "SCARD_E_READER_UNAVAILABLE")))
_CARD_GONE = frozenset(map(_code, ("SCARD_E_NO_SMARTCARD", "SCARD_W_REMOVED_CARD")))
_MUTE = frozenset(map(_code, ("SCARD_W_UNRESPONSIVE_CARD", "SCARD_W_UNPOWERED_CARD")))
_UNSUPPORTED = frozenset(map(_code, ("SCARD_W_UNSUPPORTED_CARD", "SCARD_E_PROTO_MISMATCH", "SCARD_E_CARD_UNSUPPORTED")))
_BUSY = frozenset({_code("SCARD_E_SHARING_VIOLATION")})
_CLASSIFIED = _SERVICE_GONE | _READER_GONE | _CARD_GONE | _MUTE | _UNSUPPORTED | _BUSY

_WATCH_TIMEOUT_MS = 2000  # the watcher looks at the reader list at least this often
_RETRY_FIRST = 0.1  # seconds before asking a missing pcscd again; doubles up to _RETRY_MAX
_RETRY_MAX = 1.0
_READY_TIMEOUT = 3.0  # start_monitoring waits this long at most for the watcher's first look


def error_name(rv: int) -> str:
    """Returns:
        The PC/SC name of a result code ("SCARD_E_NO_SMARTCARD"), or its hex value when unknown.
    """
    return _NAMES.get(_u32(rv), f"0x{_u32(rv):08X}")


def pcsc_error(rv: int, what: str, *, in_session: bool) -> KioskError:
    """Map a failed PC/SC call to the catalogue (table in the module docstring).

    Args:
        rv: the PC/SC result.
        what: the call and the reader, for the detail.
        in_session: True when a connection to the card was open (then a lost service or reader
            is READER_LOST and a missing card is CARD_REMOVED).
    """
    code = _u32(rv)
    detail = f"{what}: {error_name(rv)}"
    if code in _SERVICE_GONE:
        return KioskError("READER_LOST" if in_session else "READER_UNAVAILABLE", f"{detail} (no PC/SC service: is pcscd running?)")
    if code in _READER_GONE:
        return KioskError("READER_LOST" if in_session else "READER_UNAVAILABLE", detail)
    if code in _CARD_GONE:
        return KioskError("CARD_REMOVED" if in_session else "CARD_ABSENT", detail)
    if code in _MUTE:
        return KioskError("CARD_MUTE", detail)
    if code in _UNSUPPORTED:
        return KioskError("CARD_UNSUPPORTED", detail)
    if code in _BUSY:
        return KioskError("READER_BUSY", detail)
    return KioskError("CARD_COMMUNICATION", detail)


def _establish() -> tuple[int, int]:
    rv, context = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    return _u32(rv), context


def _release(context: int) -> None:
    try:
        scard.SCardReleaseContext(context)
    except Exception:  # noqa: BLE001 - a context of a dead pcscd may refuse; it is gone either way
        pass


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
            connection.close()
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
        """Stop the watcher thread and wait for it; safe to call when it is not running."""
        with self._watch_lock:
            thread, self._watch_thread = self._watch_thread, None
            self._watch_stop.set()
        if thread is None or thread is threading.current_thread():
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


class _Watcher:
    """The loop of `PcscReader`'s watcher thread, with its state."""

    def __init__(self, reader: PcscReader, stop: threading.Event, ready: threading.Event) -> None:
        self.reader = reader
        self.stop = stop
        self.ready = ready
        self.context: int | None = None
        self.tracked: str | None = None  # the matching reader being reported on
        self.state = scard.SCARD_STATE_UNAWARE  # its last state, as given back to SCardGetStatusChange
        self.pnp_state = scard.SCARD_STATE_UNAWARE
        self.first_look = True
        self.retry = _RETRY_FIRST
        self.quick_returns = 0

    def run(self) -> None:
        while not self.stop.is_set():
            if self.context is None and not self._establish():
                self._lose_reader()
                self.first_look = False
                self.ready.set()
                self.stop.wait(self.retry)
                self.retry = min(self.retry * 2, _RETRY_MAX)
                continue
            names = self._list()
            if names is None:
                continue
            self._follow(names)
            self.first_look = False
            self.ready.set()
            self._wait_for_change()

    def close(self) -> None:
        self._set_context(None)

    def _set_context(self, context: int | None) -> None:
        old, self.context = self.context, context
        with self.reader._watch_lock:
            self.reader._watch_context = context
        if old is not None:
            _release(old)

    def _establish(self) -> bool:
        rv, context = _establish()
        if rv != _SUCCESS:
            return False
        self._set_context(context)
        self.pnp_state = scard.SCARD_STATE_UNAWARE
        return True

    def _service_lost(self, what: str, rv: int) -> None:
        _log.info("%s: %s: %s; the PC/SC service is gone", self.reader.name, what, error_name(rv))
        self._set_context(None)
        self._lose_reader()
        # A pcscd that takes contexts but fails them must not be asked in a tight loop.
        self.stop.wait(self.retry)
        self.retry = min(self.retry * 2, _RETRY_MAX)

    def _lose_reader(self) -> None:
        if self.tracked is not None:
            name, self.tracked = self.tracked, None
            self.state = scard.SCARD_STATE_UNAWARE
            self.reader._set_resolved(None)
            self.reader._send(ReaderEventKind.READER_REMOVED, name)
        elif not self.first_look:
            self.reader._set_resolved(None)

    def _list(self) -> list[str] | None:
        assert self.context is not None
        rv, names = scard.SCardListReaders(self.context, [])
        rv = _u32(rv)
        if rv == _NO_READERS:
            self.retry = _RETRY_FIRST
            return []
        if rv in _SERVICE_GONE:
            self._service_lost("SCardListReaders", rv)
            return None
        if rv != _SUCCESS:
            _log.warning("%s: SCardListReaders: %s", self.reader.name, error_name(rv))
            self.stop.wait(_RETRY_MAX)
            return None
        self.retry = _RETRY_FIRST
        return list(names)

    def _follow(self, names: list[str]) -> None:
        """Compare the reader list with the reader being followed; announce a change."""
        name = next((n for n in names if self.reader.matches(n)), None)
        if self.tracked is not None and self.tracked != name:
            self._lose_reader()
        if name is not None and self.tracked is None:
            self.tracked = name
            self.state = scard.SCARD_STATE_UNAWARE
            self.reader._set_resolved(name)
            # The card already in it is the baseline, not an insertion: listeners ask card_present.
            self._baseline()
            if not self.first_look:
                self.reader._send(ReaderEventKind.READER_ADDED, name)
        elif name is None:
            self.reader._set_resolved(None)

    def _baseline(self) -> None:
        assert self.context is not None and self.tracked is not None
        rv, states = scard.SCardGetStatusChange(self.context, 0, [(self.tracked, scard.SCARD_STATE_UNAWARE)])
        if _u32(rv) in (_SUCCESS, _TIMEOUT) and states:
            self.state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            present = self.state & scard.SCARD_STATE_PRESENT and not self.state & scard.SCARD_STATE_MUTE
            self.reader._seen_atr = bytes(states[0][2]) if present and states[0][2] else None

    def _wait_for_change(self) -> None:
        assert self.context is not None
        watched = [(PNP_NOTIFICATION, self.pnp_state)]
        if self.tracked is not None:
            watched.append((self.tracked, self.state))
        if self.stop.is_set():
            return
        started = time.monotonic()
        rv, states = scard.SCardGetStatusChange(self.context, _WATCH_TIMEOUT_MS, watched)
        rv = _u32(rv)
        if self.stop.is_set() or rv in (_TIMEOUT, _CANCELLED):
            return
        if rv in _SERVICE_GONE:
            self._service_lost("SCardGetStatusChange", rv)
            return
        events = 0
        if rv == _SUCCESS:
            for name, event, atr in states:
                if name == PNP_NOTIFICATION:
                    self.pnp_state = event & ~scard.SCARD_STATE_CHANGED
                elif name == self.tracked:
                    events += self._card_change(event, bytes(atr))
        elif rv not in _READER_GONE:  # a reader gone between the list and the wait: the next list tells
            _log.warning("%s: SCardGetStatusChange: %s", self.reader.name, error_name(rv))
            # pcsc-lite 1.9.9 may answer a dying pcscd with SCARD_W_SECURITY_VIOLATION: ask the
            # service at once rather than waiting to find out.
            probe = _u32(scard.SCardListReaders(self.context, [])[0])
            if probe in _SERVICE_GONE:
                self._service_lost("SCardListReaders", probe)
                return
            self.stop.wait(_RETRY_FIRST)
            return
        # Never spin: a wait that keeps returning at once without news is slowed down.
        if events == 0 and time.monotonic() - started < 0.005:
            self.quick_returns += 1
            if self.quick_returns >= 10:
                self.stop.wait(0.05)
        else:
            self.quick_returns = 0

    def _card_change(self, event: int, atr: bytes) -> int:
        """Announce what changed in the followed reader.

        Returns:
            The number of events sent.
        """
        assert self.tracked is not None
        old, new = self.state, event & ~scard.SCARD_STATE_CHANGED
        self.state = new
        if new & (scard.SCARD_STATE_UNKNOWN | scard.SCARD_STATE_UNAVAILABLE | scard.SCARD_STATE_IGNORE):
            self.reader._seen_atr = None
            return 0  # the reader is leaving: the next reader list says so
        was_present = bool(old & scard.SCARD_STATE_PRESENT)
        present = bool(new & scard.SCARD_STATE_PRESENT)
        # pcsc-lite counts insertions and removals in the upper 16 bits: a quick swap shows there.
        swapped = was_present and present and ((new >> 16) - (old >> 16)) & 0xFFFF >= 2
        sent = 0
        mute = bool(new & scard.SCARD_STATE_MUTE)
        self.reader._seen_atr = atr if present and not mute and atr else None
        if was_present and (not present or swapped):
            self.reader._send(ReaderEventKind.CARD_REMOVED, self.tracked)
            sent += 1
        if present and (not was_present or swapped):
            self.reader._send(ReaderEventKind.CARD_INSERTED, self.tracked, b"" if new & scard.SCARD_STATE_MUTE else atr)
            sent += 1
        return sent


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
            connection.close()
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

    def close(self) -> None:
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
