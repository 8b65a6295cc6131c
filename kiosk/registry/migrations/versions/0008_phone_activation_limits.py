"""Phone activation bound to the guardian: a ticket counts the wrong identities presented with it and locks.

- activation_ticket.wrong_tries: how many times an app user who is not the ticket's guardian presented it.
- activation_ticket.locked_at: when it reached the limit; a locked ticket is also revoked (the kiosk
  draws a fresh QR, so a photo of the old one is worth nothing).
The per-client counters of wrong typed codes and the kiosks' poll pacing live in `throttle` (0002).

Revision ID: 0008
Revises: 0007
Create Date: 2026-06-08
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Plain ALTER TABLE, no batch copy: SQLite's triggers on and about activation_ticket stay as they are.
    op.add_column("activation_ticket", sa.Column("wrong_tries", sa.Integer(), nullable=False, server_default="0"))
    op.add_column("activation_ticket", sa.Column("locked_at", sa.DateTime(), nullable=True))


def downgrade() -> None:
    # SQLite 3.35+ and PostgreSQL both drop a column in place (neither column is indexed or in a trigger).
    op.execute("ALTER TABLE activation_ticket DROP COLUMN locked_at")
    op.execute("ALTER TABLE activation_ticket DROP COLUMN wrong_tries")
