"""Provides the hidden ways into maintenance: a key sequence typed quickly, and taps in a screen corner."""
from __future__ import annotations

import re
from datetime import datetime

_KEY_NAME = re.compile(r"^[a-z0-9_+-]+$")
SEQUENCE_SECONDS = 6.0
"""The whole key sequence must be typed within this time."""
CORNER_TAPS = 5
CORNER_SECONDS = 3.0


def parse_key_sequence(text: str) -> tuple[str, ...]:
    """Split a key sequence setting ("f12 f12 m a i n t") into key names.

    Raises:
        ValueError: fewer than 4 keys, or a name that is not a key name.
    """
    keys = tuple(part.lower() for part in text.split())
    if len(keys) < 4:
        raise ValueError("a key sequence has at least 4 keys, separated by spaces (e.g. \"f12 f12 m a i n t\")")
    bad = [key for key in keys if not _KEY_NAME.match(key)]
    if bad:
        raise ValueError(f"{bad[0]!r} is not a key name (Textual names: f12, ctrl+f12, m, 5, ...)")
    return keys


class KeySequence:
    """Recognises one key sequence typed within `window_seconds` (the last keys pressed are what counts)."""

    def __init__(self, keys: tuple[str, ...], window_seconds: float = SEQUENCE_SECONDS) -> None:
        self.keys = keys
        self.window_seconds = window_seconds
        self._recent: list[tuple[str, datetime]] = []

    def feed(self, key: str, now: datetime) -> bool:
        """One key pressed at `now`. Returns True when it completes the sequence (which then starts over)."""
        self._recent = [*self._recent, (key.lower(), now)][-len(self.keys):]
        if tuple(k for k, _ in self._recent) != self.keys:
            return False
        if (now - self._recent[0][1]).total_seconds() > self.window_seconds:
            return False
        self._recent = []
        return True


class CornerTaps:
    """Recognises `taps` taps in the corner within `window_seconds`."""

    def __init__(self, taps: int = CORNER_TAPS, window_seconds: float = CORNER_SECONDS) -> None:
        self.taps = taps
        self.window_seconds = window_seconds
        self._times: list[datetime] = []

    def feed(self, now: datetime) -> bool:
        """One tap in the corner at `now`. Returns True on the `taps`-th within the window (then starts over)."""
        self._times = [t for t in self._times if (now - t).total_seconds() <= self.window_seconds]
        self._times.append(now)
        if len(self._times) >= self.taps:
            self._times = []
            return True
        return False

    def miss(self) -> None:
        """A tap elsewhere: the count starts over."""
        self._times = []
