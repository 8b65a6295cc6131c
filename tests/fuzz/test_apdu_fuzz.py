"""Provides the APDU fuzz run: mutated virtual cards read and PIN-checked by the kiosk's card service; a fixed set in
the normal suite, at least 10,000 cases with KIOSK_FUZZ_FULL=1 (KIOSK_FUZZ_SEED picks another seed)."""
from __future__ import annotations

import os

from devices.apdu import READ_APDU_LIMIT
from tests.fuzz.apdu_fuzzer import ApduFuzzer

FULL = os.environ.get("KIOSK_FUZZ_FULL") == "1"
CASES = 10_000 if FULL else 1_000
SEED = int(os.environ.get("KIOSK_FUZZ_SEED", "9"))


def test_no_mutated_card_crashes_hangs_overruns_costs_a_pin_try_or_is_misread() -> None:
    figures = ApduFuzzer(SEED).run(CASES)
    print("\n" + figures.summary())  # the figures of the run: pytest -s shows them
    assert figures.cases == CASES
    assert figures.uncaught == [], figures.uncaught[:5]
    assert figures.hangs == [], figures.hangs[:5]
    assert figures.over_budget == [], figures.over_budget[:5]
    assert figures.tries_lost == [], figures.tries_lost[:5]
    assert figures.misreads == [], figures.misreads[:5]
    assert figures.max_read_apdus <= READ_APDU_LIMIT
    # The run reaches both ends: cards that read, and cards refused by name.
    assert figures.reads["read"] > CASES // 10
    assert {"CARD_DATA_INVALID", "CARD_COMMUNICATION", "CARD_APDU_LIMIT"} <= set(figures.reads)
