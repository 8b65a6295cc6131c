"""Provides LocalText: one piece of guardian-facing text in every language the kiosk speaks."""
from __future__ import annotations

from dataclasses import dataclass

LANGUAGES = ("zh", "en")
"""The languages the kiosk speaks, the first one being the default."""


@dataclass(frozen=True)
class LocalText:
    """A text in Chinese and English; `get` falls back to Chinese."""

    zh: str
    en: str

    def get(self, lang: str) -> str:
        """Return the text in `lang` ("zh" or "en")."""
        return self.en if lang == "en" else self.zh

    @classmethod
    def from_mapping(cls, value: object, where: str) -> "LocalText":
        """Build from a `{zh = "...", en = "..."}` table of a data file.

        Raises:
            ValueError: when a language is missing or empty, naming `where`.
        """
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a table with zh and en texts")
        missing = [lang for lang in LANGUAGES if not str(value.get(lang, "")).strip()]
        if missing:
            raise ValueError(f"{where}: missing text for {', '.join(missing)}")
        return cls(zh=str(value["zh"]).strip(), en=str(value["en"]).strip())


# Line breaking for guardian text (kiosk screens wrap Chinese and English alike).
# Chinese has no spaces between words: a line may end after any CJK character, so a long sentence fills its
# lines instead of jumping to the next line at the one space it contains (`电子社保卡 >`). The usual rule of
# Chinese typesetting (禁则, GB/T 15834 and W3C clreq) keeps closing punctuation off a line's start and opening
# punctuation off a line's end: such a character travels with its neighbour to the next line instead.
NO_LINE_START = frozenset("。，、；：？！）》」』】〕〉”’…—·%‰℃,.;:?!)]}>")
"""Closing punctuation: never the first character of a line."""
NO_LINE_END = frozenset("（《「『【〔〈“‘([{<")
"""Opening punctuation: never the last character of a line."""


def _cells(char: str) -> int:
    """Terminal cells of one character: East Asian wide and fullwidth characters take two."""
    import unicodedata

    if unicodedata.combining(char):
        return 0
    return 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1


def _breaks_between_any(char: str) -> bool:
    """True for a character after or before which a line may break without a space (CJK ideographs, kana,
    fullwidth punctuation)."""
    return _cells(char) == 2


def line_breaks(text: str, width: int, fold: bool = True) -> list[int]:
    """Where to break `text` so that no line is wider than `width` cells: the character offsets each new
    line starts at (the shape of rich's `divide_line`, which Textual wraps with).

    Breaks go at spaces (the space stays at the end of the line it follows), between two CJK characters, and
    between a CJK character and a Latin one; never before closing punctuation nor after opening punctuation.
    A run that has no break at all is folded by character (`fold`) or left to overflow.
    """
    if width <= 0:
        return []
    breaks: list[int] = []
    line_start = 0
    line_cells = 0
    last_break: int | None = None  # the latest offset a new line could start at, inside the current line
    for index, char in enumerate(text):
        if index > line_start and _may_break_before(text, index):
            last_break = index
        cells = _cells(char)
        if char == " " or line_cells + cells <= width:
            line_cells += cells  # spaces may hang past the edge: they are trimmed at the line's end
            continue
        # `char` does not fit: start a new line at the latest allowed break, or fold here.
        if last_break is not None and last_break > line_start:
            cut = last_break
        elif fold:
            cut = index
        else:
            line_cells += cells
            continue
        breaks.append(cut)
        line_start, last_break = cut, None
        line_cells = sum(_cells(c) for c in text[cut:index + 1])
        if line_cells > width and fold:  # the carried-over part is itself too wide: fold it by character
            breaks.append(index)
            line_start, line_cells = index, cells
    return breaks


def _may_break_before(text: str, index: int) -> bool:
    """True when a line may start at `text[index]` (the character before it ends the previous line)."""
    before, char = text[index - 1], text[index]
    if char == " ":
        return False  # a space ends the line it follows, it never starts one
    if char in NO_LINE_START or before in NO_LINE_END:
        return False
    if before == " ":
        return True
    return _breaks_between_any(before) or _breaks_between_any(char)
