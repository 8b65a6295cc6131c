"""Shared fixtures: the composition root (as `kiosk_root`), settings for a throwaway kiosk."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

import ecard_kiosk as kiosk_root  # the tests' `from tests.conftest import kiosk_root`

ROOT = Path(__file__).resolve().parent.parent


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """`-n auto`: two workers a CPU (4 on the 2-core CI machine). The suite keeps a CPU busy about a third of its
    time (/usr/bin/time: 68 % of one CPU with 2 workers on 2 cores): workers wait on subprocesses (pip, uvicorn,
    chromium, pcscd, PostgreSQL, kiosk.py), real-time timers and Textual's idle checks, and the others fill
    that. PYTEST_XDIST_AUTO_NUM_WORKERS still decides when set (=2 gives the old count)."""
    if os.environ.get("PYTEST_XDIST_AUTO_NUM_WORKERS"):
        return None  # xdist's own hook reads it
    return 2 * (os.cpu_count() or 1)


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups off the items
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # Under pytest-xdist (.ci/run runs `-n auto --dist loadgroup`) every PC/SC test goes to one worker:
    # a machine has one pcscd and one pair of vpcd ports.
    for item in items:
        if "tests/pcsc/" in item.nodeid or item.get_closest_marker("pcsc"):
            item.add_marker(pytest.mark.xdist_group("pcsc"))


@pytest.fixture
def settings_for(tmp_path):
    """Build Settings for a kiosk whose data lives in tmp_path; keyword arguments override keys."""
    from kiosk.settings import load_settings

    def build(**overrides):
        # Silent: a test run on a machine with speakers must not talk (test_voice_prompts.py turns it on).
        values = {"data_dir": str(tmp_path / "data"), "tester_panel": True, "voice_prompts": "off"}
        values.update(overrides)
        return load_settings(environ={}, overrides=values).settings

    return build


@pytest.fixture(scope="session")
def demo_registry_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A kiosk's SQLite registry as its first start leaves it (schema at head, demo data in), made once per session
    (and xdist worker) by the kiosk's own start-up code: `with_demo_registry` copies it into a kiosk's data_dir."""
    from datetime import datetime, timezone

    from ecard_kiosk.services import open_registry
    from kiosk.ports import ManualClock
    from kiosk.settings import load_settings

    data_dir = tmp_path_factory.mktemp("demo-registry")
    settings = load_settings(environ={}, overrides={"data_dir": str(data_dir)}).settings
    open_registry(settings, ManualClock(datetime(2026, 6, 1, tzinfo=timezone.utc))).close()
    assert not any(data_dir.glob("registry.sqlite3-*")), "the registry left its WAL behind: copy it too"
    return data_dir / "registry.sqlite3"


@pytest.fixture
def with_demo_registry(demo_registry_file):
    """`with_demo_registry(settings)` -> settings: the kiosk finds the registry its first start would make (a copy of
    `demo_registry_file`) instead of migrating an empty SQLite file and loading the demo data again (~0.4 s a kiosk:
    tens of DDL statements, each synced to disk). Only for settings that want exactly that: the embedded registry,
    its SQLite file under data_dir, demo data on, nothing there yet. The first start itself is tested where it is
    the subject (tests/functional/test_start_up.py, the command-line, deploy and wheel tests, tests/unit/core)."""

    def prepare(settings):
        target = settings.data_dir / "registry.sqlite3"
        if settings.registry == "local" and not settings.database_url and settings.demo_data and not target.exists():
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(demo_registry_file, target)
        return settings

    return prepare
