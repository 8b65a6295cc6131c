"""The wheel as the appliance has it: installed by the kiosk user with Debian's python3, run from elsewhere."""
from __future__ import annotations

import json
import shutil
import subprocess

import pytest

from tests.deploy.appliance import APPLIANCE_PYTHON, ROOT, Appliance, clean_environment
from tests.deploy.conftest import HEAVY


@pytest.mark.xdist_group(HEAVY)
def test_the_kiosk_user_s_venv_runs_a_scripted_journey_from_another_directory(appliance: Appliance, user_tmp_path):
    user = appliance.user
    elsewhere = user.own(user_tmp_path / "elsewhere")
    script = elsewhere / "automation_journey.py"  # the tester's script, copied out of the checkout
    shutil.copy(ROOT / "examples" / "automation_journey.py", script)
    env = clean_environment(HOME=str(elsewhere), TMPDIR=str(elsewhere), PATH=f"{appliance.venv / 'bin'}:/usr/bin:/bin")
    python = appliance.venv / "bin" / "python"

    where = subprocess.run(user.command(python, "-c", "import json, sys, ecard_kiosk, kiosk.embedded as e; print(json.dumps("
                                        "[sys.base_prefix, ecard_kiosk.__file__, str(e.CONFIG_DIR)]))"),
                           cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60, check=True)
    base_prefix, *installed = json.loads(where.stdout)
    assert base_prefix == "/usr", f"the venv's Python is not Debian's {APPLIANCE_PYTHON}: {base_prefix}"
    assert all(path.startswith(str(appliance.venv)) for path in installed), installed

    journey = subprocess.run(user.command(APPLIANCE_PYTHON, script, "--kiosk", "ecard-kiosk"),
                             cwd=elsewhere, env=env, capture_output=True, text=True, timeout=180)
    assert journey.returncode == 0, journey.stdout[-2000:] + journey.stderr[-3000:]
    assert "journey complete" in journey.stdout and "the guardian's phone activated the e-card" in journey.stdout
    # Nothing written beside the script: the data went to the journey's own KIOSK_DATA_DIR.
    assert sorted(path.name for path in elsewhere.iterdir()) == ["automation_journey.py"]
    print(f"appliance built in {', '.join(f'{name} {seconds:.1f} s' for name, seconds in appliance.timings.items())}")
