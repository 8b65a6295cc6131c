"""Provides read_credential: the kiosk's credential for the registry service, read from its file.

Apart from the HTTP adapter (kiosk.registry.service_client) so that a kiosk can check its credential
before its first screen without loading httpx and pydantic, which only its first call to the service needs.
"""
from __future__ import annotations

from pathlib import Path

from kiosk.errors import KioskError

CREDENTIAL_MIN_LENGTH = 32


def read_credential(path: Path | str) -> str:
    """The kiosk's credential from its file (what `ecard-registry kiosk add` printed; whitespace around it ignored).

    Raises:
        KioskError: SERVICE_CREDENTIAL_REFUSED when the file is missing, unreadable, empty, or holds no credential.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise KioskError("SERVICE_CREDENTIAL_REFUSED", f"the credential file {path} does not exist") from None
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not ASCII text"
        raise KioskError("SERVICE_CREDENTIAL_REFUSED", f"the credential file {path} cannot be read: {reason}") from None
    if len(text) < CREDENTIAL_MIN_LENGTH or any(ch.isspace() for ch in text):
        raise KioskError("SERVICE_CREDENTIAL_REFUSED",
                         f"the credential file {path} holds no credential (one line of {CREDENTIAL_MIN_LENGTH}+ characters)")
    return text
