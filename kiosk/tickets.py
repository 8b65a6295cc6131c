"""Provides activation tickets: QR token, typable user code, their hashes, and reading what the app sends."""
from __future__ import annotations

import hashlib
import secrets
import urllib.parse
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from kiosk.masking import mask_id

USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
"""RFC 8628 section 6.1: consonants only, so no words and nothing to mistake for a digit."""
USER_CODE_LENGTH = 8
TOKEN_BYTES = 32
TOKEN_PARAMETER = "t"
"""The query parameter of the activation URL that carries the token."""

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
    """What the QR code encodes: the activation URL base with ?t=<token>."""
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
    """A fresh QR token: 32 random bytes, URL-safe base64 (43 characters)."""
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
    """The URL for the QR code: `url_base` with t=<token> added to any query it already has."""
    parts = urllib.parse.urlsplit(url_base)
    query = [(k, v) for k, v in urllib.parse.parse_qsl(parts.query, keep_blank_values=True) if k != TOKEN_PARAMETER]
    query.append((TOKEN_PARAMETER, token))
    return urllib.parse.urlunsplit(parts._replace(query=urllib.parse.urlencode(query)))


def token_from_url(text: str) -> str | None:
    """The token in an activation URL's t parameter, or None when there is none."""
    parts = urllib.parse.urlsplit(text.strip())
    values = urllib.parse.parse_qs(parts.query).get(TOKEN_PARAMETER)
    return values[-1] if values else None


def activation_key(text: str) -> ActivationKey | None:
    """Read what the app sent: the full activation URL, the bare token, or the user code.

    Returns:
        The hash to look the ticket up by, or None when the text is none of the three (also for
        text that is not Unicode: bytes that were not UTF-8 on a command line arrive as lone surrogates).
    """
    text = text.strip()
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
