"""Shared fixtures: the composition root (as `kiosk_root`), settings for a throwaway kiosk."""
from __future__ import annotations

from pathlib import Path

import pytest

import ecard_kiosk as kiosk_root  # the tests' `from tests.conftest import kiosk_root`

ROOT = Path(__file__).resolve().parent.parent


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
