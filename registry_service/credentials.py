"""Provides kiosk credentials: made and revoked by the operator, kept as SHA-256 hashes, checked on every kiosk request."""
from __future__ import annotations

# A credential is 256 random bits (43 characters of base64url). A secret that strong needs no slow
# hash: SHA-256 of it cannot be reversed or guessed, and it is one indexed lookup per request.

import hashlib
import secrets
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from kiosk.errors import KioskError
from kiosk.ports import Clock
from kiosk.registry.database import Database
from kiosk.registry.models import LIVE_CREDENTIAL, KioskCredential

CREDENTIAL_BYTES = 32
KIOSK_ID_PATTERN = r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$"
"""What an operator may call a kiosk: 1-40 letters, digits, '.', '_' or '-' (the audit's kiosk_id column)."""

RefusalReason = Literal["missing", "malformed", "unknown", "revoked"]


class CredentialRefused(Exception):
    """A kiosk request without a usable credential (401); `reason` is for the kiosk's technician."""

    def __init__(self, reason: RefusalReason, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


class CredentialProblem(Exception):
    """An operator's credential command that cannot be done (a kiosk that has a live credential, or none)."""


@dataclass(frozen=True)
class CredentialRecord:
    """A credential as the operator lists it (never its secret)."""

    kiosk_id: str
    created_at: datetime
    revoked_at: datetime | None
    revoked_reason: str | None


def new_secret() -> str:
    return secrets.token_urlsafe(CREDENTIAL_BYTES)


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode("utf-8")).hexdigest()


class Credentials:
    """The kiosk credentials in the registry database, and the check of a presented one.

    `cache_seconds`: a credential found live is trusted that long without asking the database again
    (one query less per request); a revocation reaches every worker within that time.
    """

    def __init__(self, database: Database, clock: Clock, cache_seconds: float = 0.0) -> None:
        self._database = database
        self._clock = clock
        self._cache_seconds = cache_seconds
        self._live: dict[str, tuple[str, float]] = {}
        self._lock = threading.Lock()
        table = KioskCredential.__table__  # type: ignore[attr-defined]
        self._lookup = sa.select(table.c.kiosk_id, table.c.revoked_at, table.c.revoked_reason).where(
            table.c.secret_hash == sa.bindparam("digest"))

    # ------------------------------------------------------------------ operator
    def add(self, kiosk_id: str) -> str:
        """A new credential for the kiosk; returns its secret (shown once, never kept).

        Raises:
            CredentialProblem: the kiosk has a live credential (revoke it first).
        """
        secret = new_secret()
        try:
            with self._database.transaction("add a kiosk credential", writes=True) as session:
                session.add(KioskCredential(kiosk_id=kiosk_id, secret_hash=secret_hash(secret),
                                            created_at=self._clock.now()))
        except KioskError as exc:  # the unique index on live credentials, wrapped by the database layer
            if isinstance(exc.__cause__, IntegrityError):
                raise CredentialProblem(f"kiosk {kiosk_id} has a live credential: revoke it first "
                                        f"(ecard-registry kiosk revoke {kiosk_id})") from None
            raise
        return secret

    def revoke(self, kiosk_id: str, reason: str = "") -> None:
        """Revoke the kiosk's live credential.

        Raises:
            CredentialProblem: the kiosk has no live credential.
        """
        table = KioskCredential.__table__  # type: ignore[attr-defined]
        with self._database.transaction("revoke a kiosk credential", writes=True) as session:
            done = session.execute(
                sa.update(table).where(table.c.kiosk_id == kiosk_id, sa.text(LIVE_CREDENTIAL))
                .values(revoked_at=self._clock.now(), revoked_reason=reason[:200] or "revoked by the operator"))
        if done.rowcount != 1:
            raise CredentialProblem(f"kiosk {kiosk_id} has no live credential")

    def records(self) -> tuple[CredentialRecord, ...]:
        """Every credential ever made, by kiosk, oldest first."""
        with self._database.transaction("list kiosk credentials") as session:
            rows = session.exec(select(KioskCredential).order_by(KioskCredential.kiosk_id, KioskCredential.id)).all()
        return tuple(CredentialRecord(r.kiosk_id, r.created_at, r.revoked_at, r.revoked_reason) for r in rows)

    # ------------------------------------------------------------------ requests
    def known(self, authorization: str | None) -> str | None:
        """The kiosk of a credential found live within the cache time, without a database query; None if not
        (ask `kiosk_for`).

        Raises:
            CredentialRefused: missing or malformed (no database needed to tell).
        """
        digest = self.digest(authorization)
        cached = self._live.get(digest) if self._cache_seconds > 0 else None
        return cached[0] if cached is not None and cached[1] > time.monotonic() else None

    def kiosk_for(self, authorization: str | None) -> str:
        """The kiosk an `Authorization: Bearer <credential>` header names (a database query, unless cached).

        Raises:
            CredentialRefused: missing, malformed, unknown or revoked.
            KioskError: DATABASE_UNAVAILABLE.
        """
        known = self.known(authorization)
        if known is not None:
            return known
        with self._database.connection("check a kiosk credential") as connection:
            return self.kiosk_on(connection, authorization)

    def kiosk_on(self, connection: sa.Connection, authorization: str | None) -> str:
        """`kiosk_for` inside a transaction the caller holds (a route doing its own work on the same connection).

        Raises:
            CredentialRefused: missing, malformed, unknown or revoked.
        """
        known = self.known(authorization)
        if known is not None:
            return known
        digest = self.digest(authorization)
        row = connection.execute(self._lookup, {"digest": digest}).first()
        if row is None or row.revoked_at is not None:
            raise _refusal(row)
        if self._cache_seconds > 0:
            with self._lock:
                if len(self._live) > 10_000:
                    self._live.clear()
                self._live[digest] = (row.kiosk_id, time.monotonic() + self._cache_seconds)
        return row.kiosk_id

    def refuse(self, connection: sa.Connection, digest: str) -> CredentialRefused:
        """Why the credential of `digest` named no live kiosk in a statement of the caller's (the heartbeat's
        upsert joined to the live credential): unknown, or revoked (when, and the operator's reason). A secret is
        never issued twice, so one that matched no live credential cannot have become live since."""
        return _refusal(connection.execute(self._lookup, {"digest": digest}).first())

    @staticmethod
    def digest(authorization: str | None) -> str:
        """The SHA-256 (hex) of the credential an `Authorization: Bearer <credential>` header carries: what the
        database keeps, worked out without it.

        Raises:
            CredentialRefused: missing or malformed.
        """
        if not authorization:
            raise CredentialRefused("missing", "no Authorization header: send 'Authorization: Bearer <credential>'")
        scheme, _, secret = authorization.strip().partition(" ")
        secret = secret.strip()
        if scheme.lower() != "bearer" or not secret or len(secret) > 200 or not secret.isascii():
            raise CredentialRefused("malformed", "the Authorization header is not 'Bearer <credential>'")
        return secret_hash(secret)


def _refusal(row: sa.Row | None) -> CredentialRefused:
    """The refusal of a credential whose row is `row` (None: not one the registry issued)."""
    if row is None or row.revoked_at is None:
        return CredentialRefused("unknown", "this credential is not one the registry issued")
    return CredentialRefused("revoked", f"the credential of kiosk {row.kiosk_id} was revoked at "
                                        f"{row.revoked_at:%Y-%m-%d %H:%M} UTC: {row.revoked_reason}")
