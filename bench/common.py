"""Shared pieces of the benchmarks: the composition root, throwaway settings, the demo journeys, statistics."""
from __future__ import annotations

import importlib.util
import math
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

ROOT = Path(__file__).resolve().parent.parent
PIN = "123456"


@dataclass(frozen=True)
class DemoCard:
    """A demo card profile and the child its holder may register."""

    profile: str
    label: str
    child_id: str


CARDS = (
    DemoCard("zhang-wei-3.00", "3.00, PSAM ext. auth", "430102201906010029"),
    DemoCard("li-na-2.00", "2.00", "43010220210214005X"),
)


class BenchError(Exception):
    """A journey did not go where it should; the benchmark's figures would be meaningless."""


def load_root() -> ModuleType:
    """kiosk.py, loaded from its path: its name clashes with the kiosk/ package (as in tests/conftest.py)."""
    name = "kiosk_root_bench"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "kiosk.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses in kiosk.py look their module up while it executes
    spec.loader.exec_module(module)
    return module


def settings_in(data_dir: Path, **overrides: object):
    """Settings on the embedded defaults, ignoring KIOSK_* variables, with data in `data_dir`."""
    from kiosk.settings import load_settings

    values = {"data_dir": str(data_dir)}
    values.update(overrides)
    return load_settings(environ={}, overrides=values).settings


def summary(samples_s: list[float]) -> dict:
    """Median, p95 (nearest rank), min, max and mean of samples in seconds, as milliseconds."""
    if not samples_s:
        return {"n": 0}
    ordered = sorted(samples_s)
    rank = max(1, math.ceil(0.95 * len(ordered)))
    return {
        "n": len(ordered),
        "median_ms": round(statistics.median(ordered) * 1000, 3),
        "p95_ms": round(ordered[rank - 1] * 1000, 3),
        "min_ms": round(ordered[0] * 1000, 3),
        "max_ms": round(ordered[-1] * 1000, 3),
        "mean_ms": round(statistics.fmean(ordered) * 1000, 3),
    }


def progress(text: str) -> None:
    print(text, file=sys.stderr, flush=True)
