"""Provides `message`: the text for a key in a language, from the gettext catalogues (see kiosk/i18n)."""
from __future__ import annotations

from kiosk.i18n import N_, message, plural

__all__ = ["N_", "message", "plural"]
