"""Provides activation tickets: QR token, typable user code, their hashes, and reading what the app sends."""
from __future__ import annotations

import hashlib
import re
import secrets
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kiosk.masking import mask_id

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
"""RFC 8628 section 6.1: consonants only, so no words and nothing to mistake for a digit."""
USER_CODE_LENGTH = 8
TOKEN_BYTES = 16
"""128 random bits: 22 characters of base64url, so <base>/<token> stays on one 80-column line (issue 14)."""
TOKEN_PARAMETER = "t"
"""The query parameter that carried the token in the last release's URLs (<base>?t=<token>), still read."""
TOKEN_PATTERN = re.compile(r"[A-Za-z0-9_-]{22,64}")
"""A token as a URL's last path segment: this release's 22 characters, the last release's 43."""

TicketState = Literal["pending", "activated", "expired", "revoked"]


@dataclass(frozen=True)
class ActivationTicket:
    """A freshly issued ticket: the secrets live only here, in memory; the registry keeps their hashes."""

    ticket_id: int
    ecard_id: int
    token: str
    user_code: str
    """Shown as XXXX-XXXX."""
    url: str
    """What the QR code encodes: the activation URL base with /<token>."""
    expires_at: datetime


@dataclass(frozen=True)
class ActivationResult:
    """An e-card the guardian's app just activated."""

    ticket_id: int
    ecard_id: int
    child_resident_id: str
    activated_at: datetime

    @property
    def child_masked_id(self) -> str:
        """The child's ID number as shown or logged: 4301**********0029."""
        return mask_id(self.child_resident_id)


@dataclass(frozen=True)
class ActivationKey:
    """What the app sent, reduced to the column and hash to look the ticket up by."""

    kind: Literal["token", "user_code"]
    digest: str


def new_token() -> str:
    """A fresh QR token: 16 random bytes, base64url without padding (22 characters)."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_user_code() -> str:
    """A fresh user code, 8 characters of USER_CODE_ALPHABET shown as XXXX-XXXX."""
    code = "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))
    return f"{code[:4]}-{code[4:]}"


def digest(secret: str) -> str:
    """The SHA-256 hex digest under which a token or normalised user code is stored."""
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


def normalise_user_code(text: str) -> str | None:
    """The 8 code characters of a typed user code (any case, dashes and spaces ignored), or None if it is none."""
    code = "".join(ch for ch in text.upper() if ch not in " -\t\u2010\u2011\u2012\u2013\u2014\uff0d")
    if len(code) == USER_CODE_LENGTH and all(ch in USER_CODE_ALPHABET for ch in code):
        return code
    return None


def activation_url(url_base: str, token: str) -> str:
    """The URL for the QR code: `url_base` with /<token> added to its path (its query and fragment kept,
    a `t` parameter of the last release's form dropped)."""
    parts = urllib.parse.urlsplit(url_base)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != TOKEN_PARAMETER]
    return urllib.parse.urlunsplit(parts._replace(path=f"{parts.path.rstrip('/')}/{token}",
                                                  query=urllib.parse.urlencode(query)))


def without_whitespace(text: str) -> str:
    """The text with every space, tab and line break taken out (a URL or code pasted across lines)."""
    return "".join(text.split())


def token_from_url(text: str) -> str | None:
    """The token of an activation URL: its last path segment, or the last release's t parameter; None if neither.

    Whitespace and line breaks anywhere in the text are ignored.
    """
    parts = urllib.parse.urlsplit(without_whitespace(text))
    values = urllib.parse.parse_qs(parts.query).get(TOKEN_PARAMETER)
    if values:
        return values[-1]
    segment = parts.path.rstrip("/").rpartition("/")[2]
    return segment if TOKEN_PATTERN.fullmatch(segment) else None


def activation_key(text: str) -> ActivationKey | None:
    """Read what the app sent: the full activation URL, the bare token, or the user code (whitespace and
    line breaks anywhere ignored: a URL pasted across lines, a code typed in groups).

    Returns:
        The hash to look the ticket up by, or None when the text is none of the three (also for
        text that is not Unicode: bytes that were not UTF-8 on a command line arrive as lone surrogates).
    """
    text = without_whitespace(text)
    if not text or not _is_unicode(text):
        return None
    if "?" in text or "://" in text:
        token = token_from_url(text)
        return ActivationKey("token", digest(token)) if token else None
    code = normalise_user_code(text)
    if code is not None:
        return ActivationKey("user_code", digest(code))
    return ActivationKey("token", digest(text))


def _is_unicode(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
