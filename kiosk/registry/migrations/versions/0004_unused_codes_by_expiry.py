"""Unused activation codes by expiry: the purge and the console's counts read only those.

ix_activation_ticket_expires_at held every code, used ones too: a purge batch that looked for 500
unused codes run out walked past every used code older than them, again in each batch (a purge of
200k codes in a registry of 1M people took minutes, one batch seconds). The partial index holds only
the unused codes, so each batch reads what it deletes.

Revision ID: 0004
Revises: 0003
Create Date: 2026-06-04
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_ticket_unused_expiry", "activation_ticket", ["expires_at"],
                    sqlite_where=sa.text("used_at IS NULL"), postgresql_where=sa.text("used_at IS NULL"))
    op.drop_index("ix_activation_ticket_expires_at", table_name="activation_ticket")


def downgrade() -> None:
    op.create_index("ix_activation_ticket_expires_at", "activation_ticket", ["expires_at"])
    op.drop_index("ix_ticket_unused_expiry", table_name="activation_ticket")
