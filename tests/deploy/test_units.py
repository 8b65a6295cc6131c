"""The systemd units: systemd-analyze verify on each, their exposure, and the kiosk's reasons for what stays open."""
from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.deploy.appliance import DEPLOY

UNITS = sorted(DEPLOY.glob("*.service"))
SERVICE_EXPOSURE_LIMIT = 3.0


def security(unit: Path) -> tuple[float, list[str]]:
    """The unit's overall exposure score and the settings `systemd-analyze security` marks exposed."""
    result = subprocess.run(["systemd-analyze", "security", "--offline=yes", "--no-pager", str(unit)],
                            capture_output=True, text=True, timeout=60)
    score = re.search(r"Overall exposure level for \S+: (\d+\.\d+)", result.stdout)
    assert score, result.stdout[-2000:] + result.stderr[-2000:]
    exposed = [line.split()[1] for line in result.stdout.splitlines() if line.startswith("✗")]
    return float(score.group(1)), exposed


def executables(unit_text: str) -> list[str]:
    """The programs the unit's Exec*= lines start (prefixes like '-' or '@' off)."""
    found = []
    for line in unit_text.splitlines():
        match = re.match(r"Exec\w+=[-@:+!]*(/\S+)", line)
        if match:
            found.append(match.group(1))
    return found


@pytest.fixture(autouse=True)
def _systemd_analyze():
    if shutil.which("systemd-analyze") is None:
        pytest.skip("systemd-analyze missing: apt-get install systemd (.ci/setup does)")


def test_there_are_the_kiosk_and_the_registry_units():
    assert [unit.name for unit in UNITS] == ["ecard-kiosk.service", "ecard-registry.service"]


@pytest.mark.parametrize("unit", UNITS, ids=lambda unit: unit.name)
def test_systemd_analyze_verify_finds_nothing(unit, tmp_path):
    # verify insists every Exec*= program exists: one this machine lacks (cage where it is not
    # installed) is stood in for by an executable under tmp_path, in a copy of the unit.
    text = unit.read_text(encoding="utf-8")
    stand_ins = []
    for program in executables(text):
        if not Path(program).exists():
            stand_in = tmp_path / "stand-ins" / program.lstrip("/")
            stand_in.parent.mkdir(parents=True, exist_ok=True)
            stand_in.write_text("#!/bin/sh\n", encoding="utf-8")
            stand_in.chmod(0o755)
            text = text.replace(program, str(stand_in))
            stand_ins.append(program)
    copy = tmp_path / unit.name
    copy.write_text(text, encoding="utf-8")
    result = subprocess.run(["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0 and result.stderr.strip() == "", (stand_ins, result.stderr)


def test_the_registry_service_is_exposed_at_most_3():
    score, exposed = security(DEPLOY / "ecard-registry.service")
    print(f"ecard-registry.service exposure {score} (open: {', '.join(exposed)})")
    assert score <= SERVICE_EXPOSURE_LIMIT


def test_every_setting_left_open_in_the_kiosk_unit_says_why():
    unit = DEPLOY / "ecard-kiosk.service"
    score, exposed = security(unit)
    print(f"ecard-kiosk.service exposure {score} (open: {', '.join(exposed)})")
    reasons = "\n".join(line for line in unit.read_text(encoding="utf-8").splitlines() if line.startswith("#"))
    for item in exposed:
        setting = item.split("=")[0]  # "RestrictAddressFamilies=~AF_UNIX" -> RestrictAddressFamilies
        assert f"{setting}=" in reasons, f"{item} is open in ecard-kiosk.service and its comments do not say why"
    for family in ("AF_UNIX", "AF_NETLINK", "AF_INET"):
        if any(family in item for item in exposed):
            assert family in reasons
    assert score <= SERVICE_EXPOSURE_LIMIT


def test_the_kiosk_unit_has_what_the_hall_needs():
    text = (DEPLOY / "ecard-kiosk.service").read_text(encoding="utf-8")
    settings = {line.split("=", 1)[0] for line in text.splitlines() if re.match(r"^[A-Z]\w+=", line)}
    for wanted in ("Restart", "WatchdogSec", "NotifyAccess", "Conflicts", "LoadCredential", "NoNewPrivileges",
                   "ProtectSystem", "ReadWritePaths", "PrivateTmp", "ProtectHome", "User", "TTYPath"):
        assert wanted in settings
    assert "Restart=always" in text and "Conflicts=getty@tty1.service" in text
    assert re.search(r"^After=.*pcscd\.service.*time-sync\.target", text, re.M)
    assert "/usr/bin/cage -- /usr/bin/foot --config=/etc/ecard-kiosk/foot.ini /opt/ecard-kiosk/bin/ecard-kiosk" in text


def test_the_polkit_rule_allows_pcscd_to_the_kiosk_user_only():
    rule = (DEPLOY / "polkit" / "50-ecard-kiosk-pcscd.rules").read_text(encoding="utf-8")
    code = "\n".join(line for line in rule.splitlines() if not line.lstrip().startswith("//"))
    assert 'subject.user == "ecard-kiosk"' in code and "org.debian.pcsc-lite.access_pcsc" in code
    assert code.count("polkit.Result.YES") == 1 and "Result.NO" not in code and "subject.isInGroup" not in code
