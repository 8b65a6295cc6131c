"""Tests the kiosk routes with seeded malformed requests: never a 5xx, every error a problem document (KIOSK_FUZZ_FULL=1: 5,000)."""
from __future__ import annotations

import os

import pytest

from tests.service.http_fuzzer import run
from tests.unit.core.test_registry_port import ZHANG_CARD, ZHANG_XIAOYU

FULL = os.environ.get("KIOSK_FUZZ_FULL") == "1"
CASES = 5_000 if FULL else 200
SEED = int(os.environ.get("KIOSK_FUZZ_SEED", "9"))


def test_malformed_requests_never_get_a_5xx(running_service) -> None:
    local = running_service.service.for_kiosk("FUZZ-1")
    first = local.register(ZHANG_CARD, ZHANG_XIAOYU, "fuzz-setup-0001")
    with running_service.client(running_service.kiosk("FUZZ-1")) as client:
        figures = run(client, CASES, SEED, first.ecard_id, first.ticket.ticket_id)
    print(f"\n[{running_service.backend}] {figures.summary()}")
    assert figures.broken == [], figures.broken[:5]
    assert figures.cases == CASES and figures.statuses[422] > CASES // 4 and figures.statuses[200] > 0
