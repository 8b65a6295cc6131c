"""Fixtures for Pilot-driven tests: a kiosk on a throwaway database, its app, and a Journey."""
from __future__ import annotations

import contextlib

import pytest

from tests.conftest import kiosk_root
from tests.functional.harness import Journey


@pytest.fixture
def start_kiosk(settings_for, with_demo_registry):
    """`async with start_kiosk(**settings) as journey:` runs the app headless at 120x40."""

    @contextlib.asynccontextmanager
    async def start(size=(120, 40), clock=None, **overrides):
        overrides.setdefault("activation_poll_seconds", 0.2)
        overrides.setdefault("idle_timeout_seconds", 900)
        settings = with_demo_registry(settings_for(**overrides))
        kiosk = kiosk_root.build_kiosk(settings, clock=clock)
        app = kiosk_root.build_app(kiosk)
        async with app.run_test(size=size) as pilot:
            try:
                yield Journey(pilot, kiosk)
            finally:
                if kiosk.bench is not None and kiosk.bench.pin_pad is not None:
                    kiosk.bench.pin_pad.close()  # a verification still waiting on the pad ends with the test

    return start
