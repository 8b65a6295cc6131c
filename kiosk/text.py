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
