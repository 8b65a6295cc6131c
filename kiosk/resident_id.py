"""Provides ResidentId: the 18-character resident identity number (GB 11643-1999), parsed, checked and masked."""
from __future__ import annotations

import enum
import unicodedata
from dataclasses import dataclass
from datetime import date

from kiosk.area_codes import area_codes
from kiosk.masking import mask_id

LENGTH = 18
WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
PROVINCE_CODES = frozenset(
    # GB/T 2260 provinces, autonomous regions, municipalities and special administrative regions; 83: the residence
    # permits of Taiwan residents (kiosk.area_codes.EXTRA_CODES).
    "11 12 13 14 15 21 22 23 31 32 33 34 35 36 37 41 42 43 44 45 46 50 51 52 53 54 61 62 63 64 65 71 81 82 83".split()
)
EARLIEST_BIRTH = date(1800, 1, 1)
"""No living person, and no record the kiosk will meet, is born before this."""

_SEPARATORS = frozenset(" -\t\u3000\u2010\u2011\u2012\u2013\u2014\uff0d")
# Besides these, any whitespace (a trailing newline, a non-breaking space from a paste) and any format character
# (zero-width space, BOM) is dropped; full-width digits and Ｘ (what a Chinese IME types) count as 0-9 and X.
_WIDE_X = frozenset("Xx\uff38\uff58")
_AREA = slice(0, 6)
_BIRTH = slice(6, 14)
_SEQUENCE = slice(14, 17)


class ResidentIdReason(str, enum.Enum):
    """Why a text is not a resident ID number."""

    LENGTH = "length"  # not 18 characters
    CHARACTER = "character"  # a character that cannot stand where it stands
    AREA = "area"  # the first 6 digits are no plausible area code
    DATE = "date"  # the birth date does not exist, or lies in the future
    CHECKSUM = "checksum"  # the last character is not the MOD 11-2 check of the first 17


class ResidentIdError(ValueError):
    """A text that is not a valid resident ID number.

    `position` is the 0-based index, in the text as given, of the character to point at:
    the first bad character for CHARACTER, the first character of the area code or birth
    date for AREA and DATE, the check character for CHECKSUM; None for LENGTH.
    """

    def __init__(self, reason: ResidentIdReason, position: int | None, message: str) -> None:
        super().__init__(message)
        self.reason = reason
        self.position = position


@dataclass(frozen=True)
class ResidentId:
    """A valid resident ID number; `text` holds its 18 characters, a final x upper-cased."""

    text: str

    @classmethod
    def parse(cls, text: str, today: date | None = None, *, county_level: bool = True) -> ResidentId:
        """Check a typed ID number and return it.

        Spaces and dashes between characters are ignored ("430102 19880315 0016",
        "430102-19880315-0016"), and so is any other whitespace or format character (a trailing
        newline, a non-breaking space); full-width digits count as digits, a final x or Ｘ as X.

        Args:
            text: the number as typed or read.
            today: birth dates after this day are refused; None skips that check.
            county_level: the area code must be a GB/T 2260 code (config/gbt2260-area-codes.txt,
                retired codes included); False: a plausible province is enough (a number read
                from a card, which the kiosk must not refuse for a code its list lacks).
        Raises:
            ResidentIdError: with the first reason found, in the order CHARACTER, LENGTH,
                AREA, DATE, CHECKSUM.
        """
        chars, positions = _normalise(text)
        bad = _first_bad_character(chars)
        if bad is not None:
            raise ResidentIdError(
                ResidentIdReason.CHARACTER, positions[bad], f"character {bad + 1} ({chars[bad]!r}) cannot stand there"
            )
        if len(chars) != LENGTH:
            raise ResidentIdError(ResidentIdReason.LENGTH, None, f"{len(chars)} characters instead of {LENGTH}")
        if not _area_possible(chars[_AREA], county_level):
            raise ResidentIdError(ResidentIdReason.AREA, positions[0], f"{chars[_AREA]} is no area code")
        if _birth_date(chars[_BIRTH], today) is None:
            raise ResidentIdError(
                ResidentIdReason.DATE, positions[_BIRTH.start], f"{chars[_BIRTH]} is no possible birth date"
            )
        if check_char(chars[:17]) != chars[17]:
            raise ResidentIdError(ResidentIdReason.CHECKSUM, positions[17], "the check character does not match")
        return cls(chars)

    def __str__(self) -> str:
        return self.text

    @property
    def area_code(self) -> str:
        """The 6-digit address code of the place of household registration at birth."""
        return self.text[_AREA]

    @property
    def birth_date(self) -> date:
        """The birth date the number carries."""
        born = _birth_date(self.text[_BIRTH], None)
        assert born is not None  # parse() let only real dates through
        return born

    @property
    def sex(self) -> str:
        """ "1" male (odd sequence number), "2" female (even), as on the card."""
        return "1" if int(self.text[_SEQUENCE]) % 2 else "2"

    def age_on(self, day: date) -> int:
        """Full years of age on `day` (someone born on 29 February turns a year older on 1 March)."""
        born = self.birth_date
        return day.year - born.year - ((day.month, day.day) < (born.month, born.day))

    @property
    def masked(self) -> str:
        """First 4 and last 4 characters only: 4301**********0016."""
        return mask_id(self.text)

    @property
    def grouped(self) -> str:
        """Area code, birth date and the rest apart: 430102 19880315 0016."""
        return f"{self.text[_AREA]} {self.text[_BIRTH]} {self.text[14:]}"


def check_char(first17: str) -> str:
    """The ISO 7064 MOD 11-2 check character of the first 17 digits."""
    return CHECK_CHARS[sum(int(digit) * weight for digit, weight in zip(first17, WEIGHTS)) % 11]


def check_partial(text: str, today: date | None = None) -> int | None:
    """Live feedback while an ID number is typed.

    Returns:
        The 0-based position, in `text`, of the first character that cannot be right whatever
        follows it (a letter, an impossible area code, a birth date that cannot exist or lies
        after `today`, a wrong check character, a 19th character), or None while the text can
        still become a valid number.
    """
    chars, positions = _normalise(text)
    for end in range(1, len(chars) + 1):
        if not _prefix_possible(chars[:end], today):
            return positions[end - 1]
    return None


def _normalise(text: str) -> tuple[str, list[int]]:
    """Drop separators, whitespace and format characters, read wide digits as digits; return the characters and
    where each stood in `text`."""
    chars: list[str] = []
    positions: list[int] = []
    for index, char in enumerate(text):
        if char in _SEPARATORS or char.isspace() or unicodedata.category(char) == "Cf":
            continue
        if char in _WIDE_X:
            char = "X"
        elif not char.isascii() and unicodedata.category(char) == "Nd":
            # Full-width (and mathematical) digits: NFKC gives the ASCII digit. Other scripts' digits stay as they
            # are, and are refused as characters.
            char = unicodedata.normalize("NFKC", char)
        chars.append(char)
        positions.append(index)
    return "".join(chars), positions


def _char_allowed(index: int, char: str) -> bool:
    if index < 17:
        return char in "0123456789"
    if index == 17:
        return char in "0123456789X"
    return True  # too long is a LENGTH matter, not a character matter


def _first_bad_character(chars: str) -> int | None:
    return next((i for i, char in enumerate(chars) if not _char_allowed(i, char)), None)


def _area_possible(prefix: str, county_level: bool = True) -> bool:
    """Whether the area code can start with `prefix` (1 to 6 digits): a GB/T 2260 code does, or (not county_level)
    a province does."""
    if county_level:
        return area_codes().prefix_possible(prefix)
    if not "1" <= prefix[0] <= "8":
        return False
    return len(prefix) < 2 or prefix[:2] in PROVINCE_CODES


def _birth_date(digits: str, today: date | None) -> date | None:
    try:
        born = date(int(digits[:4]), int(digits[4:6]), int(digits[6:8]))
    except ValueError:
        return None
    if born < EARLIEST_BIRTH or (today is not None and born > today):
        return None
    return born


def _birth_prefix_possible(prefix: str, today: date | None) -> bool:
    """Whether some possible birth date starts with `prefix` (1 to 8 digits of YYYYMMDD)."""
    last_year = today.year if today is not None else 9999
    years = [y for y in range(EARLIEST_BIRTH.year, last_year + 1) if f"{y:04d}".startswith(prefix[:4])]
    if len(prefix) <= 4 or not years:
        return bool(years)
    year = years[0]  # four digits typed: one year
    for month in range(1, 13):
        if not f"{month:02d}".startswith(prefix[4:6]):
            continue
        for day in range(1, 32):
            if f"{day:02d}".startswith(prefix[6:8]) and _birth_date(f"{year:04d}{month:02d}{day:02d}", today):
                return True
    return False


def _prefix_possible(prefix: str, today: date | None) -> bool:
    end = len(prefix)
    if end > LENGTH or not _char_allowed(end - 1, prefix[-1]):
        return False
    if not _area_possible(prefix[: min(end, 6)]):
        return False
    if end > _BIRTH.start and not _birth_prefix_possible(prefix[_BIRTH.start : min(end, _BIRTH.stop)], today):
        return False
    return end < LENGTH or check_char(prefix[:17]) == prefix[17]
