"""Provides tests of the gettext message catalogues: complete for what the code uses, compiled, plural-aware."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk.errors import CATALOGUE
from kiosk.i18n import LOCALES, has_message, message, plural
from kiosk.i18n import tool
from kiosk.resident_id import ResidentIdReason
from kiosk.session import STAGES


def test_the_catalogues_have_every_key_the_code_uses_in_both_languages() -> None:
    # The same check `python -m kiosk.i18n.tool check` runs: missing, empty, fuzzy, unused,
    # placeholders that differ, and a .mo older than its .po all fail here.
    assert tool.problems() == []


def test_the_check_notices_a_key_missing_from_one_catalogue(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    locale_dir = tmp_path / "locale"
    shutil.copytree(tool.LOCALE_DIR, locale_dir)
    po = locale_dir / "en" / "LC_MESSAGES" / "kiosk.po"
    text = po.read_text(encoding="utf-8")
    start = text.index('msgid "pin.heading"')
    po.write_text(text[:start] + text[text.index("\n\n", start) + 2:], encoding="utf-8")
    monkeypatch.setattr(tool, "LOCALE_DIR", locale_dir)
    found = tool.problems()
    assert any(line.startswith("en: pin.heading: missing (used at screens/pin.py") for line in found)
    assert any("en/LC_MESSAGES/kiosk.mo: older than its .po" in line for line in found)


def test_the_check_notices_a_key_the_code_builds_without_declaring_it(monkeypatch: pytest.MonkeyPatch) -> None:
    real = tool.used_keys

    def without_stage_pin() -> dict[str, list[str]]:
        used = real()
        used.pop("stage.pin")
        return used

    monkeypatch.setattr(tool, "used_keys", without_stage_pin)
    assert "zh_CN: stage.pin: not used by the code (remove it, or declare it with N_ where it is built)" in tool.problems()


@pytest.mark.parametrize("lang", list(LOCALES))
def test_every_key_built_at_run_time_has_a_text(lang: str) -> None:
    from screens.base import NOTICE_KEYS
    from screens.child_confirm import RELATIONSHIP_KEYS, SEX_KEYS
    from screens.child_id import REASON_KEYS
    from screens.widgets.steps import STAGE_KEYS

    assert set(STAGE_KEYS) == set(STAGES)
    assert set(REASON_KEYS) == {reason.value for reason in ResidentIdReason}
    for keys in (NOTICE_KEYS, SEX_KEYS, RELATIONSHIP_KEYS, STAGE_KEYS, REASON_KEYS):
        for key in keys.values():
            assert has_message(key, lang), key
    for code in CATALOGUE:
        assert has_message(f"err.{code}", lang) and has_message(f"err.{code}.next", lang)


def test_error_entries_read_their_words_from_the_catalogues() -> None:
    entry = CATALOGUE["PIN_BLOCKED"]
    assert entry.text.zh == "社保卡密码已锁定。" and entry.text.en == "Your card PIN is locked."
    assert entry.next_step.get("en").startswith("No kiosk or self-service machine can unlock it")
    assert "社保卡服务网点" in entry.next_step.get("zh")


def test_plurals_follow_each_language() -> None:
    assert plural("pin.tries", 1, "en") == "1 try left"
    assert plural("pin.tries", 3, "en") == "3 tries left"
    assert plural("pin.tries", 1, "zh") == plural("pin.tries", 1, "zh") == "还可以尝试 1 次"


def test_a_missing_key_comes_back_as_itself_rather_than_failing() -> None:
    assert message("no.such.key", "en") == "no.such.key"
    assert not has_message("no.such.key", "zh")


def test_where_to_go_names_the_place_in_both_languages() -> None:
    # Issue 14 (trap 12): "人工窗口" / "a service counter" name no place. A guardian is sent to a staffed counter
    # of this hall (the kiosk's own faults), to a social security card service point (the card itself), or to a
    # social insurance office (applying there instead), in the same words in Chinese and English.
    zh, en = tool.read_catalogue(LOCALES["zh"]), tool.read_catalogue(LOCALES["en"])
    vague = [(entry.id, entry.string) for catalogue, word in ((zh, "人工窗口"), (en, "service counter"))
             for entry in catalogue if entry.id and word in str(entry.string)]
    assert vague == []
    places = {"本大厅的人工服务窗口": "a staffed counter in this hall", "社保卡服务网点": "card service point",
              "社保经办机构的窗口": "social insurance office counter"}
    for entry in zh:
        if not entry.id:
            continue
        english = str(en.get(entry.id).string)
        for chinese, words in places.items():
            if chinese in str(entry.string):
                assert words in english, (entry.id, english)
