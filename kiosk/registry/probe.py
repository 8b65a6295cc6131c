"""Provides the registry's health probe: what a visit really needs, not `SELECT 1` (which touches no table)."""
from __future__ import annotations

# The probe reads the schema's revision (a garbage file, another program's database or a schema
# behind fail here) and makes a write that is rolled back (a read-only file or database, a full
# disk's refusal to start a write, a lock held past the busy timeout fail here). It leaves nothing.

import os

import sqlalchemy as sa

from kiosk.errors import KioskError
from kiosk.registry import schema
from kiosk.registry.database import Database
from kiosk.registry.port import RegistryHealth


def probe(database: Database, upgrade_command: str = schema.UPGRADE_COMMAND) -> RegistryHealth:
    """Probe the registry; never raises for what it finds, only reports it."""
    try:
        try:
            with database.connection("health probe: the schema's revision") as connection:
                revision = connection.execute(sa.text(f"SELECT version_num FROM {schema.VERSION_TABLE}")).scalar()
        except KioskError:
            revision = None  # no version table, or no database at all: the status says which
        if revision != schema.head():
            status = schema.schema_status(database)
            if not status.current:
                return RegistryHealth(False, status.state, status.revision,
                                      f"the registry's schema is {status.advice(upgrade_command)}")
            revision = status.revision
        with database.connection("health probe: a write", writes=True, rollback=True) as connection:
            connection.execute(sa.text(f"UPDATE {schema.VERSION_TABLE} SET version_num = version_num"))
        # In WAL mode that write went to the -wal file: a main file that turned read-only shows only
        # when the WAL is copied back into it, which would then fail, and the next start with it.
        file = database.sqlite_file
        if file is not None and not os.access(file, os.W_OK):
            return RegistryHealth(False, "current", revision, f"the database file {file} is read-only")
    except KioskError as exc:
        return RegistryHealth(False, "", None, exc.detail)
    return RegistryHealth(True, "current", revision, "")
