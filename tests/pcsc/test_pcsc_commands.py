"""The tester's and technician's commands on the real PC/SC stack: card serve, card read, readers."""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.pcsc

ROOT = Path(__file__).resolve().parents[2]


def kiosk_command(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    return subprocess.run([sys.executable, str(ROOT / "kiosk.py"), *args], capture_output=True, text=True,
                          input=stdin, env=env, timeout=60)


def test_card_read_prints_masked_holder_data_atr_version_and_apdu_count(pcscd, psam_slot, guardian_slot, card_of):
    guardian_slot.insert(card_of("zhang-wei-3.00"))
    result = kiosk_command("card", "read", "--reader", pcscd.reader(0), "--psam-reader", pcscd.reader(1), "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["spec_version"] == "3.00"
    assert report["atr"].startswith("3B 6C")
    assert report["holder"]["name"] == "张*" and report["holder"]["resident_id"] == "4301**********0016"
    assert report["issuer"]["card_number"] == "L4*****01"
    assert report["apdus"] > 0 and report["milliseconds"] > 0


def test_card_read_unmasked_and_with_a_pin_typed_on_the_terminal(pcscd, psam_slot, guardian_slot, card_of):
    card = card_of("li-na-2.00")
    guardian_slot.insert(card)
    result = kiosk_command("card", "read", "--reader", pcscd.reader(0), "--unmasked", "--pin", stdin="000000\n")
    assert result.returncode == 0, result.stderr
    assert "李娜" in result.stdout and "43010219900708004X" in result.stdout
    assert "PIN           wrong, 2 tries left" in result.stdout
    assert card.pin_tries_left == 2


def test_card_read_of_a_card_that_is_not_a_social_security_card_is_one_line(pcscd, guardian_slot, card_of):
    guardian_slot.insert(card_of("bank-card"))
    result = kiosk_command("card", "read", "--reader", pcscd.reader(0))
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [result.stderr.strip()]
    assert "CARD_NOT_SOCIAL_SECURITY" in result.stderr and "Traceback" not in result.stderr


def test_readers_lists_both_vpcd_slots_with_the_psam_atr(pcscd, psam_slot, guardian_slot):
    result = kiosk_command("readers")
    assert result.returncode == 0, result.stderr
    assert f"0: {pcscd.reader(0)}" in result.stdout and "(no card)" in result.stdout
    assert f"1: {pcscd.reader(1)}" in result.stdout and "ATR 3B" in result.stdout


def test_card_serve_joins_vpcd_until_it_is_stopped(pcscd, psam_slot, guardian_slot):  # slot 0 starts empty
    env = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    serve = subprocess.Popen([sys.executable, str(ROOT / "kiosk.py"), "card", "serve", "li-na-2.00"],
                             stdout=subprocess.PIPE, text=True, env=env)
    try:
        assert "waits in vpcd slot 0" in serve.stdout.readline()
        assert "inserted" in serve.stdout.readline()
        pcscd.wait_card(0, present=True)
        read = kiosk_command("card", "read", "--reader", pcscd.reader(0), "--json")
        assert json.loads(read.stdout)["spec_version"] == "2.00"
    finally:
        serve.send_signal(signal.SIGINT)
        output, _ = serve.communicate(timeout=20)
    assert serve.returncode == 0 and "removed" in output
    pcscd.wait_card(0, present=False)


def test_readers_without_a_pcsc_service_is_one_clear_line(pcscd):
    pcscd.stop()
    result = kiosk_command("readers")
    assert result.returncode == 1
    assert "READER_UNAVAILABLE" in result.stderr and "Traceback" not in result.stderr
