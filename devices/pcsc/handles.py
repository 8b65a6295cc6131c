"""Provides the owners of open PC/SC card handles: OPEN_HANDLES (every one this process holds) and KeptHandle (one reader's, kept between sessions)."""
from __future__ import annotations

import logging
import threading
import weakref
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devices.pcsc.connection import PcscConnection

_log = logging.getLogger(__name__)

_OPENING_WAIT_S = 5.0  # a session's connect waits this long at most for an early connect under way


class OpenHandles:
    """Every open PC/SC card connection of this process; connections register and unregister themselves.

    pcscd keeps an exclusive connection's hold on its reader until SCardDisconnect, even after the
    card left (when the handle is good for nothing more), and whichever reader object opened it:
    a connect that meets SCARD_E_SHARING_VIOLATION closes such dead connections (`close_dead`)
    before it reports READER_BUSY. A connection nobody refers to any more drops out by itself.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._open: weakref.WeakSet[PcscConnection] = weakref.WeakSet()

    def add(self, connection: PcscConnection) -> None:
        """Count `connection` as open (it calls this when it is made)."""
        with self._lock:
            self._open.add(connection)

    def remove(self, connection: PcscConnection) -> None:
        """Count `connection` as closed (it calls this when it closes); safe to call twice."""
        with self._lock:
            self._open.discard(connection)

    def of(self, keeper: object) -> list[PcscConnection]:
        """Returns:
            The open connections whose `keeper` is `keeper` (those one reader made).
        """
        with self._lock:
            return [connection for connection in self._open if connection.keeper is keeper]

    def close_dead(self, reader_name: str) -> int:
        """Close this process's connections to `reader_name` whose card has left (or whose pcscd went).

        Returns:
            How many were closed.
        """
        with self._lock:
            candidates = [connection for connection in self._open if connection.reader_name == reader_name]
        closed = 0
        for connection in candidates:
            if connection.card_gone():
                _log.info("%s: closing a connection left open after its card left", reader_name)
                connection.discard()
                closed += 1
        return closed


OPEN_HANDLES = OpenHandles()


class KeptHandle:
    """The card handle one reader holds open while its watcher runs: opened early, kept (reset) between sessions.

    The watcher says which card it sees (`card_seen`, before the insertion is announced); the reader
    opens a connection to it and hands it over (`keep`, also when the open failed); a session's
    connect takes it (`take`, waiting for an open under way: the watcher's exclusive connect and
    the session's must not meet) and its close gives it back (`take_back`, which resets the card).
    A new card, no card, or the watcher stopping (`stop`) lets go of it. Used from the watcher's
    thread, the card workers and the UI thread at once: every method is thread-safe.
    """

    def __init__(self, *, enabled: bool) -> None:
        """Args:
            enabled: keep handles at all (the reader's `connect_early`); False only records the ATR seen.
        """
        self._enabled = enabled
        self._lock = threading.Lock()
        self._opened = threading.Condition(self._lock)  # notified when an open under way ends
        self._opening = 0  # opens under way: card_seen said yes, keep has not been called yet
        self._watching = False
        self._atr: bytes | None = None
        self._kept: PcscConnection | None = None

    @property
    def card_atr(self) -> bytes | None:
        """The ATR of the card the watcher last saw go in; None: no card, a mute card, or no watcher running."""
        with self._lock:
            return self._atr if self._watching else None

    def start(self) -> None:
        """The watcher starts: from now on its word on the card counts (what an earlier one said does not)."""
        with self._lock:
            self._watching, self._atr = True, None

    def stop(self) -> None:
        """The watcher stops: nobody would see the card leave, so the kept handle goes and none is taken back."""
        with self._lock:
            self._watching, self._atr = False, None
            kept, self._kept = self._kept, None
        if kept is not None:
            kept.discard()

    def card_seen(self, atr: bytes | None) -> bool:
        """The watcher's word on the card in the reader: its ATR, or None (none, or a mute one).

        A handle kept for an earlier card goes.

        Returns:
            True when the reader should open a handle for this card and then call `keep` (always,
            with None when the open failed).
        """
        with self._lock:
            self._atr = atr
            kept, self._kept = self._kept, None
            wanted = self._enabled and self._watching and atr is not None
            if wanted:
                self._opening += 1
        if kept is not None:
            kept.discard()
        return wanted

    def keep(self, connection: PcscConnection | None) -> None:
        """The open `card_seen` asked for has ended: keep `connection`, or None when it failed.

        The connection is disconnected instead when that card left meanwhile, another one is kept
        already, or the watcher stopped.
        """
        with self._lock:
            self._opening = max(0, self._opening - 1)
            keep = connection is not None and self._watching and self._atr is not None and self._kept is None
            if keep:
                self._kept = connection
            self._opened.notify_all()
        if connection is not None and not keep:
            connection.discard()

    def take(self) -> PcscConnection | None:
        """Take the kept connection; while an early connect is under way, wait for it first (up to 5 s).

        Returns:
            The kept connection, now the caller's (None when none is kept, or it was closed meanwhile).
        """
        with self._lock:
            self._opened.wait_for(lambda: not self._opening, _OPENING_WAIT_S)
            kept, self._kept = self._kept, None
        return kept if kept is not None and kept.is_open else None

    def take_back(self, connection: PcscConnection) -> bool:
        """Keep a connection its user closes, reset, for the next session.

        Returns:
            True when it was kept (its handle now belongs to a new connection kept here); False when
            the caller must disconnect it (keeping is off, no watcher, no card, one kept already, or
            the reset failed).
        """
        with self._lock:
            if not self._enabled or not self._watching or self._kept is not None or self._atr is None:
                return False
            self._kept = connection.reset_for_reuse()
            return self._kept is not None
