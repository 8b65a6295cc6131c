"""Provides the registry's database: SQLite (WAL) or PostgreSQL engines and all-or-nothing transactions."""
from __future__ import annotations

import contextlib
import sqlite3
import urllib.parse
from pathlib import Path
from typing import Iterator

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy.pool import NullPool, StaticPool
from sqlmodel import Session

from kiosk.errors import KioskError

DEFAULT_BUSY_TIMEOUT_MS = 5000
CONNECT_TIMEOUT_S = 5
"""How long to wait for a database server that does not answer (PostgreSQL), unless the URL says otherwise."""

# What counts as "the database cannot be used": everything the driver reports (SQLAlchemy wraps
# it as a DBAPIError: OperationalError, DatabaseError, InterfaceError, IntegrityError, ...), a
# connection that dies, a pool that runs dry, and the file system under SQLite.
_UNAVAILABLE = (
    sqlalchemy.exc.DBAPIError,
    sqlalchemy.exc.DisconnectionError,
    sqlalchemy.exc.TimeoutError,
    sqlite3.Error,
    OSError,
)


@contextlib.contextmanager
def unavailable_as_kiosk_error(action: str) -> Iterator[None]:
    """Turn any database failure inside the block into KioskError("DATABASE_UNAVAILABLE")."""
    try:
        yield
    except _UNAVAILABLE as exc:
        raise KioskError("DATABASE_UNAVAILABLE", f"{action}: {type(exc).__name__}: {_first_line(exc)}") from exc


def _first_line(exc: BaseException) -> str:
    # SQLAlchemy appends the SQL and a help link; the first line says what happened.
    return str(exc).strip().splitlines()[0] if str(exc).strip() else ""


class Database:
    """An engine plus all-or-nothing transactions."""

    def __init__(self, engine: sa.Engine, url: str) -> None:
        self.engine = engine
        self.url = url

    @classmethod
    def open(cls, url: str, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> Database:
        """Make an engine for `url` without connecting yet (PostgreSQL) or after preparing the file (SQLite).

        SQLite files are opened read-write only, never created behind the kiosk's back: a file
        that disappears later is a failure, not a fresh empty database. Every connection runs
        with foreign keys on and a busy timeout; the file is switched to WAL once.

        Raises:
            KioskError: DATABASE_UNAVAILABLE when the URL is unusable or the SQLite file or its
                folder cannot be made.
        """
        try:
            parsed = sa.engine.make_url(url)
            if parsed.get_backend_name() == "sqlite":
                return cls(_sqlite_engine(parsed.database or "", busy_timeout_ms), url)
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is what the kiosk ships
            connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_S}
            engine = sa.create_engine(parsed, pool_pre_ping=True, connect_args=connect_args)
        except (sqlalchemy.exc.ArgumentError, ImportError) as exc:
            # The message may quote the URL, password and all: name only the kind of problem.
            raise KioskError("DATABASE_UNAVAILABLE", f"unusable database URL ({type(exc).__name__})") from None
        return cls(engine, url)

    @contextlib.contextmanager
    def transaction(self, action: str) -> Iterator[Session]:
        """A session whose work is committed at the end of the block, or not at all.

        Raises:
            KioskError: DATABASE_UNAVAILABLE for any database failure, after rolling back.
        """
        with unavailable_as_kiosk_error(action):
            with Session(self.engine, expire_on_commit=False) as session:
                with session.begin():
                    yield session

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()


def _sqlite_engine(database: str, busy_timeout_ms: int) -> sa.Engine:
    pragmas = (f"PRAGMA busy_timeout = {int(busy_timeout_ms)}", "PRAGMA foreign_keys = ON")
    if database in ("", ":memory:"):
        # One shared in-memory database (tests, demos): a single connection kept for good.
        def connect_memory() -> sqlite3.Connection:
            connection = sqlite3.connect(":memory:", check_same_thread=False)
            for pragma in pragmas:
                connection.execute(pragma)
            return connection

        return sa.create_engine("sqlite://", creator=connect_memory, poolclass=StaticPool)

    path = Path(database).expanduser().absolute()
    with unavailable_as_kiosk_error(f"prepare {path}"):
        path.parent.mkdir(parents=True, exist_ok=True)
        first = sqlite3.connect(path)  # creates the file if it is not there yet
        try:
            first.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
            first.execute("PRAGMA journal_mode = WAL")
        finally:
            first.close()
    uri = f"file:{urllib.parse.quote(str(path))}?mode=rw"

    def connect_file() -> sqlite3.Connection:
        connection = sqlite3.connect(uri, uri=True, check_same_thread=False, timeout=busy_timeout_ms / 1000)
        for pragma in pragmas:
            connection.execute(pragma)
        return connection

    # No pool: every transaction opens the file afresh, so a file that vanished or turned
    # read-only is noticed at once rather than hidden behind a connection that still works.
    return sa.create_engine("sqlite://", creator=connect_file, poolclass=NullPool)
