"""Provides the one-line answer for a command that needs an optional part which is not installed (pyscard, ...)."""
from __future__ import annotations

import contextlib
from dataclasses import dataclass
from typing import Iterator

PACKAGE = "child-ecard-kiosk"


@dataclass(frozen=True)
class OptionalPart:
    """An optional dependency: the package to install and the extra of this project that brings it."""

    package: str
    extra: str


OPTIONAL_PARTS: dict[str, OptionalPart] = {
    "smartcard": OptionalPart("pyscard", "pcsc"),
}
"""Top-level module name -> the optional part it belongs to. A part added later (the registry service's) goes here."""


class OptionalPartMissing(Exception):
    """A command needs an optional part that is not installed; the message is one line saying what to install."""

    def __init__(self, feature: str, part: OptionalPart) -> None:
        super().__init__(f"{feature} needs {part.package}, which is not installed: "
                         f"pip install '{PACKAGE}[{part.extra}]' (or bash .ci/setup)")
        self.feature = feature
        self.part = part


@contextlib.contextmanager
def optional_part(feature: str) -> Iterator[None]:
    """Turn the ModuleNotFoundError of an optional part, raised inside the block, into OptionalPartMissing.

    Args:
        feature: what needs it, as the operator typed it ("card read", "readers").
    Raises:
        OptionalPartMissing: naming the package and the extra to install. Any other
            ModuleNotFoundError (a broken install, not an optional part) is raised as it is.
    """
    try:
        yield
    except ModuleNotFoundError as exc:
        part = OPTIONAL_PARTS.get((exc.name or "").split(".")[0])
        if part is None:
            raise
        raise OptionalPartMissing(feature, part) from None
