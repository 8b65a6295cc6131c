"""The command line as an operator and a tester use it: one clear line for every problem, never a traceback."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.registry import Registry
from kiosk.ports import SystemClock

ROOT = Path(__file__).resolve().parents[2]


def run_kiosk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    environ.update(env or {})
    return subprocess.run([sys.executable, str(ROOT / "kiosk.py"), *args], capture_output=True, text=True,
                          env=environ, timeout=60, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize(
    ("args", "env", "expected"),
    [
        ((), {"KIOSK_READER": "usb"}, "setting 'reader'"),
        (("--config", "/nonexistent/site.toml"), {}, "does not exist"),
        (("--card", "no-such-card"), {}, "no virtual card profile 'no-such-card'"),
        ((), {"KIOSK_REGION": "atlantis"}, "setting 'region'"),
        ((), {"KIOSK_DATA_DIR": "/proc/kiosk"}, "setting 'data_dir'"),
    ],
)
def test_start_up_problems_are_one_line_with_exit_status_2(tmp_path, args, env, expected):
    env = {"KIOSK_DATA_DIR": str(tmp_path / "data"), **env}
    result = run_kiosk(*args, env=env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and expected in lines[0], result.stderr


def test_activate_plays_the_phone_and_refuses_a_used_or_unknown_code(tmp_path):
    data = tmp_path / "data"
    registry = Registry.open(f"sqlite:///{data / 'registry.sqlite3'}", SystemClock())
    registry.create_all()
    from kiosk import CONFIG_DIR
    from kiosk.registry import load_demo

    load_demo(registry, CONFIG_DIR / "demo" / "registry.toml")
    ecard = registry.register_ecard("430102198803150016", "430102201906010029", "TEST")
    ticket = registry.issue_ticket(ecard, "https://ecard.example.gov.cn/activate", 300)
    env = {"KIOSK_DATA_DIR": str(data)}

    first = run_kiosk("activate", ticket.user_code.lower()[:4], ticket.user_code.lower()[5:], env=env)
    assert first.returncode == 0 and "activated" in first.stdout and "4301**********0029" in first.stdout
    again = run_kiosk("activate", ticket.url[:30], "\n" + ticket.url[30:] + "\n", env=env)  # pasted across lines
    assert again.returncode == 1 and "ACTIVATION_USED" in again.stderr
    unknown = run_kiosk("activate", "BBBB-CCCC", env=env)
    assert unknown.returncode == 1 and "ACTIVATION_UNKNOWN" in unknown.stderr
    assert "Traceback" not in again.stderr + unknown.stderr


def test_console_script_hands_over_to_kiosk_py():
    script = Path(sys.executable).parent / "ecard-kiosk"
    result = subprocess.run([str(script), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and "activate" in result.stdout
