"""The kiosk as a wheel: every package and data file in it, and a journey run by the installed `ecard-kiosk` elsewhere."""
from __future__ import annotations

import json
import os
import subprocess
import sys
import tomllib
import warnings
import zipfile
from pathlib import Path

import pytest

from tests.wheel_build import kiosk_wheel

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
APPLIANCE_PYTHON = Path("/usr/bin/python3")
"""Debian's Python: what the kiosk appliance runs the kiosk with."""


def _tracked_files() -> list[str]:
    """The files a commit of the working tree would hold (tracked, or new and not ignored)."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True)
    return [name for name in listing.stdout.decode().split("\0") if name and (ROOT / name).is_file()]


def _package_folders() -> set[str]:
    """Every folder of Python code under the top-level packages, as a dotted package name."""
    folders = set()
    for name in _tracked_files():
        path = Path(name)
        if path.suffix == ".py" and path.parts[0] in {"ecard_kiosk", "kiosk", "devices", "screens", "registry_service"}:
            if path.parts[:3] == ("kiosk", "registry", "migrations"):
                continue  # Alembic's scripts: package data of kiosk (importing env.py would run a migration)
            folders.add(".".join(path.parent.parts))
    return folders


def test_every_package_folder_is_listed_for_the_wheel():
    listed = set(PYPROJECT["tool"]["setuptools"]["packages"])
    assert _package_folders() - listed == set(), "add these to [tool.setuptools] packages in pyproject.toml"
    assert PYPROJECT["tool"]["setuptools"]["package-dir"] == {"kiosk.config": "config"}
    assert PYPROJECT["project"]["scripts"]["ecard-kiosk"] == "ecard_kiosk.cli:main"
    assert PYPROJECT["project"]["scripts"]["ecard-registry"] == "registry_service.cli:main"


def _appliance_python() -> Path:
    if APPLIANCE_PYTHON.exists():
        return APPLIANCE_PYTHON
    warnings.warn(f"{APPLIANCE_PYTHON} is missing: the wheel is tried on {sys.executable} instead", stacklevel=2)
    return Path(sys.executable)


def _pip(*args: str, cwd: Path) -> None:
    # The development venv's pip (the fresh venv has none: --without-pip), with pip's cache.
    result = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", *args],
                            cwd=cwd, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]


@pytest.mark.wheel
def test_the_wheel_installed_elsewhere_runs_a_scripted_journey(tmp_path):
    # The working tree's wheel, built for its contents once (the deploy tests' appliance installs the same file).
    wheel = kiosk_wheel()
    contents = set(zipfile.ZipFile(wheel).namelist())
    for data in ("kiosk/config/kiosk.toml", "kiosk/config/regions/default.toml", "kiosk/config/cards/zhang-wei-3.00.toml",
                 "kiosk/config/demo/registry.toml", "kiosk/config/gbt2260-area-codes.txt",
                 "kiosk/locale/zh_CN/LC_MESSAGES/kiosk.mo", "screens/kiosk.tcss",
                 "registry_service/registry.toml", "registry_service/openapi.json",
                 "kiosk/registry/migrations/versions/0007_kiosk_credentials_rotate.py"):
        assert data in contents
    assert not any(name.startswith(("tests/", "bench/", "config/", "examples/")) for name in contents)

    venv = tmp_path / "appliance-venv"
    subprocess.run([str(_appliance_python()), "-m", "venv", "--without-pip", str(venv)], check=True, timeout=120)
    python = venv / "bin" / "python"
    # Bytecode is left to the first start (--no-compile): compiling every dependency takes longer than the journey.
    _pip("--python", str(python), "install", "--quiet", "--no-compile", str(wheel), cwd=tmp_path)

    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KIOSK_", "PYTHON", "VIRTUAL_ENV"))}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    where = subprocess.run(
        [str(python), "-c", "import json, ecard_kiosk, kiosk.embedded as e; "
                            "print(json.dumps([ecard_kiosk.__file__, str(e.CONFIG_DIR), str(e.LOCALE_DIR)]))"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=60, check=True)
    for path in json.loads(where.stdout):
        assert Path(path).is_relative_to(venv), f"{path} is not the installed copy"

    journey = subprocess.run(
        [str(python), str(ROOT / "examples" / "automation_journey.py"), "--kiosk", "ecard-kiosk"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=180)
    assert journey.returncode == 0, journey.stdout[-2000:] + journey.stderr[-3000:]
    assert "journey complete" in journey.stdout and "the guardian's phone activated the e-card" in journey.stdout
    assert sorted(path.name for path in elsewhere.iterdir()) == []  # the data went where KIOSK_DATA_DIR said
