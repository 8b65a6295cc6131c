"""Provides kiosk_wheel(): the kiosk's wheel, built once for a working tree's contents and shared.

The wheel test (tests/unit/test_packaging.py) and the deploy tests' appliance (tests/deploy/appliance.py)
both need the wheel of the working tree as it is. Building it (a copy of the sources, `pip wheel`)
took each of them 10-20 s; now the first one builds it into a folder named by the hash of every file a
commit would hold (names, modes and contents), under the lock of that folder, and the other (another
xdist worker, or a later run of an unchanged tree) takes the same file. A change to any file makes a
new hash, so a wheel is never older than the sources it is used for.
"""
from __future__ import annotations

import fcntl
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = Path(tempfile.gettempdir()) / "ecard-kiosk-wheels"
"""One folder per working-tree hash, each holding the wheel (`dist/`) once it is complete."""
STALE_SECONDS = 2 * 24 * 3600
"""Folders not used for that long are removed when a new wheel is built."""


def tracked_files() -> list[str]:
    """The files a commit of the working tree would hold (tracked, or new and not ignored)."""
    listing = subprocess.run(["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
                             cwd=ROOT, capture_output=True, check=True)
    return sorted(name for name in listing.stdout.decode().split("\0") if name and (ROOT / name).is_file())


def tree_hash(names: list[str]) -> str:
    digest = hashlib.sha256()
    for name in names:
        path = ROOT / name
        digest.update(f"{name}\0{path.stat().st_mode & 0o777:o}\0".encode())
        digest.update(hashlib.sha256(path.read_bytes()).digest())
    return digest.hexdigest()[:24]


def kiosk_wheel() -> Path:
    """The wheel of the working tree (built now, or earlier for the same contents). Read it, never change it."""
    names = tracked_files()
    folder = CACHE / tree_hash(names)
    CACHE.mkdir(mode=0o755, exist_ok=True)
    folder.mkdir(mode=0o755, exist_ok=True)
    handle = os.open(folder / ".lock", os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX)  # a second builder waits for the first one's wheel
        dist = folder / "dist"
        wheels = sorted(dist.glob("child_ecard_kiosk-*.whl")) if (folder / ".complete").exists() else []
        if not wheels:
            wheels = [_build(names, folder)]
            (folder / ".complete").touch()
            _tidy(keep=folder)
        (wheel,) = wheels
        os.utime(folder)  # in use: not stale
        return wheel
    finally:
        os.close(handle)


def _build(names: list[str], folder: Path) -> Path:
    shutil.rmtree(folder / "dist", ignore_errors=True)
    with tempfile.TemporaryDirectory(prefix="ecard-kiosk-wheel-") as scratch:
        source = Path(scratch) / "source"
        for name in names:  # a copy: the build writes build/ and *.egg-info beside the sources
            (source / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(ROOT / name, source / name)
        result = subprocess.run([sys.executable, "-m", "pip", "--disable-pip-version-check", "--no-input", "wheel",
                                 "--no-deps", "--quiet", "--wheel-dir", str(folder / "dist"), str(source)],
                                cwd=scratch, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-3000:]
    (folder / "dist").chmod(0o755)
    (wheel,) = (folder / "dist").glob("child_ecard_kiosk-*.whl")
    wheel.chmod(0o644)
    return wheel


def _tidy(keep: Path) -> None:
    now = time.time()
    for path in CACHE.iterdir():
        if path.is_dir() and path != keep and now - path.stat().st_mtime > STALE_SECONDS:
            shutil.rmtree(path, ignore_errors=True)
