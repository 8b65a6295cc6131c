"""Provides PostgresServer: a private, throwaway PostgreSQL server in a temporary folder, for the tests.

The server is the one the Debian package `postgresql` installs (`bash .ci/setup`), found through
`pg_config --bindir` or under /usr/lib/postgresql/*/bin (newest version first). It trusts every
connection, so it listens on 127.0.0.1 only, on a free port, and on a unix socket inside its own
folder; it runs with fsync off, since nothing in it has to outlive the test session (benchmarks that measure
throughput ask for DURABLE settings instead).

initdb refuses to run as root: as root the server's commands run as the `postgres` system user
(created by the Debian package) through `runuser`, and its folder is handed to that user.
"""
from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

PACKAGE_ROOT = Path("/usr/lib/postgresql")
"""Where Debian's packages put each version's binaries: PACKAGE_ROOT/VERSION/bin."""
SETUP_HINT = "run `bash .ci/setup` (it installs the Debian package `postgresql`)"
SUPERUSER = "postgres"
SYSTEM_USER = "postgres"
"""Who runs the server when the tests run as root."""
START_TIMEOUT_S = 60
PORT_ATTEMPTS = 3
"""A free port can be taken by someone else before the server binds it: try that many ports."""
SETTINGS = {
    "listen_addresses": "'127.0.0.1'",
    "fsync": "off",
    "synchronous_commit": "off",
    "full_page_writes": "off",
    "max_connections": "120",  # the race tests open 50 connections at once, next to the rest
    "shared_buffers": "32MB",
    "log_min_messages": "warning",
    "logging_collector": "off",
    "autovacuum": "off",
}
DURABLE = {
    "fsync": "on",
    "synchronous_commit": "on",
    "full_page_writes": "on",
    "shared_buffers": "128MB",
    "autovacuum": "on",
}
"""Over SETTINGS: a server that keeps what it commits, as a hall runs one (these are PostgreSQL's own defaults,
which Debian's cluster keeps): for benchmarks that measure throughput, where a commit must reach the disk."""
HBA = """\
# Throwaway test server: anyone on this machine, nobody from elsewhere.
local all all trust
host  all all 127.0.0.1/32 trust
"""


class PostgresNotInstalled(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


class PostgresServerError(RuntimeError):
    """The throwaway server could not be made, started or used."""


def find_bindir() -> Path:
    """The folder with initdb, pg_ctl and postgres: pg_config's, else the newest /usr/lib/postgresql/*/bin.

    Raises:
        PostgresNotInstalled: when no folder has all three.
    """
    candidates: list[Path] = []
    pg_config = shutil.which("pg_config")
    if pg_config:
        with contextlib.suppress(OSError, subprocess.SubprocessError):
            found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            candidates.append(Path(found.stdout.strip()))
    # Debian's pg_config comes with libpq-dev and may name a version whose server is not installed.
    versions = sorted(PACKAGE_ROOT.glob("*/bin"), key=_version_key, reverse=True)
    candidates.extend(versions)
    for folder in candidates:
        if all(os.access(folder / tool, os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return folder
    looked = ", ".join(str(folder) for folder in candidates) or f"no pg_config, nothing in {PACKAGE_ROOT}/*/bin"
    raise PostgresNotInstalled(
        f"No PostgreSQL server binaries (initdb, pg_ctl, postgres) found ({looked}): {SETUP_HINT}, "
        "or set KIOSK_TEST_POSTGRES_URL to a throwaway database on a server of your own."
    )


def _version_key(bindir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in re.findall(r"\d+", bindir.parent.name)) or (0,)


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class PostgresServer:
    """A PostgreSQL server of its own in a temporary folder: `start()`, `create_database()`, `stop()`."""

    def __init__(self, bindir: Path | None = None, settings: dict[str, str] | None = None) -> None:
        """`settings`: postgresql.conf settings over SETTINGS (e.g. DURABLE)."""
        self.bindir = bindir or find_bindir()
        self.settings = {**SETTINGS, **(settings or {})}
        self.root: Path | None = None
        self.port = 0
        self.start_seconds = 0.0
        """How long initdb plus start took."""
        self._as_system_user = os.geteuid() == 0
        self._running = False
        self._admin = None  # a psycopg connection to the `postgres` database, opened when first needed

    # ---------------------------------------------------------------- paths
    @property
    def data_dir(self) -> Path:
        return self._root / "data"

    @property
    def socket_dir(self) -> Path:
        return self._root

    @property
    def log_file(self) -> Path:
        return self._root / "server.log"

    @property
    def _root(self) -> Path:
        if self.root is None:
            raise PostgresServerError("the server has no folder yet: call start()")
        return self.root

    def url(self, database: str = "postgres") -> str:
        """The SQLAlchemy URL of a database on this server, over TCP on 127.0.0.1."""
        return f"postgresql+psycopg://{SUPERUSER}@127.0.0.1:{self.port}/{database}"

    # ---------------------------------------------------------------- life
    def start(self) -> PostgresServer:
        """Make a cluster in a new temporary folder and start it; return once it accepts connections.

        Raises:
            PostgresServerError: initdb or pg_ctl failed (their output and the server log are in the message).
        """
        began = time.monotonic()
        self.root = Path(tempfile.mkdtemp(prefix="kiosk-pg-", dir=self._temp_parent()))
        try:
            if self._as_system_user:
                try:
                    account = pwd.getpwnam(SYSTEM_USER)
                except KeyError:
                    raise PostgresServerError(
                        f"running as root, the server must run as the `{SYSTEM_USER}` system user, "
                        f"and there is none: {SETUP_HINT}"
                    ) from None
                os.chown(self.root, account.pw_uid, account.pw_gid)
            self._run(
                "initdb",
                "--pgdata", str(self.data_dir),
                "--username", SUPERUSER,
                "--auth", "trust",
                "--encoding", "UTF8",
                "--no-locale",
                "--no-sync",
            )
            (self.data_dir / "pg_hba.conf").write_text(HBA)
            self._start_on_a_free_port()
        except BaseException:
            self.stop()
            raise
        self.start_seconds = time.monotonic() - began
        return self

    def _start_on_a_free_port(self) -> None:
        conf = self.data_dir / "postgresql.conf"
        base = conf.read_text()
        for attempt in range(1, PORT_ATTEMPTS + 1):
            self.port = free_port()
            settings = {**self.settings, "port": str(self.port), "unix_socket_directories": f"'{self.socket_dir}'"}
            lines = "".join(f"{key} = {value}\n" for key, value in settings.items())
            conf.write_text(f"{base}\n# kiosk tests\n{lines}")
            try:
                self._run(
                    "pg_ctl", "start", "--pgdata", str(self.data_dir), "--log", str(self.log_file),
                    "--wait", "--timeout", str(START_TIMEOUT_S),
                )
            except PostgresServerError:
                if attempt == PORT_ATTEMPTS or "could not bind" not in self._log_text():
                    raise
                continue
            self._running = True
            return

    def stop(self) -> None:
        """Stop the server at once (nothing in it is worth keeping) and remove its folder."""
        if self.root is None:
            return
        if self._admin is not None:
            with contextlib.suppress(Exception):
                self._admin.close()
            self._admin = None
        try:
            if self._running or (self.data_dir / "postmaster.pid").exists():
                self._run(
                    "pg_ctl", "stop", "--pgdata", str(self.data_dir), "--mode", "immediate", "--wait", check=False
                )
        finally:
            self._running = False
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def __enter__(self) -> PostgresServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.stop()

    # ---------------------------------------------------------------- databases
    def execute(self, *statements: str) -> None:
        """Run statements outside any transaction (CREATE DATABASE, DROP DATABASE ...), as the superuser."""
        import psycopg

        try:
            if self._admin is None or self._admin.closed:
                self._admin = psycopg.connect(
                    host="127.0.0.1", port=self.port, user=SUPERUSER, dbname="postgres",
                    autocommit=True, connect_timeout=10,
                )
            for statement in statements:
                self._admin.execute(statement)
        except psycopg.Error as exc:
            raise PostgresServerError(f"{statements}: {exc}") from exc

    def create_database(self, name: str) -> str:
        """Create an empty database and return its URL."""
        self.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def end_connections(self, database: str) -> None:
        """End every connection to `database` (but the server's own), so that nothing left open holds a lock."""
        self.execute(
            "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
            f" WHERE datname = '{database}' AND pid <> pg_backend_pid()"
        )

    # ---------------------------------------------------------------- helpers
    def _temp_parent(self) -> str | None:
        # The postgres user must be able to reach the folder: as root, a TMPDIR that others
        # cannot enter (a private one under /root, say) is passed over for /tmp.
        parent = tempfile.gettempdir()
        if self._as_system_user and not _others_can_enter(Path(parent)):
            return "/tmp"
        return parent

    def _run(self, tool: str, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        command = [str(self.bindir / tool), *args]
        if self._as_system_user:
            command = ["runuser", "-u", SYSTEM_USER, "--", *command]
        environment = {key: value for key, value in os.environ.items() if not key.startswith("PG")}
        environment.update(LC_ALL="C", LANG="C")
        try:
            # cwd: the postgres user may not be allowed into the directory the tests run in.
            done = subprocess.run(
                command, cwd=self._root, env=environment, stdin=subprocess.DEVNULL,
                capture_output=True, text=True, timeout=START_TIMEOUT_S + 30,
            )
        except (OSError, subprocess.SubprocessError) as exc:
            raise PostgresServerError(f"{' '.join(command)}: {exc}") from exc
        if check and done.returncode != 0:
            raise PostgresServerError(
                f"{' '.join(command)} failed with exit code {done.returncode}:\n"
                f"{done.stdout}{done.stderr}\n--- server log ---\n{self._log_text()}"
            )
        return done

    def _log_text(self) -> str:
        try:
            return self.log_file.read_text(errors="replace")[-4000:]
        except OSError:
            return "(none)"


def _others_can_enter(folder: Path) -> bool:
    for part in (folder, *folder.parents):
        try:
            if not part.stat().st_mode & 0o001:
                return False
        except OSError:
            return False
    return True

