"""Provides tests of regional rule files: the shipped ones, `extends`, and the messages of bad files."""
from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.eligibility import RULES, RULES_BY_CODE, RegionFileError, load_region

from .conftest import REGIONS


def write(folder: Path, name: str, text: str) -> Path:
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


def child_of_default(folder: Path, body: str) -> Path:
    """A region file in `folder` that extends a copy of the shipped default file."""
    write(folder, "default.toml", (REGIONS / "default.toml").read_text(encoding="utf-8"))
    return write(folder, "test.toml", 'extends = "default"\n' + body)


def load_error(path: Path) -> RegionFileError:
    with pytest.raises(RegionFileError) as caught:
        load_region(path)
    return caught.value


def test_default_region_has_the_national_numbers_and_every_rule() -> None:
    region = load_region(REGIONS / "default.toml")
    assert (region.code, region.age_limit, region.child_slots, region.physical_card_required) == ("default", 16, 3, False)
    assert region.enabled_rules == tuple(rule.code for rule in RULES)
    assert region.covers("110105")


@pytest.mark.parametrize("code", [rule.code for rule in RULES])
def test_default_region_gives_every_rule_all_three_texts_in_both_languages(code: str) -> None:
    region = load_region(REGIONS / "default.toml")
    for variant in (None, *RULES_BY_CODE[code].variants):
        text = region.text_for(code, variant)
        for part in (text.reason, text.next_step, text.legal_basis):
            assert part.zh.strip() and part.en.strip() and "{" not in part.zh + part.en


def test_default_next_steps_name_the_app_route_and_the_counter_documents() -> None:
    text = load_region(REGIONS / "default.toml").text_for("CHILD_UNKNOWN")
    assert "电子社保卡 > 添加/亲情服务" in text.next_step.zh
    assert all(word in text.next_step.zh for word in ("户口簿", "出生医学证明", "身份证"))


def test_changsha_extends_default_and_changes_only_what_differs() -> None:
    default = load_region(REGIONS / "default.toml")
    changsha = load_region(REGIONS / "changsha.toml")
    assert (changsha.code, changsha.name.zh, changsha.area_prefixes) == ("changsha", "长沙", ("4301",))
    assert changsha.covers("430102") and not changsha.covers("110105")
    assert (changsha.age_limit, changsha.child_slots, changsha.enabled_rules) == (
        default.age_limit,
        default.child_slots,
        default.enabled_rules,
    )
    assert changsha.text_for("CHILD_HAS_ECARD") == default.text_for("CHILD_HAS_ECARD")
    unknown = changsha.text_for("CHILD_UNKNOWN")
    assert "《长沙市社会保障卡管理办法》第二十条" in unknown.legal_basis.zh
    assert "长沙市人力资源和社会保障局" in unknown.next_step.zh
    assert unknown.reason == default.text_for("CHILD_UNKNOWN").reason


def test_a_variant_without_its_own_basis_uses_the_rule_basis_of_the_extending_file() -> None:
    changsha = load_region(REGIONS / "changsha.toml")
    assert changsha.text_for("CARD_NOT_NORMAL", "lost").legal_basis == changsha.text_for("CARD_NOT_NORMAL").legal_basis


def test_extending_file_may_change_one_language_of_one_text(tmp_path: Path) -> None:
    path = child_of_default(tmp_path, 'code = "t"\n[rules.NOT_GUARDIAN.reason]\nen = "Not on record."\n')
    text = load_region(path).text_for("NOT_GUARDIAN").reason
    assert text.en == "Not on record." and text.zh == load_region(REGIONS / "default.toml").text_for("NOT_GUARDIAN").reason.zh


def test_placeholders_are_filled_with_the_region_numbers(tmp_path: Path) -> None:
    path = child_of_default(tmp_path, "child_slots = 5\n")
    assert "5" in load_region(path).text_for("CHILD_SLOTS_FULL").reason.zh


def test_a_missing_english_text_names_the_file_and_key(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "broken.toml",
        (REGIONS / "default.toml").read_text(encoding="utf-8").replace(
            'en = "The card PIN has not been verified."', ""
        ),
    )
    error = load_error(path)
    assert error.path == path and error.key == "rules.PIN_NOT_VERIFIED.reason"
    assert str(error) == f"{path}: rules.PIN_NOT_VERIFIED.reason: missing text for en"


def test_an_error_in_an_extending_file_names_that_file(tmp_path: Path) -> None:
    path = child_of_default(tmp_path, '[rules.CHILD_TOO_OLD.reason]\nzh = ""\n')
    error = load_error(path)
    assert error.path == path and error.key == "rules.CHILD_TOO_OLD.reason"


def test_an_unknown_rule_code_in_enabled_rules_is_refused(tmp_path: Path) -> None:
    path = child_of_default(tmp_path, 'enabled_rules = ["CARD_UNREADABLE", "CHILD_TOO_YOUNG"]\n')
    assert "unknown rule code 'CHILD_TOO_YOUNG'" in str(load_error(path))


def test_an_unknown_rule_table_is_refused(tmp_path: Path) -> None:
    path = child_of_default(tmp_path, '[rules.CHILD_TOO_YOUNG.reason]\nzh = "小"\nen = "young"\n')
    error = load_error(path)
    assert error.key == "rules.CHILD_TOO_YOUNG" and "unknown rule code" in error.problem


@pytest.mark.parametrize("value", ['"sixteen"', "0", "19", "true", "16.5"])
def test_a_bad_age_limit_is_refused(tmp_path: Path, value: str) -> None:
    error = load_error(child_of_default(tmp_path, f"age_limit = {value}\n"))
    assert error.key == "age_limit" and "whole number from 1 to 18" in error.problem


def test_a_bad_child_slot_count_is_refused(tmp_path: Path) -> None:
    error = load_error(child_of_default(tmp_path, "child_slots = -1\n"))
    assert error.key == "child_slots"


def test_physical_card_required_must_be_true_or_false(tmp_path: Path) -> None:
    error = load_error(child_of_default(tmp_path, 'physical_card_required = "yes"\n'))
    assert error.key == "physical_card_required"


def test_a_required_rule_cannot_be_switched_off(tmp_path: Path) -> None:
    codes = [rule.code for rule in RULES if rule.code != "PIN_NOT_VERIFIED"]
    error = load_error(child_of_default(tmp_path, f"enabled_rules = {codes!r}\n".replace("'", '"')))
    assert "PIN_NOT_VERIFIED cannot be switched off" in error.problem


def test_an_optional_rule_can_be_switched_off(tmp_path: Path) -> None:
    codes = [rule.code for rule in RULES if rule.code != "CHILD_SLOTS_FULL"]
    region = load_region(child_of_default(tmp_path, f"enabled_rules = {codes!r}\n".replace("'", '"')))
    assert not region.is_enabled("CHILD_SLOTS_FULL")


def test_an_unknown_variant_is_refused(tmp_path: Path) -> None:
    error = load_error(child_of_default(tmp_path, '[rules.CARD_NOT_NORMAL.variants.stolen.reason]\nzh = "被盗"\nen = "stolen"\n'))
    assert error.key == "rules.CARD_NOT_NORMAL.variants.stolen" and "lost" in error.problem


def test_an_unknown_placeholder_is_refused(tmp_path: Path) -> None:
    error = load_error(child_of_default(tmp_path, '[rules.CHILD_TOO_OLD.reason]\nen = "Older than {max_age}."\n'))
    assert "unknown placeholder {max_age}" in error.problem


def test_an_unknown_top_level_key_is_refused(tmp_path: Path) -> None:
    error = load_error(child_of_default(tmp_path, "age_limt = 14\n"))
    assert error.key == "age_limt" and "unknown key" in error.problem


def test_extending_a_missing_file_names_it(tmp_path: Path) -> None:
    path = write(tmp_path, "lonely.toml", 'extends = "nowhere"\n')
    error = load_error(path)
    assert error.path == tmp_path / "nowhere.toml" and "does not exist" in error.problem


def test_files_extending_each_other_are_refused(tmp_path: Path) -> None:
    write(tmp_path, "a.toml", 'extends = "b"\n')
    write(tmp_path, "b.toml", 'extends = "a"\n')
    assert "circle" in load_error(tmp_path / "a.toml").problem


def test_invalid_toml_is_reported_with_the_file(tmp_path: Path) -> None:
    path = write(tmp_path, "bad.toml", "age_limit = = 3\n")
    error = load_error(path)
    assert error.path == path and "not valid TOML" in error.problem
