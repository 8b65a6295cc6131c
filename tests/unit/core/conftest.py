"""Provides the core tests' fixtures: a manual clock, throwaway registries (SQLite, or PostgreSQL too), demo data."""
from __future__ import annotations

import os
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Iterator

import pytest
from sqlmodel import SQLModel

from kiosk import CONFIG_DIR
from kiosk.ports import ManualClock
from kiosk.registry import Registry, load_demo
from kiosk.registry.models import TABLES

NOW = datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)
TODAY = date(2026, 6, 1)
DEMO_FILE = CONFIG_DIR / "demo" / "registry.toml"
REGIONS = CONFIG_DIR / "regions"
KIOSK_ID = "TEST-KIOSK"
POSTGRES_URL = os.environ.get("KIOSK_TEST_POSTGRES_URL", "")
"""Set to a throwaway PostgreSQL database to run every registry test on it too; its tables are dropped."""

BACKENDS = ["sqlite"] + (["postgresql"] if POSTGRES_URL else [])


@pytest.fixture
def clock() -> ManualClock:
    return ManualClock(NOW)


def sqlite_url(directory: Path) -> str:
    return f"sqlite:///{directory / 'data' / 'registry.sqlite3'}"


@pytest.fixture(params=BACKENDS)
def registry(request: pytest.FixtureRequest, tmp_path: Path, clock: ManualClock) -> Iterator[Registry]:
    url = sqlite_url(tmp_path) if request.param == "sqlite" else POSTGRES_URL
    opened = Registry.open(url, clock, kiosk_id=KIOSK_ID)
    if request.param == "postgresql":
        SQLModel.metadata.drop_all(opened.database.engine, tables=TABLES)
    opened.create_all()
    yield opened
    opened.close()


@pytest.fixture
def demo_registry(registry: Registry) -> Registry:
    assert load_demo(registry, DEMO_FILE)
    return registry
