"""Provides the registry's schema under Alembic: where a database stands (current, behind, ahead, unknown) and the upgrade."""
from __future__ import annotations

import functools
from dataclasses import dataclass
from importlib import resources
from typing import Literal

import sqlalchemy as sa

from kiosk.errors import KioskError
from kiosk.registry.database import Database

MIGRATIONS = str(resources.files("kiosk.registry") / "migrations")
"""The Alembic script folder, shipped inside the package."""
UPGRADE_COMMAND = "python -m kiosk.registry.migrate upgrade"
"""What upgrades the database the kiosk's settings name (the service says its own command)."""
LAST_RELEASE = "0001"
"""The revision of a database made by the last release's create_all (it has no alembic_version table)."""
LAST_RELEASE_TABLES = frozenset(
    {"person", "social_security_card", "guardianship", "ecard", "activation_ticket", "audit_event"}
)
VERSION_TABLE = "alembic_version"
_LAST_RELEASE_DETAIL = f"made by the last release, before migrations (its tables are revision {LAST_RELEASE})"
_MIGRATION_LOCK = 0x6B696F736B  # "kiosk": one migration at a time on a PostgreSQL server

SchemaState = Literal["current", "behind", "ahead", "unknown"]


@dataclass(frozen=True)
class SchemaStatus:
    """Where a registry database stands against this release's migrations.

    - current: at this release's head, ready.
    - behind: empty, made by the last release before migrations, or at an older revision: the
      upgrade command brings it to head.
    - ahead: at a revision this release does not know (a newer release migrated it): update the software.
    - unknown: tables that are not a registry this release recognises: nothing is touched.
    """

    state: SchemaState
    revision: str | None
    """The database's revision; None when it has none (empty, or the last release's)."""
    head: str
    """This release's head revision."""
    detail: str
    """One line for logs and technicians."""

    @property
    def current(self) -> bool:
        return self.state == "current"

    def advice(self, command: str = UPGRADE_COMMAND) -> str:
        """One line saying where the schema stands and what to do: `behind (run: <command>)` and so on."""
        if self.state == "current":
            return f"current (revision {self.head})"
        if self.state == "behind":
            return f"behind: {self.detail} (run: {command})"
        if self.state == "ahead":
            return f"ahead/unknown: {self.detail}; this release knows revisions up to {self.head}: update the software"
        return f"ahead/unknown: {self.detail}; nothing was changed"


class SchemaNotCurrent(KioskError):
    """The registry's schema is not at this release's head (DATABASE_UNAVAILABLE); `status` says why."""

    def __init__(self, status: SchemaStatus, command: str = UPGRADE_COMMAND) -> None:
        super().__init__("DATABASE_UNAVAILABLE", f"the registry's schema is {status.advice(command)}")
        self.status = status


@functools.lru_cache(maxsize=1)
def scripts():  # -> alembic.script.ScriptDirectory (alembic is imported only when a migration is looked at)
    from alembic.script import ScriptDirectory

    return ScriptDirectory(MIGRATIONS)


def head() -> str:
    """This release's head revision."""
    heads = scripts().get_heads()
    if len(heads) != 1:
        raise RuntimeError(f"the registry's migrations have {len(heads)} heads: {heads}; merge them")
    return heads[0]


def schema_status(database: Database) -> SchemaStatus:
    """Look where the database stands (reads only).

    Raises:
        KioskError: DATABASE_UNAVAILABLE when the database cannot be read.
    """
    with database.connection("schema status") as connection:
        return _status(connection)


def _status(connection: sa.Connection) -> SchemaStatus:
    target = head()
    tables = set(sa.inspect(connection).get_table_names())
    if VERSION_TABLE not in tables:
        ours = tables & LAST_RELEASE_TABLES
        if not ours:
            return SchemaStatus("behind", None, target, "the database is empty")
        if ours == LAST_RELEASE_TABLES:
            return SchemaStatus("behind", None, target, _LAST_RELEASE_DETAIL)
        return SchemaStatus(
            "unknown", None, target, f"tables {', '.join(sorted(ours))} but not a registry (no {VERSION_TABLE})"
        )
    revisions = [row[0] for row in connection.execute(sa.text(f"SELECT version_num FROM {VERSION_TABLE}"))]
    if len(revisions) != 1:
        return SchemaStatus("unknown", None, target, f"{len(revisions)} revisions in {VERSION_TABLE}")
    revision = revisions[0]
    if revision == target:
        return SchemaStatus("current", revision, target, f"revision {revision}")
    if not _known(revision):
        return SchemaStatus("ahead", revision, target, f"revision {revision} is not one of this release's")
    return SchemaStatus("behind", revision, target, f"revision {revision}, this release needs {target}")


def _known(revision: str) -> bool:
    from alembic.util import CommandError

    try:
        return scripts().get_revision(revision) is not None
    except CommandError:
        return False


def upgrade(database: Database, target: str = "head") -> SchemaStatus:
    """Bring the database to `target` (this release's head), in one transaction, one migrator at a time.

    An empty database gets every revision; one the last release made (no alembic_version) is
    stamped 0001 and then upgraded; one already there is left alone (a read and no write).

    Returns:
        Where it stands afterwards.
    Raises:
        SchemaNotCurrent: the schema is ahead of this release or unknown; nothing was changed.
        KioskError: DATABASE_UNAVAILABLE when the database cannot be used.
    """
    with database.connection("read the schema revision") as connection:
        status = _status(connection)  # most starts end here: no write lock taken
    if status.current and target == "head":
        return status
    with database.connection("upgrade the schema", writes=True) as connection:
        _take_migration_lock(connection)
        status = _status(connection)  # again: another migrator may have finished meanwhile
        if status.state in ("ahead", "unknown"):
            raise SchemaNotCurrent(status)
        if status.current and target == "head":
            return status
        if status.revision is None and status.detail == _LAST_RELEASE_DETAIL:
            _run(connection, "stamp", LAST_RELEASE)
        _run(connection, "upgrade", target)
        return _status(connection)


def downgrade(database: Database, target: str) -> SchemaStatus:
    """Take the database back to `target` (for developers and the migration tests: data in later revisions goes).

    Raises:
        KioskError: DATABASE_UNAVAILABLE when the database cannot be used.
    """
    with database.connection("downgrade the schema", writes=True) as connection:
        _take_migration_lock(connection)
        _run(connection, "downgrade", target)
        return _status(connection)


def _take_migration_lock(connection: sa.Connection) -> None:
    # SQLite: the transaction began IMMEDIATE and holds the write lock already.
    if connection.dialect.name == "postgresql":
        connection.execute(sa.text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK})


def _run(connection: sa.Connection, action: Literal["stamp", "upgrade", "downgrade"], target: str) -> None:
    from alembic import command
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", MIGRATIONS)
    config.attributes["connection"] = connection
    if action == "stamp":
        command.stamp(config, target)
    elif action == "upgrade":
        command.upgrade(config, target)
    else:
        command.downgrade(config, target)
