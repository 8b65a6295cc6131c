"""Provides tests that the ID, eligibility, registry and ticket modules stay free of UI and hardware."""
from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[3]

MODULES = [
    "kiosk.resident_id",
    "kiosk.eligibility",
    "kiosk.eligibility.facts",
    "kiosk.eligibility.rules",
    "kiosk.eligibility.region",
    "kiosk.eligibility.decision",
    "kiosk.registry",
    "kiosk.registry.models",
    "kiosk.registry.database",
    "kiosk.registry.records",
    "kiosk.registry.store",
    "kiosk.registry.activation",
    "kiosk.registry.demo",
    "kiosk.registry.schema",
    "kiosk.registry.migrate",
    "kiosk.registry.probe",
    "kiosk.registry.lookup",
    "kiosk.registry.registration",
    "kiosk.registry.port",
    "kiosk.registry.local",
    "kiosk.tickets",
]
FORBIDDEN = ("textual", "screens", "devices", "smartcard")


def test_importing_the_core_loads_no_ui_devices_or_pyscard() -> None:
    probe = (
        f"import sys\nfor name in {MODULES!r}: __import__(name)\n"
        f"print(sorted({{m.split('.')[0] for m in sys.modules}} & set({FORBIDDEN!r})))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=PROJECT_ROOT, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("module", MODULES)
def test_every_module_opens_with_a_provides_line_and_postponed_annotations(module: str) -> None:
    relative = Path(*module.split("."))
    path = PROJECT_ROOT / (relative / "__init__.py" if (PROJECT_ROOT / relative).is_dir() else relative.with_suffix(".py"))
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstring = ast.get_docstring(tree) or ""
    assert docstring.startswith("Provides ") and "\n" not in docstring
    assert any(
        isinstance(node, ast.ImportFrom) and node.module == "__future__" and node.names[0].name == "annotations"
        for node in tree.body
    )
