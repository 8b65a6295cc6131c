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
