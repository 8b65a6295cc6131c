"""Provides `use_kiosk_line_breaking`: every text the kiosk draws wraps by kiosk.text's rules (CJK by character)."""
from __future__ import annotations

import textual.content

from kiosk.text import line_breaks


def use_kiosk_line_breaking() -> None:
    """Make Textual wrap text with `kiosk.text.line_breaks` instead of rich's space-only `divide_line`.

    Textual offers no setting for how lines break; its Content wraps every Static's text through the one
    `divide_line` function its module imported. Replacing that name is the only place where one rule reaches
    every screen, the guardian's and the technician's alike, and it has the same signature and meaning.
    The check below fails loudly (and the tests with it) if a Textual upgrade stops wrapping this way.
    """
    if not callable(getattr(textual.content, "divide_line", None)):
        raise RuntimeError("textual.content no longer wraps through divide_line: update screens/line_breaking.py")
    textual.content.divide_line = line_breaks  # type: ignore[attr-defined]
