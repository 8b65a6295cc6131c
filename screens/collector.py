"""Provides collect_between_visits: the garbage collector's full passes when a visit has ended, not during one.

Left to itself, Python's collector makes a full pass whenever enough objects have outlived two younger ones: with
the app's few hundred thousand long-lived objects (modules, styles, render caches) one pass takes 100-500 ms, and it
came in the middle of a key press or a step change at random (the p99 of bench/keys.py). A full pass when the
welcome screen is back (nobody waits on the screen), then those survivors frozen (`gc.freeze`), leaves the passes
during a visit only the objects made since: short ones. The next pass between visits thaws them first, so what a
visit left in reference cycles (its screens, and the personal data they showed) is freed then, every time.
"""
from __future__ import annotations

import gc


def collect_between_visits() -> None:
    """One full collection of everything, then the survivors out of the collector's way until the next visit ends."""
    gc.unfreeze()
    gc.collect()
    gc.freeze()
