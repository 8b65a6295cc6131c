"""Provides the reader watcher: a thread on SCardGetStatusChange that announces readers and cards and outlives pcscd restarts."""
from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

from smartcard import scard

from devices.pcsc.status import _CANCELLED, _NO_READERS, _READER_GONE, _SERVICE_GONE, _SUCCESS, _TIMEOUT, _establish, _release, _u32, error_name
from devices.reader import ReaderEventKind

if TYPE_CHECKING:
    from devices.pcsc.reader import PcscReader

_log = logging.getLogger(__name__)

PNP_NOTIFICATION = "\\\\?PnP?\\Notification"
_WATCH_TIMEOUT_MS = 2000  # the watcher looks at the reader list at least this often
_RETRY_FIRST = 0.1  # seconds before asking a missing pcscd again; doubles up to _RETRY_MAX
_RETRY_MAX = 1.0
_READY_TIMEOUT = 3.0  # start_monitoring waits this long at most for the watcher's first look


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
        self.reader._card_seen(None)
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
            self.reader._card_seen(bytes(states[0][2]) if present and states[0][2] else None)

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
            self.reader._card_seen(None)
            return 0  # the reader is leaving: the next reader list says so
        was_present = bool(old & scard.SCARD_STATE_PRESENT)
        present = bool(new & scard.SCARD_STATE_PRESENT)
        # pcsc-lite counts insertions and removals in the upper 16 bits: a quick swap shows there.
        swapped = was_present and present and ((new >> 16) - (old >> 16)) & 0xFFFF >= 2
        sent = 0
        mute = bool(new & scard.SCARD_STATE_MUTE)
        seen = atr if present and not mute and atr else None
        if seen != self.reader._seen_atr or swapped or not was_present:
            self.reader._card_seen(seen)  # before the insertion is announced: the handle is open by then
        if was_present and (not present or swapped):
            self.reader._send(ReaderEventKind.CARD_REMOVED, self.tracked)
            sent += 1
        if present and (not was_present or swapped):
            self.reader._send(ReaderEventKind.CARD_INSERTED, self.tracked, b"" if new & scard.SCARD_STATE_MUTE else atr)
            sent += 1
        return sent
