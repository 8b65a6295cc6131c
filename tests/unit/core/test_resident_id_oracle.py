"""Provides the resident-ID oracle: the kiosk's validator against python-stdnum's `cn.ric` on 12,000 seeded numbers;
they disagree only in the classes listed here, each with the reason the kiosk is right (or made its choice)."""
from __future__ import annotations

import random
from collections import Counter
from datetime import date, timedelta

from stdnum.cn import ric

from kiosk.area_codes import EXTRA_CODES, AreaCode, area_codes
from kiosk.resident_id import EARLIEST_BIRTH, ResidentId, ResidentIdError, check_char

TODAY = date(2026, 6, 1)
NUMBERS = 12_000
SEED = 2260

# The documented disagreement classes: name -> why the two differ.
DISAGREEMENTS = {
    "future birth date": "stdnum accepts a birth date after today; nobody is born tomorrow (the kiosk refuses it)",
    "born before 1800": "stdnum accepts any calendar date (year 0001 included); the kiosk refuses births before 1800",
    "code not in use in the birth year": "stdnum wants the area code in use in the year of birth; a number keeps the "
                                         "code of the place it was first issued, which may have been created after "
                                         "the birth (everyone born before 1980 got their number later) or retired "
                                         "since: the kiosk keeps every code ever used",
    "residence permit code": "830000 starts the numbers of Taiwan residents' residence permits (2018); not a "
                             "GB/T 2260 code, so stdnum does not know it",
    "full-width X": "an IME types the check character as Ｘ; stdnum maps full-width digits, not Ｘ",
    "separators inside": "the kiosk ignores spaces and dashes between the groups (430102 19880315 0016); stdnum "
                         "reads them as characters",
}


def _kiosk_valid(text: str) -> bool:
    try:
        ResidentId.parse(text, today=TODAY)
    except ResidentIdError:
        return False
    return True


def _stdnum_valid(text: str) -> bool:
    try:
        ric.validate(text)
    except Exception:  # noqa: BLE001 - stdnum raises KeyError for an unknown county under a known province
        return False
    return True


def _number(area: str, born: str, sequence: int, check: str | None = None) -> str:
    first17 = f"{area}{born}{sequence:03d}"
    return first17 + (check if check is not None else check_char(first17))


def _date_digits(rng: random.Random) -> str:
    kind = rng.random()
    if kind < 0.80:
        day = date(1900, 1, 1) + timedelta(days=rng.randrange((TODAY - date(1900, 1, 1)).days + 1))
    elif kind < 0.87:
        day = TODAY + timedelta(days=rng.randint(1, 3650))  # in the future
    elif kind < 0.92:
        day = date(rng.randint(1, 1799), rng.randint(1, 12), rng.randint(1, 28))
    else:
        return rng.choice(["19880230", "19881301", "19880001", "19880132", "20230229", "00000000"])
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def _birth_in_use(rng: random.Random, entry: AreaCode) -> str:
    """A birth date in the years the entry's code was in use (as most numbers are): stdnum's view of the list."""
    first = max(entry.since or 1900, 1900)
    last = min(entry.until or TODAY.year, TODAY.year)
    start, end = date(first, 1, 1), min(date(last, 12, 31), TODAY)
    if end < start:  # a code from after TODAY's year
        return _date_digits(rng)
    day = start + timedelta(days=rng.randrange((end - start).days + 1))
    return f"{day.year:04d}{day.month:02d}{day.day:02d}"


def generate(rng: random.Random, entries: list[AreaCode]) -> str:
    """One number: mostly well-formed with a known code, then the ways a number goes wrong or is typed oddly."""
    kind = rng.random()
    entry = rng.choice(entries)
    born = _birth_in_use(rng, entry) if rng.random() < 0.75 else _date_digits(rng)
    text = _number(entry.code, born, rng.randint(0, 999))
    if kind < 0.50:
        return text
    if kind < 0.60:  # a wrong check character
        return text[:17] + rng.choice([c for c in "0123456789X" if c != text[17]])
    if kind < 0.70:  # any six digits as the area code
        return _number(f"{rng.randint(0, 999999):06d}", text[6:14], rng.randint(0, 999))
    if kind < 0.74:  # the residence permits' code
        return _number(rng.choice(list(EXTRA_CODES)), text[6:14], rng.randint(0, 999))
    if kind < 0.78:  # too short or too long
        return text[:rng.randint(0, 17)] if rng.random() < 0.5 else text + rng.choice("0123456789X")
    if kind < 0.82:  # a letter somewhere
        position = rng.randrange(18)
        return text[:position] + rng.choice("AOIlo") + text[position + 1:]
    if kind < 0.88:  # typed with full-width digits, or pasted with a line end or a non-breaking space
        decorated = "".join(chr(ord(ch) + 0xFEE0) if ch.isdigit() and rng.random() < 0.7 else ch for ch in text)
        return decorated + rng.choice(["", "\n", "\u00a0", " ", "\r\n"])
    if kind < 0.91:  # lower-case or full-width x
        check_x = _first_with_check_x(rng, entries)
        return check_x[:17] + rng.choice(["x", "Ｘ"])
    if kind < 0.93:  # grouped with spaces or dashes
        separator = rng.choice([" ", "-"])
        return f"{text[:6]}{separator}{text[6:14]}{separator}{text[14:]}"
    return "".join(rng.choice("0123456789") for _ in range(17)) + rng.choice("0123456789X")


def _first_with_check_x(rng: random.Random, entries: list[AreaCode]) -> str:
    while True:
        entry = rng.choice(entries)
        text = _number(entry.code, _birth_in_use(rng, entry), rng.randint(0, 999))
        if text.endswith("X"):
            return text


def disagreement_class(text: str, kiosk: bool, stdnum: bool) -> str | None:
    """Which documented class a disagreement falls in, or None when it is none of them."""
    compact = "".join(ch for ch in text if not ch.isspace())
    compact = "".join(chr(ord(ch) - 0xFEE0) if "０" <= ch <= "９" else ch for ch in compact)
    if kiosk and not stdnum:
        if any(sep in text.strip() for sep in (" ", "-")) and len(compact.replace("-", "")) == 18:
            return "separators inside"
        if compact.endswith("Ｘ"):
            return "full-width X"
        if compact[:6] in EXTRA_CODES:
            return "residence permit code"
        if area_codes().known(compact[:6]):
            return "code not in use in the birth year"
        return None
    if stdnum and not kiosk:
        born = date(int(compact[6:10]), int(compact[10:12]), int(compact[12:14]))
        if born > TODAY:
            return "future birth date"
        if born < EARLIEST_BIRTH:
            return "born before 1800"
    return None


def test_the_validator_agrees_with_stdnum_but_for_the_documented_classes() -> None:
    rng = random.Random(SEED)
    entries = list(area_codes().entries)
    outcome: Counter[str] = Counter()
    unexplained: list[tuple[str, bool, bool]] = []
    for _ in range(NUMBERS):
        text = generate(rng, entries)
        kiosk, stdnum = _kiosk_valid(text), _stdnum_valid(text)
        if kiosk == stdnum:
            outcome["agree, valid" if kiosk else "agree, invalid"] += 1
            continue
        found = disagreement_class(text, kiosk, stdnum)
        if found is None:
            unexplained.append((text, kiosk, stdnum))
        else:
            outcome[found] += 1
    agreed = outcome["agree, valid"] + outcome["agree, invalid"]
    print(f"\nresident-ID oracle: {NUMBERS} numbers, agreement {agreed}/{NUMBERS} ({100 * agreed / NUMBERS:.2f} %); "
          + ", ".join(f"{name} {count}" for name, count in outcome.most_common()))
    assert unexplained == [], unexplained[:10]
    assert set(outcome) - {"agree, valid", "agree, invalid"} <= set(DISAGREEMENTS)
    # The run reaches both sides and most of the classes.
    assert outcome["agree, valid"] > NUMBERS // 4 and outcome["agree, invalid"] > NUMBERS // 10
    assert {"future birth date", "code not in use in the birth year", "residence permit code"} <= set(outcome)


def test_the_area_code_list_is_the_one_stdnum_ships_plus_the_documented_extras() -> None:
    from importlib import resources

    from kiosk.area_codes import entries_from_stdnum_loc

    shipped = resources.files("stdnum").joinpath("cn/loc.dat").read_text(encoding="utf-8")
    from_stdnum = {entry.code for entry in entries_from_stdnum_loc(shipped)}
    assert area_codes().codes == from_stdnum | set(EXTRA_CODES), "rebuild it: python -m kiosk.area_codes update"
