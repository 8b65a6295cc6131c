"""Provides ReaderWatcher: a thread on SCardGetStatusChange that follows one reader and its card, reports in small messages, and outlives pcscd restarts."""
from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from typing import Callable, Union

from smartcard import scard

from devices.pcsc.status import (CANCELLED, NO_READERS, READER_GONE, SERVICE_GONE, SUCCESS, TIMEOUT, error_name,
                                 establish_context, release_context, u32)
from devices.reader import ReaderEvent, ReaderEventKind

_log = logging.getLogger(__name__)

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
_WATCH_TIMEOUT_MS = 2000  # the watcher looks at the reader list at least this often
_RETRY_FIRST = 0.1  # seconds before asking a missing pcscd again; doubles up to _RETRY_MAX
_RETRY_MAX = 1.0
_READY_TIMEOUT = 3.0  # seconds wait_ready() waits at most for the watcher's first look


@dataclass(frozen=True)
class ReaderMatched:
    """Which PC/SC reader the watcher follows now: its name, or None (no matching reader, or no pcscd)."""

    name: str | None


@dataclass(frozen=True)
class CardSeen:
    """The card in the followed reader: its ATR, or None (no card, a mute card, or the reader left).

    Reported when it changes, and before the insertion is announced: a handle opened on this
    message is open by the time listeners hear CARD_INSERTED.
    """

    atr: bytes | None


# What the watcher reports, in order, on its own thread: ReaderMatched and CardSeen for its owner,
# ReaderEvent for the owner to announce. A report that raises restarts the watcher's loop.
WatchMessage = Union[ReaderMatched, CardSeen, ReaderEvent]
WatchReport = Callable[[WatchMessage], None]


class ReaderWatcher:
    """A thread following the first reader `matches` accepts, and the card in it.

    It reports READER_ADDED / READER_REMOVED when a matching reader appears / disappears (pcscd
    stopping counts as the reader leaving, pcscd coming back with it as the reader arriving),
    and CARD_INSERTED (with the ATR; empty for a mute card) / CARD_REMOVED for the card in it.
    What is there when it starts, and the card in a reader that has just arrived, are not
    announced (only reported as ReaderMatched and CardSeen). A watcher runs once: start, stop.
    """

    def __init__(self, matches: Callable[[str], bool], report: WatchReport, *, name: str, thread_name: str) -> None:
        """Args:
            matches: True for a PC/SC reader name the watcher may follow.
            report: gets every message, on the watcher's thread.
            name: the reader's name, for the log.
            thread_name: the thread's name.
        """
        self._stop = threading.Event()
        self._ready = threading.Event()
        self._loop = _WatchLoop(matches, report, name, self._stop, self._ready)
        self._name = name
        self._thread = threading.Thread(target=self._run, name=thread_name, daemon=True)

    @property
    def running(self) -> bool:
        """True while the watcher's thread runs."""
        return self._thread.is_alive()

    def start(self) -> None:
        """Start the thread (returns at once)."""
        self._thread.start()

    def wait_ready(self, timeout: float = _READY_TIMEOUT) -> bool:
        """Wait until the thread has had its first look at the readers (reported what it found).

        Returns:
            False when `timeout` seconds passed first.
        """
        return self._ready.wait(timeout)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the thread and wait for it (up to `timeout` s); from the watcher's own thread, only ask it to stop."""
        self._stop.set()
        if self._thread is threading.current_thread():
            return
        deadline = time.monotonic() + timeout
        while self._thread.is_alive() and time.monotonic() < deadline:
            # A cancel that comes while the watcher is between two waits is lost: cancel until it ends.
            self._loop.cancel()
            self._thread.join(0.05)

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                try:
                    self._loop.run()
                except Exception:  # noqa: BLE001 - a watcher that dies silently is the bug this class avoids
                    _log.exception("%s: the reader watcher failed; it starts again", self._name)
                    self._loop.close()
                    self._ready.set()
                    self._stop.wait(_RETRY_MAX)
        finally:
            self._ready.set()
            self._loop.close()


class _WatchLoop:
    """The loop of a ReaderWatcher's thread, with its state."""

    def __init__(self, matches: Callable[[str], bool], report: WatchReport, name: str, stop: threading.Event,
                 ready: threading.Event) -> None:
        self.matches = matches
        self.report = report
        self.name = name
        self.stop = stop
        self.ready = ready
        self.context_lock = threading.Lock()  # the context is cancelled from the stopping thread
        self.context: int | None = None
        self.tracked: str | None = None  # the matching reader being reported on
        self.state = scard.SCARD_STATE_UNAWARE  # its last state, as given back to SCardGetStatusChange
        self.pnp_state = scard.SCARD_STATE_UNAWARE
        self.seen: bytes | None = None  # the ATR last reported in CardSeen
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

    def cancel(self) -> None:
        """End a wait in SCardGetStatusChange now (from another thread)."""
        with self.context_lock:
            context = self.context
        if context is not None:
            try:
                scard.SCardCancel(context)
            except Exception:  # noqa: BLE001 - a dead pcscd has nothing to cancel
                pass

    def _set_context(self, context: int | None) -> None:
        with self.context_lock:
            old, self.context = self.context, context
        if old is not None:
            release_context(old)

    def _card_seen(self, atr: bytes | None) -> None:
        self.seen = atr
        self.report(CardSeen(atr))

    def _send(self, kind: ReaderEventKind, reader_name: str, atr: bytes = b"") -> None:
        self.report(ReaderEvent(kind, reader_name, atr))

    def _establish(self) -> bool:
        rv, context = establish_context()
        if rv != SUCCESS:
            return False
        self._set_context(context)
        self.pnp_state = scard.SCARD_STATE_UNAWARE
        return True

    def _service_lost(self, what: str, rv: int) -> None:
        _log.info("%s: %s: %s; the PC/SC service is gone", self.name, what, error_name(rv))
        self._set_context(None)
        self._lose_reader()
        # A pcscd that takes contexts but fails them must not be asked in a tight loop.
        self.stop.wait(self.retry)
        self.retry = min(self.retry * 2, _RETRY_MAX)

    def _lose_reader(self) -> None:
        self._card_seen(None)
        if self.tracked is not None:
            name, self.tracked = self.tracked, None
            self.state = scard.SCARD_STATE_UNAWARE
            self.report(ReaderMatched(None))
            self._send(ReaderEventKind.READER_REMOVED, name)
        elif not self.first_look:
            self.report(ReaderMatched(None))

    def _list(self) -> list[str] | None:
        assert self.context is not None
        rv, names = scard.SCardListReaders(self.context, [])
        rv = u32(rv)
        if rv == NO_READERS:
            self.retry = _RETRY_FIRST
            return []
        if rv in SERVICE_GONE:
            self._service_lost("SCardListReaders", rv)
            return None
        if rv != SUCCESS:
            _log.warning("%s: SCardListReaders: %s", self.name, error_name(rv))
            self.stop.wait(_RETRY_MAX)
            return None
        self.retry = _RETRY_FIRST
        return list(names)

    def _follow(self, names: list[str]) -> None:
        """Compare the reader list with the reader being followed; announce a change."""
        name = next((n for n in names if self.matches(n)), None)
        if self.tracked is not None and self.tracked != name:
            self._lose_reader()
        if name is not None and self.tracked is None:
            self.tracked = name
            self.state = scard.SCARD_STATE_UNAWARE
            self.report(ReaderMatched(name))
            # The card already in it is the baseline, not an insertion: listeners ask card_present.
            self._baseline()
            if not self.first_look:
                self._send(ReaderEventKind.READER_ADDED, name)
        elif name is None:
            self.report(ReaderMatched(None))

    def _baseline(self) -> None:
        assert self.context is not None and self.tracked is not None
        rv, states = scard.SCardGetStatusChange(self.context, 0, [(self.tracked, scard.SCARD_STATE_UNAWARE)])
        if u32(rv) in (SUCCESS, TIMEOUT) and states:
            self.state = states[0][1] & ~scard.SCARD_STATE_CHANGED
            present = self.state & scard.SCARD_STATE_PRESENT and not self.state & scard.SCARD_STATE_MUTE
            self._card_seen(bytes(states[0][2]) if present and states[0][2] else None)

    def _wait_for_change(self) -> None:
        assert self.context is not None
        watched = [(PNP_NOTIFICATION, self.pnp_state)]
        if self.tracked is not None:
            watched.append((self.tracked, self.state))
        if self.stop.is_set():
            return
        started = time.monotonic()
        rv, states = scard.SCardGetStatusChange(self.context, _WATCH_TIMEOUT_MS, watched)
        rv = u32(rv)
        if self.stop.is_set() or rv in (TIMEOUT, CANCELLED):
            return
        if rv in SERVICE_GONE:
            self._service_lost("SCardGetStatusChange", rv)
            return
        events = 0
        if rv == SUCCESS:
            for name, event, atr in states:
                if name == PNP_NOTIFICATION:
                    self.pnp_state = event & ~scard.SCARD_STATE_CHANGED
                elif name == self.tracked:
                    events += self._card_change(event, bytes(atr))
        elif rv not in READER_GONE:  # a reader gone between the list and the wait: the next list tells
            _log.warning("%s: SCardGetStatusChange: %s", self.name, error_name(rv))
            # pcsc-lite 1.9.9 may answer a dying pcscd with SCARD_W_SECURITY_VIOLATION: ask the
            # service at once rather than waiting to find out.
            probe = u32(scard.SCardListReaders(self.context, [])[0])
            if probe in SERVICE_GONE:
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
            self._card_seen(None)
            return 0  # the reader is leaving: the next reader list says so
        was_present = bool(old & scard.SCARD_STATE_PRESENT)
        present = bool(new & scard.SCARD_STATE_PRESENT)
        # pcsc-lite counts insertions and removals in the upper 16 bits: a quick swap shows there.
        swapped = was_present and present and ((new >> 16) - (old >> 16)) & 0xFFFF >= 2
        sent = 0
        mute = bool(new & scard.SCARD_STATE_MUTE)
        seen = atr if present and not mute and atr else None
        if seen != self.seen or swapped or not was_present:
            self._card_seen(seen)  # before the insertion is announced: the handle is open by then
        if was_present and (not present or swapped):
            self._send(ReaderEventKind.CARD_REMOVED, self.tracked)
            sent += 1
        if present and (not was_present or swapped):
            self._send(ReaderEventKind.CARD_INSERTED, self.tracked, b"" if new & scard.SCARD_STATE_MUTE else atr)
            sent += 1
        return sent
