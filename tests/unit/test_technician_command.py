"""`kiosk.py technician hash`: a technician's PIN asked twice, never echoed, printed only as its salted hash."""
from __future__ import annotations

import getpass

from kiosk.maintenance import parse_pin_hash
from kiosk.maintenance.passwords import verify_technician
from tests.conftest import kiosk_root


def _answers(monkeypatch, *typed: str) -> None:
    answers = iter(typed)
    monkeypatch.setattr(getpass, "getpass", lambda prompt="": next(answers))


def test_hash_prints_a_line_to_paste_that_verifies_the_pin(monkeypatch, capsys) -> None:
    _answers(monkeypatch, "13579", "13579")
    assert kiosk_root.main(["technician", "hash", "--id", "T0002"]) == 0
    out = capsys.readouterr().out.strip()
    technician, stored = out.split(" = ")
    assert technician == "T0002" and "13579" not in out
    assert verify_technician({"T0002": parse_pin_hash(stored.strip('"'))}, "T0002", "13579")


def test_two_different_pins_make_no_hash(monkeypatch, capsys) -> None:
    _answers(monkeypatch, "13579", "13570")
    assert kiosk_root.main(["technician", "hash"]) == 1
    captured = capsys.readouterr()
    assert captured.out == "" and "differ" in captured.err


def test_a_short_pin_makes_no_hash(monkeypatch, capsys) -> None:
    _answers(monkeypatch, "1234", "1234")
    assert kiosk_root.main(["technician", "hash", "--scheme", "pbkdf2_sha256"]) == 1
    assert "5 to 12 digits" in capsys.readouterr().err
