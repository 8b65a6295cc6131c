"""Provides the kiosk's words from gettext message catalogues (`kiosk/locale/<locale>/LC_MESSAGES/kiosk.mo`).

Msgids are stable keys ("pin.heading"), and every language, English too, is a translation of them:
so a missing English text is as visible as a missing Chinese one, and `python -m kiosk.i18n.tool
check` (run by the tests) fails when a key the code uses is missing or empty in any catalogue.
The `.po` files are the sources; the `.mo` files are compiled from them with Babel
(`python -m kiosk.i18n.tool compile`) and kept in the repository, so the kiosk needs no build step.
"""
from __future__ import annotations

import gettext
from functools import lru_cache

from kiosk.embedded import LOCALE_DIR
from kiosk.text import LANGUAGES

DOMAIN = "kiosk"
LOCALES: dict[str, str] = {"zh": "zh_CN", "en": "en"}
"""The kiosk's language codes and the gettext locale of each."""


class CatalogueError(RuntimeError):
    """A compiled catalogue is missing or unreadable: the kiosk cannot speak that language."""


@lru_cache(maxsize=None)
def catalogue(lang: str) -> gettext.GNUTranslations:
    """The compiled catalogue of `lang` ("zh" or "en"; anything else is Chinese, the default).

    Raises:
        CatalogueError: when the `.mo` file is missing or broken.
    """
    locale = LOCALES.get(lang, LOCALES[LANGUAGES[0]])
    try:
        return gettext.translation(DOMAIN, LOCALE_DIR, languages=[locale])  # type: ignore[return-value]
    except (OSError, ValueError) as exc:
        raise CatalogueError(f"message catalogue {locale} ({LOCALE_DIR}): {exc}") from exc


def N_(key: str) -> str:  # noqa: N802 - the gettext convention for "a key, looked up later"
    """Mark `key` as a catalogue key used later (the extractor and the check find it here)."""
    return key


def message(key: str, lang: str, **values: object) -> str:
    """The text for `key` in `lang`, with `{name}` placeholders filled from `values`.

    A key missing from the catalogue comes back as the key itself (gettext's rule), which the
    catalogue check in the tests catches before any guardian does.
    """
    text = catalogue(lang).gettext(key)
    return text.format(**values) if values else text


def plural(key: str, count: int, lang: str, **values: object) -> str:
    """The text for `key` with the plural form `count` asks for in `lang` ("1 try" / "2 tries"); `{n}` is `count`."""
    text = catalogue(lang).ngettext(key, key + ".plural", count)
    return text.format(n=count, **values)


def has_message(key: str, lang: str) -> bool:
    """True when `lang`'s catalogue has a text for `key`."""
    return catalogue(lang).gettext(key) != key
