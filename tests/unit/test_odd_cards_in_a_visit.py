"""Provides the tests of odd cards in a whole visit (`kiosk.py automate`): a card without an expiry date, or born in
8187, ends at the error step with its catalogued code and words in both languages, never at "holder"."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "config" / "cards"


@pytest.mark.parametrize(
    ("change", "code"),
    [
        (("expiry_date = 2031-05-20\n", ""), "CARD_DATA_MISSING"),  # seen on main: read as "no expiry", accepted
        (("birth_date = 1990-07-08", "birth_date = 8187-07-08"), "CARD_DATA_INVALID"),  # seen on main: accepted
    ],
    ids=["no expiry date", "born in 8187"],
)
def test_a_card_missing_an_item_the_rules_need_ends_the_visit_with_its_code(tmp_path: Path, change, code: str) -> None:
    cards = tmp_path / "cards"
    cards.mkdir()
    (cards / "psam-test.toml").write_text((SOURCE / "psam-test.toml").read_text(encoding="utf-8"), encoding="utf-8")
    profile = (SOURCE / "li-na-2.00.toml").read_text(encoding="utf-8")
    assert change[0] in profile
    (cards / "odd.toml").write_text(profile.replace(*change), encoding="utf-8")
    environ = {k: v for k, v in os.environ.items() if not k.startswith("KIOSK_")}
    environ.update({"KIOSK_DATA_DIR": str(tmp_path / "data"), "KIOSK_CARD_PROFILES_DIR": str(cards)})
    script = b'{"cmd":"INSERT_CARD","profile":"odd","id":1}\n{"cmd":"SET_LANGUAGE","lang":"en","id":2}\n'
    result = subprocess.run([sys.executable, str(ROOT / "kiosk.py"), "automate", "--manual-clock"], input=script,
                            capture_output=True, env=environ, timeout=60)
    assert result.returncode == 0, result.stderr.decode(errors="replace")
    finals = [m for m in map(json.loads, result.stdout.decode("utf-8").splitlines()) if m.get("last")]
    zh, en = finals
    assert zh["step"] == en["step"] == "error" and zh["holder"] is None
    assert zh["error"]["code"] == en["error"]["code"] == code
    assert zh["error"]["text"] and en["error"]["text"] and zh["error"]["text"] != en["error"]["text"]
    assert zh["error"]["retriable"] is False
