"""Provides the kiosk's core: domain types, rules, registry and the kiosk session (no UI, no hardware)."""
from __future__ import annotations

from pathlib import Path


def __getattr__(name: str) -> Path:
    # `from kiosk import CONFIG_DIR` (the tests' habit) without every core import paying for the lookup.
    if name == "CONFIG_DIR":
        from kiosk.embedded import CONFIG_DIR

        return CONFIG_DIR
    raise AttributeError(f"module 'kiosk' has no attribute {name!r}")
