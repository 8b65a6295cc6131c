"""Provides the console's operator accounts and sessions: scrypt password hashes, lockout kept in the database, expiring sessions."""
from __future__ import annotations

# Every state lives in the database, so every worker and replica agrees and a restart forgets
# nothing: the wrong tries and the lock on the account row, the session as the SHA-256 of its
# cookie with its CSRF token and its end. The password is checked (slow, on purpose) outside any
# transaction; the count of wrong tries is one UPDATE, so two wrong tries at once both count.

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Literal

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError

from kiosk.errors import KioskError
from kiosk.maintenance.passwords import hash_password, verify_secret
from kiosk.ports import Clock
from kiosk.registry.database import Database
from kiosk.registry.models import OperatorAccount, OperatorSession, UtcDateTime

OPERATOR_ID_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,39}$")
"""An operator ID: 1 to 40 letters, digits, '.', '_' or '-' (it is written into the audit log)."""
_ACCOUNT = OperatorAccount.__table__  # type: ignore[attr-defined]
_SESSION = OperatorSession.__table__  # type: ignore[attr-defined]


class OperatorProblem(Exception):
    """An operator command that cannot be done (a malformed ID or password, an ID taken, no such operator)."""


@dataclass(frozen=True)
class OperatorRecord:
    operator_id: str
    created_at: datetime
    wrong_tries: int
    locked_at: datetime | None


@dataclass(frozen=True)
class SignIn:
    """What a sign-in got: a session (its cookie value and CSRF token), or a refusal."""

    outcome: Literal["signed_in", "wrong", "locked"]
    token: str = ""
    csrf: str = ""
    tries_left: int = 0


@dataclass(frozen=True)
class SignedIn:
    """The operator behind a live session cookie."""

    operator_id: str
    csrf: str
    expires_at: datetime


def _digest(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


class Operators:
    def __init__(self, database: Database, clock: Clock, lockout_tries: int, session_seconds: int) -> None:
        self._database = database
        self._clock = clock
        self.lockout_tries = lockout_tries
        self.session_seconds = session_seconds

    # ------------------------------------------------------------------ the command line
    def add(self, operator_id: str, password: str) -> None:
        """Raises: OperatorProblem: a malformed ID or password, or the ID is taken."""
        if not OPERATOR_ID_PATTERN.match(operator_id):
            raise OperatorProblem(f"operator ID {operator_id!r} must be 1 to 40 letters, digits, '.', '_' or '-'")
        try:
            stored = hash_password(password)
        except ValueError as exc:
            raise OperatorProblem(str(exc)) from None
        try:
            with self._database.connection("add an operator", writes=True) as connection:
                connection.execute(_ACCOUNT.insert().values(operator_id=operator_id, password_hash=stored,
                                                            created_at=self._clock.now(), wrong_tries=0))
        except KioskError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise OperatorProblem(f"operator {operator_id} exists already") from None
            raise

    def remove(self, operator_id: str) -> None:
        """Remove the account and end its sessions. Raises: OperatorProblem: no such operator."""
        with self._database.connection("remove an operator", writes=True) as connection:
            found = connection.execute(sa.select(_ACCOUNT.c.id).where(_ACCOUNT.c.operator_id == operator_id)).first()
            if found is None:
                raise OperatorProblem(f"no operator {operator_id}")
            connection.execute(_SESSION.delete().where(_SESSION.c.operator_id == found.id))
            connection.execute(_ACCOUNT.delete().where(_ACCOUNT.c.id == found.id))

    def unlock(self, operator_id: str) -> None:
        """Forget the wrong tries and lift the lock. Raises: OperatorProblem: no such operator."""
        with self._database.connection("unlock an operator", writes=True) as connection:
            done = connection.execute(_ACCOUNT.update().where(_ACCOUNT.c.operator_id == operator_id)
                                      .values(wrong_tries=0, locked_at=None))
        if done.rowcount != 1:
            raise OperatorProblem(f"no operator {operator_id}")

    def records(self) -> tuple[OperatorRecord, ...]:
        with self._database.connection("list operators") as connection:
            rows = connection.execute(sa.select(_ACCOUNT.c.operator_id, _ACCOUNT.c.created_at, _ACCOUNT.c.wrong_tries,
                                                _ACCOUNT.c.locked_at).order_by(_ACCOUNT.c.operator_id)).all()
        return tuple(OperatorRecord(*row) for row in rows)

    # ------------------------------------------------------------------ the console
    def sign_in(self, operator_id: str, password: str) -> SignIn:
        """Check the password; a right one opens a session, a wrong one counts (the limit locks the account).

        An unknown ID costs the same work as a wrong password and answers the same.
        """
        with self._database.connection("read an operator") as connection:
            account = connection.execute(sa.select(_ACCOUNT.c.id, _ACCOUNT.c.password_hash, _ACCOUNT.c.locked_at)
                                         .where(_ACCOUNT.c.operator_id == operator_id)).first()
        right = verify_secret(account.password_hash if account is not None else None, password[:128])
        if account is None:
            return SignIn("wrong", tries_left=self.lockout_tries)
        if account.locked_at is not None:
            return SignIn("locked")
        now = self._clock.now()
        with self._database.connection("sign an operator in", writes=True) as connection:
            if not right:
                tries = _ACCOUNT.c.wrong_tries + 1
                connection.execute(_ACCOUNT.update().where(_ACCOUNT.c.id == account.id, _ACCOUNT.c.locked_at.is_(None))
                                   .values(wrong_tries=tries,
                                           locked_at=sa.case((tries >= self.lockout_tries, sa.literal(now, UtcDateTime())), else_=None)))
                after = connection.execute(sa.select(_ACCOUNT.c.wrong_tries, _ACCOUNT.c.locked_at)
                                           .where(_ACCOUNT.c.id == account.id)).one()
                if after.locked_at is not None:
                    return SignIn("locked")
                return SignIn("wrong", tries_left=max(0, self.lockout_tries - after.wrong_tries))
            reset = connection.execute(_ACCOUNT.update().where(_ACCOUNT.c.id == account.id, _ACCOUNT.c.locked_at.is_(None))
                                       .values(wrong_tries=0))
            if reset.rowcount != 1:  # locked by a wrong try in between
                return SignIn("locked")
            connection.execute(_SESSION.delete().where(_SESSION.c.expires_at <= now))
            token, csrf = secrets.token_urlsafe(32), secrets.token_urlsafe(24)
            connection.execute(_SESSION.insert().values(
                token_hash=_digest(token), operator_id=account.id, csrf_token=csrf, created_at=now,
                expires_at=now + timedelta(seconds=self.session_seconds)))
        return SignIn("signed_in", token, csrf)

    def session(self, token: str | None) -> SignedIn | None:
        """The operator of a live session cookie; None when missing, unknown or expired."""
        if not token or len(token) > 100:
            return None
        query = (sa.select(_ACCOUNT.c.operator_id, _SESSION.c.csrf_token, _SESSION.c.expires_at)
                 .join(_ACCOUNT, _ACCOUNT.c.id == _SESSION.c.operator_id)
                 .where(_SESSION.c.token_hash == _digest(token), _SESSION.c.expires_at > self._clock.now()))
        with self._database.connection("check a console session") as connection:
            row = connection.execute(query).first()
        return SignedIn(*row) if row is not None else None

    def sign_out(self, token: str) -> None:
        with self._database.connection("sign an operator out", writes=True) as connection:
            connection.execute(_SESSION.delete().where(_SESSION.c.token_hash == _digest(token)))
