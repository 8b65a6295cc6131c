"""Provides the deploy tests' appliance: an unprivileged kiosk user, the wheel in a venv of Debian's python3, cage headless."""
from __future__ import annotations

import hashlib
import os
import pwd
import shutil
import subprocess
import sys
import time
import tomllib
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.wheel_build import kiosk_wheel

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
APPLIANCE_PYTHON = Path("/usr/bin/python3")
"""Debian's own python3: the appliance's (root's python here is pyenv, which no other user can run)."""
DEBIAN_WHEELS = Path("/usr/share/python-wheels")
"""python3-venv's pip (and setuptools) wheels."""
WHEELHOUSES = Path("/var/tmp/ecard-kiosk-wheelhouse")
"""Third-party wheels for the appliance's offline install, one folder per dependency list."""
TEST_USER = "ecard-kiosk-test"
"""The unprivileged user the tests run the kiosk as (made by .ci/setup; cage refuses root)."""
HEADLESS = {"WLR_BACKENDS": "headless", "WLR_LIBINPUT_NO_DEVICES": "1", "WLR_RENDERER": "pixman"}
"""cage without a screen or input devices, drawing in software."""
SCREEN_PACKAGES = {"cage": "cage", "foot": "foot", "grim": "grim", "Xwayland": "xwayland", "tmux": "tmux",
                   "zbarimg": "zbar-tools", "fc-query": "fontconfig", "fc-match": "fontconfig"}


def need_commands(*names: str) -> None:
    """Skip (naming the Debian packages .ci/setup installs) when a command is missing."""
    missing = [name for name in names if shutil.which(name) is None]
    if missing:
        packages = sorted({SCREEN_PACKAGES.get(name, name) for name in missing})
        pytest.skip(f"{', '.join(missing)} missing: apt-get install {' '.join(packages)} (.ci/setup does)")


@dataclass(frozen=True)
class KioskUser:
    """The unprivileged user, and how to run a command as it."""

    name: str
    uid: int
    gid: int

    @classmethod
    def find(cls) -> "KioskUser":
        if os.geteuid() != 0:
            pytest.skip("the deploy tests switch to an unprivileged user: run them as root (CI does)")
        try:
            entry = pwd.getpwnam(TEST_USER)
        except KeyError:
            pytest.skip(f"no user {TEST_USER}: .ci/setup makes it (useradd --system {TEST_USER})")
        return cls(TEST_USER, entry.pw_uid, entry.pw_gid)

    def command(self, *argv: str | Path) -> list[str]:
        """argv run as this user (setpriv: no PAM session, nothing left behind)."""
        return ["setpriv", f"--reuid={self.uid}", f"--regid={self.gid}", "--init-groups", "--", *map(str, argv)]

    def own(self, path: Path) -> Path:
        """`path` made (a folder) and handed to this user (the folders above it must be open to it)."""
        path.mkdir(parents=True, exist_ok=True)
        os.chown(path, self.uid, self.gid)
        return path


def clean_environment(**extra: str) -> dict[str, str]:
    """An environment with nothing of the development venv, pyenv or the kiosk's settings in it."""
    keep = ("LANG", "LC_ALL", "TZ")
    env = {key: os.environ[key] for key in keep if key in os.environ}
    env.setdefault("LANG", "C.UTF-8")
    env["PATH"] = "/usr/local/bin:/usr/bin:/bin:/usr/sbin:/sbin"
    env.update(extra)
    return env


@dataclass(frozen=True)
class Appliance:
    """The wheel installed as the kiosk user, with Debian's python3, into a venv outside the checkout."""

    user: KioskUser
    venv: Path
    wheel: Path
    home: Path
    """A folder of the user's, outside the checkout (the kiosk's data and its runs go here)."""
    timings: dict[str, float]

    @property
    def kiosk(self) -> Path:
        return self.venv / "bin" / "ecard-kiosk"


def wheelhouse() -> Path:
    """The kiosk's dependencies as wheels, for an offline install; kept in /var/tmp per dependency list.

    Made from pip's cache (root's) the first time; only third-party wheels: the kiosk's own wheel is
    built fresh every session.
    """
    dependencies = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]["dependencies"]
    digest = hashlib.sha256("\n".join(dependencies).encode()).hexdigest()[:16]
    house = WHEELHOUSES / digest
    if not (house / ".complete").exists():
        shutil.rmtree(house, ignore_errors=True)
        house.mkdir(parents=True)
        _run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "wheel", "--quiet",
              "--wheel-dir", str(house), *dependencies], cwd=house)
        (house / ".complete").touch()
    for path in (WHEELHOUSES, house, *house.iterdir()):
        path.chmod(0o755 if path.is_dir() else 0o644)
    return house


def _run(argv: list[str], **options) -> subprocess.CompletedProcess:
    result = subprocess.run(argv, capture_output=True, text=True, timeout=600, **options)
    assert result.returncode == 0, f"{argv[:6]}...: {result.stdout[-1500:]}{result.stderr[-3000:]}"
    return result


def build_appliance(base: Path) -> Appliance:
    """The working tree's wheel (tests/wheel_build.py) installed as the kiosk user into a venv of Debian's python3.

    The dependencies come from the wheelhouse, so the user's install is offline (--no-index).
    """
    if not APPLIANCE_PYTHON.exists():
        pytest.skip(f"{APPLIANCE_PYTHON} (Debian's python3) is missing: apt-get install python3 python3-venv")
    user = KioskUser.find()
    timings: dict[str, float] = {}
    started = time.monotonic()
    # The working tree's wheel, built for its contents once (tests/unit/test_packaging.py installs the same
    # file); a copy here, where the kiosk user reads it.
    (base / "dist").mkdir()
    wheel = Path(shutil.copy2(kiosk_wheel(), base / "dist"))
    timings["wheel build"] = time.monotonic() - started
    started = time.monotonic()
    house = wheelhouse()
    timings["wheelhouse"] = time.monotonic() - started

    home = user.own(base / "appliance")
    (base / "dist").chmod(0o755)
    wheel.chmod(0o644)
    started = time.monotonic()
    venv = home / "venv"
    _run(user.command(APPLIANCE_PYTHON, "-m", "venv", "--without-pip", venv), cwd=home, env=clean_environment())
    # Debian's own pip wheel (python3-venv's), run as a zip: the venv needs no pip of its own. Offline
    # from the wheelhouse; bytecode left to the first start (--no-compile is quicker than the journey).
    pip_wheels = sorted(DEBIAN_WHEELS.glob("pip-*.whl"))
    if not pip_wheels:
        pytest.skip(f"no pip wheel in {DEBIAN_WHEELS}: apt-get install python3-venv")
    pip_wheel = pip_wheels[-1]
    _run(user.command(venv / "bin" / "python", f"{pip_wheel}/pip", "install", "--quiet", "--disable-pip-version-check",
                      "--no-index", "--find-links", house, "--no-compile", wheel),
         cwd=home, env=clean_environment(HOME=str(home)))
    timings["venv install"] = time.monotonic() - started
    return Appliance(user, venv, wheel, home, timings)
