"""The deploy tests' fixtures: the installed appliance, built once per session (one xdist group holds its users)."""
from __future__ import annotations

import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.deploy.appliance import Appliance, build_appliance

HEAVY = "deploy"
"""The xdist group of the tests that need the installed appliance: one worker builds the wheel once."""


@pytest.fixture(scope="session")
def appliance() -> Appliance:
    # Directly under /tmp, not in pytest's tmp folders: those are root's alone (0700), and the
    # kiosk user must reach its venv and the wheel.
    base = Path(tempfile.mkdtemp(prefix="ecard-kiosk-deploy-"))
    base.chmod(0o755)
    try:
        yield build_appliance(base)
    finally:
        # Thousands of files in the venv: removed in the background, not on the session's clock.
        subprocess.Popen(["rm", "-rf", "--one-file-system", str(base)], start_new_session=True,
                         stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


@pytest.fixture
def user_tmp_path() -> Path:
    """A folder the kiosk user can reach (tmp_path is under root's 0700 pytest folder)."""
    folder = Path(tempfile.mkdtemp(prefix="ecard-kiosk-screen-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)
