"""Provides technician PIN hashes: the two stored formats (scrypt, PBKDF2-SHA256), making one, checking one in constant time."""
from __future__ import annotations

import re
from dataclasses import dataclass

# hashlib, hmac and secrets are imported where a PIN is hashed or checked: the technician door is built before the
# kiosk's first screen, and nothing there hashes a PIN (hashlib loads OpenSSL).

SCRYPT_N = 2**14
SCRYPT_R = 8
SCRYPT_P = 1
PBKDF2_ITERATIONS = 600_000
SALT_BYTES = 16
KEY_BYTES = 32
PIN_PATTERN = re.compile(r"^[0-9]{5,12}$")
"""A technician PIN: 5 to 12 digits (typable on a kiosk's keypad)."""
TECHNICIAN_ID_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,20}$")
"""A technician ID: 1 to 20 letters, digits, '-' or '_' (e.g. T0001)."""

_SCRYPT = re.compile(r"^scrypt\$(\d+)\$(\d+)\$(\d+)\$([0-9a-f]+)\$([0-9a-f]+)$")
_PBKDF2 = re.compile(r"^pbkdf2_sha256\$(\d+)\$([0-9a-f]+)\$([0-9a-f]+)$")
FORMATS = "scrypt$N$r$p$<salt hex>$<hash hex> or pbkdf2_sha256$<iterations>$<salt hex>$<hash hex>"
"""The stored formats, as an error message names them."""


@dataclass(frozen=True)
class PinHash:
    """A parsed stored hash: scheme, its cost parameters, salt and derived key."""

    scheme: str  # "scrypt" or "pbkdf2_sha256"
    salt: bytes
    key: bytes
    n: int = 0
    r: int = 0
    p: int = 0
    iterations: int = 0

    def derive(self, pin: str) -> bytes:
        """The key this hash's scheme and parameters derive from `pin` (slow on purpose)."""
        import hashlib

        secret = pin.encode("utf-8")
        if self.scheme == "scrypt":
            return hashlib.scrypt(secret, salt=self.salt, n=self.n, r=self.r, p=self.p,
                                  maxmem=128 * self.r * self.n * self.p + (1 << 20), dklen=len(self.key))
        return hashlib.pbkdf2_hmac("sha256", secret, self.salt, self.iterations, dklen=len(self.key))

    def matches(self, pin: str) -> bool:
        """True when `pin` derives this hash's key (compared in constant time)."""
        import hmac

        return hmac.compare_digest(self.derive(pin), self.key)


def parse_pin_hash(text: str) -> PinHash:
    """Read a stored hash, checking that its parameters are sane (not too cheap, not absurdly costly).

    Raises:
        ValueError: naming what is wrong; the message never repeats the hash.
    """
    text = text.strip()
    found = _SCRYPT.match(text)
    if found:
        n, r, p = (int(found.group(i)) for i in (1, 2, 3))
        if n < 2**12 or n > 2**20 or n & (n - 1):
            raise ValueError("scrypt N must be a power of two from 4096 to 1048576")
        if not (1 <= r <= 32 and 1 <= p <= 16):
            raise ValueError("scrypt r must be 1..32 and p 1..16")
        salt, key = _hex(found.group(4), "salt"), _hex(found.group(5), "hash")
        return PinHash("scrypt", salt, key, n=n, r=r, p=p)
    found = _PBKDF2.match(text)
    if found:
        iterations = int(found.group(1))
        if not 100_000 <= iterations <= 10_000_000:
            raise ValueError("pbkdf2_sha256 iterations must be 100000..10000000")
        salt, key = _hex(found.group(2), "salt"), _hex(found.group(3), "hash")
        return PinHash("pbkdf2_sha256", salt, key, iterations=iterations)
    raise ValueError(f"not a PIN hash; expected {FORMATS}")


def _hex(text: str, what: str) -> bytes:
    if len(text) % 2:
        raise ValueError(f"the {what} has an odd number of hex digits")
    value = bytes.fromhex(text)
    low = 8 if what == "salt" else 16
    if not low <= len(value) <= 64:
        raise ValueError(f"the {what} must be {low} to 64 bytes")
    return value


def _fresh_salt() -> bytes:
    import secrets

    return secrets.token_bytes(SALT_BYTES)


def hash_pin(pin: str, scheme: str = "scrypt", salt: bytes | None = None) -> str:
    """Make the stored form of a technician PIN (a fresh random salt unless given).

    Raises:
        ValueError: for a PIN that is not 5 to 12 digits, or an unknown scheme.
    """
    if not PIN_PATTERN.match(pin):
        raise ValueError("a technician PIN is 5 to 12 digits")
    salt = _fresh_salt() if salt is None else salt
    if scheme == "scrypt":
        parsed = PinHash("scrypt", salt, bytes(KEY_BYTES), n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
        return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${parsed.derive(pin).hex()}"
    if scheme == "pbkdf2_sha256":
        parsed = PinHash("pbkdf2_sha256", salt, bytes(KEY_BYTES), iterations=PBKDF2_ITERATIONS)
        return f"pbkdf2_sha256${PBKDF2_ITERATIONS}${salt.hex()}${parsed.derive(pin).hex()}"
    raise ValueError(f"unknown scheme {scheme!r}: scrypt or pbkdf2_sha256")


# Checked against when the ID typed is unknown, so a wrong ID costs the same time as a wrong PIN.
_DECOY = PinHash("scrypt", b"\x00" * SALT_BYTES, b"\x00" * KEY_BYTES, n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)


def verify_technician(hashes: dict[str, PinHash], technician_id: str, pin: str) -> bool:
    """True when `technician_id` is known and `pin` is theirs; an unknown ID spends the same work."""
    stored = hashes.get(technician_id)
    matched = (stored or _DECOY).matches(pin)
    return stored is not None and matched


PASSWORD_LENGTHS = (10, 128)
"""An operator password (the registry service's console): 10 to 128 characters, no control characters."""


def hash_password(password: str, salt: bytes | None = None) -> str:
    """The stored form of an operator password: the scrypt format of `hash_pin`, for any password of PASSWORD_LENGTHS.

    Raises:
        ValueError: for a password too short, too long, or with control characters.
    """
    low, high = PASSWORD_LENGTHS
    if not low <= len(password) <= high:
        raise ValueError(f"a password is {low} to {high} characters")
    if any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in password):
        raise ValueError("a password has no control characters")
    salt = _fresh_salt() if salt is None else salt
    parsed = PinHash("scrypt", salt, bytes(KEY_BYTES), n=SCRYPT_N, r=SCRYPT_R, p=SCRYPT_P)
    return f"scrypt${SCRYPT_N}${SCRYPT_R}${SCRYPT_P}${salt.hex()}${parsed.derive(password).hex()}"


def verify_secret(stored: str | None, secret: str) -> bool:
    """True when `secret` derives the `stored` hash; a missing or unusable hash spends the same work and is False."""
    try:
        parsed = parse_pin_hash(stored) if stored else None
    except ValueError:
        parsed = None
    matched = (parsed or _DECOY).matches(secret)
    return parsed is not None and matched
