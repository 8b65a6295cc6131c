"""Provides Alembic's environment for the registry: migrations run on the connection kiosk.registry.schema opened.

There is no alembic.ini and no URL here: `kiosk.registry.schema` opens the database the way the
kiosk does (kiosk.registry.database), takes the migration lock, begins the transaction and hands
the connection over in `config.attributes["connection"]`. Everything then runs in that one
transaction, on SQLite too (DDL included), so a migration is applied completely or not at all.
"""
from __future__ import annotations

from alembic import context

from kiosk.registry.models import REGISTRY_METADATA, TABLE_NAMES

connection = context.config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run the registry's migrations through kiosk.registry.schema (python -m kiosk.registry.migrate)")

context.configure(
    connection=connection,
    target_metadata=REGISTRY_METADATA,
    transactional_ddl=True,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite alters tables by copying them
    compare_type=True,
    # Other programs' tables in the same database (and other SQLModel tables) are not the registry's.
    include_name=lambda name, kind, parents: kind != "table" or name in TABLE_NAMES,
)
with context.begin_transaction():
    context.run_migrations()
