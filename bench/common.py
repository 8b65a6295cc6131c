"""Shared pieces of the benchmarks: the composition root, throwaway settings, the demo journeys, statistics."""
from __future__ import annotations

import json
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
    """The composition root (the ecard_kiosk package): build_kiosk, build_app, start_reader, ..."""
    import ecard_kiosk

    return ecard_kiosk


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


def report(table: str, results: dict, as_json: bool) -> None:
    """Print a benchmark's figures: the table, or (--json) the results as JSON with the table on stderr."""
    if as_json:
        print(table, file=sys.stderr)
        print(json.dumps(results, indent=1, default=str))
    else:
        print(table)
