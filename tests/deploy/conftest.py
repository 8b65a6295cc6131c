"""The deploy tests' fixtures: the installed appliance, built once per session (one xdist group holds its users)."""
from __future__ import annotations

import pytest

from tests.deploy.appliance import Appliance, build_appliance

HEAVY = "deploy"
"""The xdist group of the tests that need the installed appliance: one worker builds the wheel once."""


@pytest.fixture(scope="session")
def appliance(tmp_path_factory) -> Appliance:
    return build_appliance(tmp_path_factory.mktemp("deploy"))
