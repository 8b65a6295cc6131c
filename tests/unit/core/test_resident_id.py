"""Provides tests of the resident ID rules: the spec's samples, every reason, the properties, live feedback."""
from __future__ import annotations

from datetime import date

import pytest

from kiosk.resident_id import ResidentId, ResidentIdError, ResidentIdReason, check_char, check_partial

TODAY = date(2026, 6, 1)


def reason_of(text: str, today: date | None = TODAY) -> tuple[ResidentIdReason, int | None]:
    with pytest.raises(ResidentIdError) as caught:
        ResidentId.parse(text, today=today)
    return caught.value.reason, caught.value.position


@pytest.mark.parametrize("text", ["11010519491231002X", "440524188001010014", "360426199101010071", "120103198806018241"])
def test_spec_valid_samples_parse(text: str) -> None:
    assert ResidentId.parse(text, today=TODAY).text == text


def test_spec_invalid_sample_fails_the_checksum_at_the_last_character() -> None:
    assert reason_of("360426199101010072") == (ResidentIdReason.CHECKSUM, 17)


def test_check_character_follows_mod_11_2() -> None:
    assert check_char("11010519491231002") == "X"
    assert check_char("44052418800101001") == "4"


@pytest.mark.parametrize(
    "typed", ["430102 19880315 0016", "430102-19880315-0016", " 430102198803150016 ", "4301 0219 8803 1500 16"]
)
def test_spaces_and_dashes_between_groups_are_ignored(typed: str) -> None:
    assert ResidentId.parse(typed, today=TODAY).text == "430102198803150016"


def test_lower_case_x_is_read_as_upper_case() -> None:
    assert ResidentId.parse("11010519491231002x", today=TODAY).text == "11010519491231002X"


@pytest.mark.parametrize("text", ["", "4301021988031500", "4301021988031500161"])
def test_wrong_length_is_reported_as_length(text: str) -> None:
    assert reason_of(text) == (ResidentIdReason.LENGTH, None)


def test_a_letter_is_reported_with_its_position_in_the_typed_text() -> None:
    assert reason_of("430102 1988O3150016") == (ResidentIdReason.CHARACTER, 11)


def test_x_anywhere_but_last_is_a_bad_character() -> None:
    assert reason_of("4301021988031500X6") == (ResidentIdReason.CHARACTER, 16)


def test_a_bad_character_is_reported_before_the_length() -> None:
    assert reason_of("43a1") == (ResidentIdReason.CHARACTER, 2)


@pytest.mark.parametrize("text", ["030102198803150016", "930102198803150016", "190102198803150016", "990102198803150016"])
def test_implausible_area_codes_are_reported_as_area(text: str) -> None:
    assert reason_of(text) == (ResidentIdReason.AREA, 0)


@pytest.mark.parametrize(
    "birth", ["19880230", "19881301", "19880001", "17991231"], ids=["feb-30", "month-13", "month-0", "before-1800"]
)
def test_impossible_birth_dates_are_reported_as_date(birth: str) -> None:
    first17 = f"430102{birth}001"
    assert reason_of(first17 + check_char(first17)) == (ResidentIdReason.DATE, 6)


def test_a_birth_date_after_today_is_reported_as_date() -> None:
    first17 = "43010220260602001"
    assert reason_of(first17 + check_char(first17)) == (ResidentIdReason.DATE, 6)
    assert ResidentId.parse(first17 + check_char(first17), today=None).birth_date == date(2026, 6, 2)


def test_a_child_born_today_is_valid() -> None:
    first17 = "43010220260601002"
    assert ResidentId.parse(first17 + check_char(first17), today=TODAY).age_on(TODAY) == 0


def test_properties_come_from_the_number() -> None:
    rid = ResidentId.parse("430102198803150016", today=TODAY)
    assert rid.area_code == "430102"
    assert rid.birth_date == date(1988, 3, 15)
    assert rid.sex == "1"
    assert ResidentId.parse("43010219900708004X", today=TODAY).sex == "2"
    assert rid.masked == "4301**********0016"
    assert rid.grouped == "430102 19880315 0016"
    assert str(rid) == "430102198803150016"


def test_age_counts_full_years_only() -> None:
    rid = ResidentId.parse("430102200905200037", today=TODAY)
    assert rid.age_on(date(2025, 5, 19)) == 15
    assert rid.age_on(date(2025, 5, 20)) == 16


def test_a_leap_day_birthday_comes_on_first_march_in_other_years() -> None:
    first17 = "43010220080229001"
    rid = ResidentId.parse(first17 + check_char(first17), today=TODAY)
    assert rid.age_on(date(2026, 2, 28)) == 17
    assert rid.age_on(date(2026, 3, 1)) == 18


@pytest.mark.parametrize("typed", ["", "4", "4301", "430102 1988", "43010219880315001", "430102198803150016", "43010220"])
def test_partial_input_that_can_still_become_valid_has_no_bad_position(typed: str) -> None:
    assert check_partial(typed, today=TODAY) is None


@pytest.mark.parametrize(
    ("typed", "position"),
    [
        ("9", 0),  # no area code starts with 9
        ("19", 1),  # no province 19
        ("4301a", 4),  # a letter
        ("4301023", 6),  # born in the 3000s
        ("430102203", 8),  # born after 2026
        ("4301021988023", 12),  # 30 February
        ("430102198813", 11),  # month 13
        ("360426199101010072", 17),  # check character
        ("3604261991010100712", 18),  # a 19th character
        ("430102 1988a", 11),  # positions count in the typed text, spaces included
    ],
)
def test_partial_input_reports_the_first_character_that_cannot_be_right(typed: str, position: int) -> None:
    assert check_partial(typed, today=TODAY) == position


def test_partial_input_without_today_accepts_future_years() -> None:
    assert check_partial("4301023", today=None) is None


# ---------------------------------------------------------------- what an IME or a paste gives (issue 9)
@pytest.mark.parametrize(
    "typed",
    [
        "４３０１０２１９８８０３１５００１６",  # full-width digits, as a Chinese IME types them
        "430102198803150016\n",  # a paste with its line end
        "430102198803150016\u00a0",  # a non-breaking space from a web page
        "\u200b430102198803150016\ufeff",  # zero-width space, byte-order mark
        "４３０１０２ １９８８０３１５ ００１６\r\n",
    ],
)
def test_full_width_digits_and_trailing_newline_or_nbsp_are_normalised(typed: str) -> None:
    assert ResidentId.parse(typed, today=TODAY).text == "430102198803150016"


def test_a_full_width_x_is_the_check_character_x() -> None:
    assert ResidentId.parse("１１０１０５１９４９１２３１００２Ｘ", today=TODAY).text == "11010519491231002X"
    assert ResidentId.parse("11010519491231002ｘ", today=TODAY).text == "11010519491231002X"


def test_digits_of_other_scripts_are_still_characters_that_cannot_stand_there() -> None:
    assert reason_of("٤30102198803150016") == (ResidentIdReason.CHARACTER, 0)


def test_a_position_points_into_the_text_as_typed_full_width_or_not() -> None:
    assert reason_of("４３０１０２ 1988O3150016\n") == (ResidentIdReason.CHARACTER, 11)


@pytest.mark.parametrize(
    "text", ["430199198803150013", "110199198803150011", "439900198803150015", "460500198803150018"]
)
def test_an_area_code_gb_t_2260_does_not_have_is_refused_though_its_province_exists(text: str) -> None:
    first17 = text[:17]
    assert reason_of(first17 + check_char(first17)) == (ResidentIdReason.AREA, 0)


@pytest.mark.parametrize(
    ("code", "why"),
    [
        ("110103", "崇文区, merged into 东城区 in 2010: numbers issued before keep it"),
        ("430122", "望城县, a district since 2011"),
        ("430111", "雨花区 (郊区 until 1995)"),
        ("810000", "Hong Kong"),
        ("830000", "the residence permit of a Taiwan resident"),
    ],
)
def test_historical_and_special_area_codes_stay_valid(code: str, why: str) -> None:
    first17 = f"{code}19880315001"
    assert ResidentId.parse(first17 + check_char(first17), today=TODAY).area_code == code, why


def test_a_card_read_number_needs_only_a_plausible_province() -> None:
    first17 = "43019919880315001"
    text = first17 + check_char(first17)
    assert ResidentId.parse(text, today=TODAY, county_level=False).text == text


def test_live_feedback_knows_the_county_codes() -> None:
    assert check_partial("43019", today=TODAY) == 4  # no Changsha code starts 43019
    assert check_partial("430199", today=TODAY) == 4
    assert check_partial("４３０１０２", today=TODAY) is None


def test_future_birth_dates_stay_refused_when_typed_full_width() -> None:
    first17 = "43010220260602001"
    wide = "".join(chr(ord(ch) + 0xFEE0) for ch in first17 + check_char(first17))
    assert reason_of(wide) == (ResidentIdReason.DATE, 6)


def test_the_area_code_list_states_its_source_and_date() -> None:
    from kiosk.area_codes import AREA_CODES_FILE, area_codes

    header = [line for line in AREA_CODES_FILE.read_text(encoding="utf-8").splitlines() if line.startswith("#")]
    assert any("Source: python-stdnum" in line for line in header)
    assert any("Date of the list" in line for line in header)
    listed = area_codes()
    assert len(listed.codes) > 6000 and listed.known("430102") and not listed.known("430199")
