"""Provides the registry's database: SQLite (WAL) or PostgreSQL engines and all-or-nothing transactions."""
from __future__ import annotations

import contextlib
import sqlite3
import threading
import time
import urllib.parse
from pathlib import Path
from typing import Any, Iterator

import sqlalchemy as sa
import sqlalchemy.exc
from sqlalchemy import event
from sqlalchemy.pool import NullPool, StaticPool
from sqlmodel import Session

from kiosk.errors import KioskError

DEFAULT_BUSY_TIMEOUT_MS = 5000
BATCH_CACHE_KIB = 65536
"""SQLite page cache of a connection that works in batches (64 MiB; the default is 2 MiB)."""
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


_BEGIN_OPTION = "kiosk_sqlite_begin"
"""The execution option that tells a SQLite connection how to begin its transaction."""


class Database:
    """An engine plus all-or-nothing transactions."""

    def __init__(self, engine: sa.Engine, url: str, sqlite_file: Path | None = None) -> None:
        self.engine = engine
        self.url = url
        # The one connection of an in-memory database is shared: one transaction at a time on it.
        self._memory_lock = threading.Lock() if isinstance(engine.pool, StaticPool) else None
        self._sqlite_file = sqlite_file
        self._anchor: sqlite3.Connection | None = None
        self._anchor_lock = threading.Lock()

    @property
    def sqlite_file(self) -> Path | None:
        """The SQLite database file; None for PostgreSQL and in-memory databases."""
        return self._sqlite_file

    @property
    def dialect(self) -> str:
        """"sqlite" or "postgresql"."""
        return self.engine.dialect.name

    @classmethod
    def open(
        cls, url: str, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS, *, pool_size: int | None = None,
        pre_ping: bool = True,
    ) -> Database:
        """Make an engine for `url` without connecting yet (PostgreSQL) or after preparing the file (SQLite).

        SQLite files are opened read-write only, never created behind the kiosk's back: a file
        that disappears later is a failure, not a fresh empty database. Every connection runs
        with foreign keys on and a busy timeout; the file is switched to WAL once.

        Args:
            pool_size: PostgreSQL: connections kept open (as many more may be opened at a peak);
                SQLAlchemy's default (5) when None. A service with many kiosks sets its own.
            pre_ping: PostgreSQL: test a pooled connection before each use (one more round trip;
                a service that recycles its connections and answers failures itself may do without).
        Raises:
            KioskError: DATABASE_UNAVAILABLE when the URL is unusable or the SQLite file or its
                folder cannot be made.
        """
        try:
            parsed = sa.engine.make_url(url)
            if parsed.get_backend_name() == "sqlite":
                engine, path = _sqlite_engine(parsed.database or "", busy_timeout_ms)
                return cls(engine, url, path)
            if parsed.drivername == "postgresql":
                parsed = parsed.set(drivername="postgresql+psycopg")  # psycopg 3 is what the kiosk ships
            connect_args = {} if "connect_timeout" in parsed.query else {"connect_timeout": CONNECT_TIMEOUT_S}
            sizes = {} if pool_size is None else {"pool_size": pool_size, "max_overflow": pool_size}
            engine = sa.create_engine(parsed, pool_pre_ping=pre_ping, connect_args=connect_args, **sizes)
        except (sqlalchemy.exc.ArgumentError, ImportError) as exc:
            # The message may quote the URL, password and all: name only the kind of problem.
            raise KioskError("DATABASE_UNAVAILABLE", f"unusable database URL ({type(exc).__name__})") from None
        return cls(engine, url)

    @contextlib.contextmanager
    def transaction(self, action: str, *, writes: bool = False) -> Iterator[Session]:
        """A session whose work is committed at the end of the block, or not at all.

        Args:
            writes: the transaction writes. On SQLite it then takes the write lock at its start
                (BEGIN IMMEDIATE, waiting up to the busy timeout), so what it reads is what it
                writes on: a deferred transaction that reads first fails at once, without waiting,
                when another kiosk wrote in between. Reads use a deferred BEGIN and share the file.
        Raises:
            KioskError: DATABASE_UNAVAILABLE for any database failure, after rolling back.
        """
        lock = self._memory_lock or contextlib.nullcontext()
        self._hold_open()
        with unavailable_as_kiosk_error(action), lock:
            with Session(self.engine, expire_on_commit=False) as session:
                with session.begin():
                    if writes and self.dialect == "sqlite":
                        session.connection(execution_options={_BEGIN_OPTION: "BEGIN IMMEDIATE"})
                    yield session

    @contextlib.contextmanager
    def connection(self, action: str, *, writes: bool = False, rollback: bool = False) -> Iterator[sa.Connection]:
        """A Core connection in one transaction, for migrations, probes and bulk work.

        Args:
            writes: as for `transaction`.
            rollback: roll the transaction back at the end of the block instead of committing it.
        Raises:
            KioskError: DATABASE_UNAVAILABLE for any database failure, after rolling back.
        """
        lock = self._memory_lock or contextlib.nullcontext()
        self._hold_open()
        with unavailable_as_kiosk_error(action), lock:
            with self.engine.connect() as connection:
                if writes and self.dialect == "sqlite":
                    connection = connection.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
                transaction = connection.begin()
                try:
                    yield connection
                except BaseException:
                    transaction.rollback()
                    raise
                if rollback:
                    transaction.rollback()
                else:
                    transaction.commit()

    @contextlib.contextmanager
    def one_statement(self, action: str, *, writes: bool = False) -> Iterator[sa.Connection]:
        """A Core connection for work whose every statement stands alone (a read that is one statement, or a
        read and then an upsert that needs no lock between them): on PostgreSQL in autocommit, where a statement
        is its own transaction and snapshot already (no BEGIN and COMMIT round trips around it); on SQLite the
        one transaction of `connection` (with `writes`, as there).

        Raises:
            KioskError: DATABASE_UNAVAILABLE for any database failure.
        """
        if self.dialect != "postgresql":
            with self.connection(action, writes=writes) as connection:
                yield connection
            return
        with unavailable_as_kiosk_error(action):
            with self.engine.connect() as connection:
                yield connection.execution_options(isolation_level="AUTOCOMMIT")

    @contextlib.contextmanager
    def one_connection(self, action: str, *, writes: bool = False) -> Iterator[sa.Connection]:
        """One connection for many short transactions of its own (`with connection.begin():`), such as a
        purge's batches: SQLite's page cache then stays warm from one to the next.

        Raises:
            KioskError: DATABASE_UNAVAILABLE for any database failure (what was committed stays).
        """
        lock = self._memory_lock or contextlib.nullcontext()
        self._hold_open()
        with unavailable_as_kiosk_error(action), lock:
            with self.engine.connect() as connection:
                if self.dialect == "sqlite":
                    # Outside SQLAlchemy's transaction handling: a PRAGMA of this connection only.
                    connection.connection.driver_connection.execute(f"PRAGMA cache_size = -{BATCH_CACHE_KIB}")
                    if writes:
                        connection = connection.execution_options(**{_BEGIN_OPTION: "BEGIN IMMEDIATE"})
                yield connection

    def dispose(self) -> None:
        """Close every pooled connection (and the SQLite file's idle one)."""
        with self._anchor_lock:
            anchor, self._anchor = self._anchor, None
        if anchor is not None:
            with contextlib.suppress(sqlite3.Error):
                anchor.close()
        self.engine.dispose()

    def _hold_open(self) -> None:
        """Keep one idle connection to a SQLite file open, made again after `dispose` or a failure.

        Every transaction opens the file afresh (no pool, see _sqlite_engine); without another
        connection open, closing it would be the last close, which checkpoints the whole WAL into
        the file under an exclusive lock: hundreds of milliseconds after a big write (a purge
        batch), during which every other kiosk waits. With this one open, the WAL is copied back
        by the passive checkpoints at commit, which block nobody.
        """
        if self._sqlite_file is None or self._anchor is not None:
            return
        with self._anchor_lock:
            if self._anchor is not None:
                return
            uri = f"file:{urllib.parse.quote(str(self._sqlite_file))}?mode=rw"
            try:
                anchor = sqlite3.connect(uri, uri=True, check_same_thread=False, isolation_level=None)
                anchor.execute("PRAGMA schema_version").fetchone()  # reads: joins the WAL, holds the file open
            except sqlite3.Error:
                return  # the transaction itself will say what is wrong with the file
            self._anchor = anchor


def _sqlite_engine(database: str, busy_timeout_ms: int) -> tuple[sa.Engine, Path | None]:
    pragmas = (f"PRAGMA busy_timeout = {int(busy_timeout_ms)}", "PRAGMA foreign_keys = ON")
    if database in ("", ":memory:"):
        # One shared in-memory database (tests, demos): a single connection kept for good.
        def connect_memory() -> sqlite3.Connection:
            connection = sqlite3.connect(":memory:", check_same_thread=False, isolation_level=None)
            for pragma in pragmas:
                connection.execute(pragma)
            return connection

        return _begins_itself(sa.create_engine("sqlite://", creator=connect_memory, poolclass=StaticPool),
                              busy_timeout_ms), None

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
        connection = sqlite3.connect(
            uri, uri=True, check_same_thread=False, timeout=busy_timeout_ms / 1000, isolation_level=None
        )
        for pragma in pragmas:
            connection.execute(pragma)
        return connection

    # No pool: every transaction opens the file afresh, so a file that vanished or turned
    # read-only is noticed at once rather than hidden behind a connection that still works.
    return _begins_itself(sa.create_engine("sqlite://", creator=connect_file, poolclass=NullPool),
                          busy_timeout_ms), path


def _begins_itself(engine: sa.Engine, busy_timeout_ms: int = DEFAULT_BUSY_TIMEOUT_MS) -> sa.Engine:
    """Let SQLAlchemy, not the sqlite3 module, say where a transaction begins.

    The sqlite3 module (opened with isolation_level=None here) would otherwise begin a transaction
    only at the first INSERT/UPDATE/DELETE: the reads before it, and DDL, would run outside it.
    With BEGIN said at SQLAlchemy's begin, a transaction is the whole block, DDL included
    (migrations are all-or-nothing), and a writing one says BEGIN IMMEDIATE (`_begin_writing`).
    """

    @event.listens_for(engine, "begin")
    def begin(connection: sa.Connection) -> None:
        options: dict[str, Any] = dict(connection.get_execution_options())
        statement = options.get(_BEGIN_OPTION, "BEGIN")
        if statement == "BEGIN IMMEDIATE":
            _begin_writing(connection.connection.driver_connection, busy_timeout_ms)
        else:
            connection.exec_driver_sql(statement)

    return engine


WRITE_LOCK_POLL_S = (0.001, 0.002, 0.005)
"""How often a writer asks for SQLite's write lock again while another holds it (then every 5 ms)."""


def _begin_writing(connection: sqlite3.Connection, busy_timeout_ms: int) -> None:
    """BEGIN IMMEDIATE, waiting for the write lock up to the busy timeout by asking every few milliseconds.

    SQLite's own busy handler sleeps ever longer between tries (up to 100 ms each), so a writer that
    finishes quickly and starts again soon (a purge's batches, a busy kiosk) can keep the file from a
    waiting kiosk until its timeout runs out, although the file was free every few milliseconds.
    Asking every few milliseconds takes the first gap. (Rails' SQLite adapter does the same.)
    """
    deadline = time.monotonic() + busy_timeout_ms / 1000
    connection.execute("PRAGMA busy_timeout = 0")
    try:
        tries = 0
        while True:
            try:
                connection.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as exc:
                busy = getattr(exc, "sqlite_errorcode", sqlite3.SQLITE_BUSY) & 0xFF == sqlite3.SQLITE_BUSY
                if not busy or time.monotonic() >= deadline:
                    raise
            time.sleep(WRITE_LOCK_POLL_S[min(tries, len(WRITE_LOCK_POLL_S) - 1)])
            tries += 1
    finally:
        connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
