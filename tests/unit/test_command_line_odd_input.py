"""Provides the tests of the command line given what a new tester gives it (issue 9): bytes that are not UTF-8, and an
install without the optional PC/SC part; one clear line each, never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.optional import OptionalPartMissing, optional_part

ROOT = Path(__file__).resolve().parents[2]
# Runs kiosk.py as if pyscard were not installed: `import smartcard` raises ModuleNotFoundError, as it does there.
WITHOUT_PYSCARD = (
    "import runpy, sys; sys.modules['smartcard'] = None; sys.argv = ['kiosk.py', *sys.argv[1:]]; "
    "runpy.run_path(sys.argv[0], run_name='__main__')"
)


def _environ(tmp_path: Path) -> dict[str, str]:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    environ["KIOSK_DATA_DIR"] = str(tmp_path / "data")
    return environ


def test_activate_with_bytes_that_are_not_utf_8_is_activation_unknown(tmp_path: Path) -> None:
    # Seen on main: `kiosk.py activate $'\xff'` died with a UnicodeEncodeError traceback in kiosk/tickets.py.
    result = subprocess.run([sys.executable, str(ROOT / "kiosk.py"), "activate", b"\xff"], capture_output=True,
                            env=_environ(tmp_path), timeout=60, stdin=subprocess.DEVNULL, cwd=ROOT)
    stderr = result.stderr.decode("utf-8", "replace")
    assert result.returncode == 1 and "ACTIVATION_UNKNOWN" in stderr, stderr
    assert "Traceback" not in stderr


@pytest.mark.parametrize(
    ("args", "status", "feature"),
    [
        (["card", "read"], 1, "card read"),  # seen on main: ModuleNotFoundError: smartcard
        (["readers"], 1, "readers"),
        (["readers", "--watch"], 1, "readers"),
        (["--reader", "pcsc"], 2, "reader 'pcsc'"),
    ],
)
def test_a_pc_sc_command_without_pyscard_says_in_one_line_what_to_install(tmp_path: Path, args: list[str],
                                                                          status: int, feature: str) -> None:
    result = subprocess.run([sys.executable, "-c", WITHOUT_PYSCARD, *args], capture_output=True, text=True,
                            env=_environ(tmp_path), timeout=60, stdin=subprocess.DEVNULL, cwd=ROOT)
    lines = result.stderr.strip().splitlines()
    assert result.returncode == status and len(lines) == 1, result.stderr
    assert f"{feature} needs pyscard" in lines[0] and "child-ecard-kiosk[pcsc]" in lines[0]


def test_a_missing_module_that_is_no_optional_part_is_not_hidden() -> None:
    with pytest.raises(ModuleNotFoundError):
        with optional_part("anything"):
            import kiosk_no_such_module  # noqa: F401
    with pytest.raises(OptionalPartMissing, match="pyscard"):
        with optional_part("card read"):
            raise ModuleNotFoundError("No module named 'smartcard.scard'", name="smartcard.scard")
