"""The layer rules of ARCHITECTURE.md, checked by import-linter and by importing each layer alone."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import importlib, pkgutil, sys
package = importlib.import_module({package!r})
for info in pkgutil.walk_packages(package.__path__, {package!r} + "."):
    importlib.import_module(info.name)
loaded = sorted({{name.split(".")[0] for name in sys.modules}} & set({forbidden!r}))
print(",".join(loaded))
"""


def test_import_linter_contracts_are_kept():
    # No cache: grimp reads kiosk.py as the kiosk package's source but keys its cache on
    # kiosk/__init__.py, so a cached graph can miss a change to the launcher.
    result = subprocess.run([str(Path(sys.executable).parent / "lint-imports"), "--no-cache"], cwd=ROOT,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout[-3000:]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("kiosk", ["textual", "screens", "devices", "smartcard"]),
        ("devices", ["textual", "screens"]),
        ("screens", ["devices", "smartcard"]),
        ("ecard_kiosk", []),  # the root may load every layer; it must import whole, on its own
    ],
)
def test_a_layer_loads_none_of_what_it_must_not_use(package, forbidden):
    result = subprocess.run([sys.executable, "-c", _PROBE.format(package=package, forbidden=forbidden)],
                            cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.strip() == "", f"{package} loaded {result.stdout.strip()}"
