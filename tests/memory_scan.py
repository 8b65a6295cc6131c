"""Provides a memory scan for tests: every string reachable from the session, as a heap search would find it."""
from __future__ import annotations

from typing import Iterator

from devices.apdu import ApduResponder

_COLLABORATORS = ("_registry", "_region", "_clock", "_listeners", "_policy", "_lock")


def strings_in(value, seen: set[int] | None = None) -> Iterator[str]:
    """Every string reachable from `value` through containers, dataclasses and kiosk/devices objects.

    The physical card itself (an `ApduResponder` in the reader slot) is not memory of the kiosk
    and is not entered.
    """
    seen = set() if seen is None else seen
    if id(value) in seen:
        return
    seen.add(id(value))
    if isinstance(value, str):
        yield value
    elif isinstance(value, (bytes, bytearray)):
        yield bytes(value).decode("latin-1")
    elif isinstance(value, ApduResponder):
        return
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from strings_in(key, seen)
            yield from strings_in(item, seen)
    elif isinstance(value, (list, tuple, set, frozenset)):
        for item in value:
            yield from strings_in(item, seen)
    elif hasattr(value, "__dataclass_fields__"):
        for name in value.__dataclass_fields__:
            yield from strings_in(getattr(value, name), seen)
    elif hasattr(value, "__dict__") and type(value).__module__.startswith(("kiosk", "devices")):
        yield from strings_in(vars(value), seen)


def session_memory(session) -> dict[str, object]:
    """The session's own state, its card service included, without the registry and other collaborators."""
    return {k: v for k, v in vars(session).items() if k not in _COLLABORATORS}
