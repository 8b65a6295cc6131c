"""Provides the automation fuzz run: 2,000 malformed lines through `kiosk.py automate` (20,000 with KIOSK_FUZZ_FULL=1);
every answer strict JSON and masked, never INTERNAL, the process alive and answering at the end, exit status 0."""
from __future__ import annotations

import os
from pathlib import Path

from tests.fuzz.automation_fuzzer import run

FULL = os.environ.get("KIOSK_FUZZ_FULL") == "1"
LINES = 20_000 if FULL else 2_000
SEED = int(os.environ.get("KIOSK_FUZZ_SEED", "9"))


def test_malformed_lines_get_a_catalogued_error_each_and_the_interface_outlives_them(tmp_path: Path) -> None:
    figures = run(LINES, SEED, tmp_path / "data")
    print("\n" + figures.summary())
    assert figures.broken == [], figures.broken[:5]
    assert figures.lines == LINES and sum(figures.answers.values()) == LINES + 1
    assert figures.alive_at_the_end and figures.exit_status == 0
    assert {"INVALID_JSON", "BAD_PARAMETER", "UNKNOWN_COMMAND"} <= set(figures.answers)
