"""Kiosk credentials rotate: one live credential per kiosk (not one ever), and the reason a credential was revoked.

The registry service authenticates kiosks by kiosk_credential. 0002 made kiosk_id unique over all rows,
so a kiosk whose credential was revoked (a stolen box, a lost credential file) could never get a new
one without deleting the record of the old. Now the unique index covers live credentials only, and the
revoked row keeps the operator's reason, which a kiosk presenting it is told (401).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

_LIVE = "revoked_at IS NULL"


def upgrade() -> None:
    op.drop_index("ix_kiosk_credential_kiosk_id", table_name="kiosk_credential")
    op.create_index("ix_kiosk_credential_kiosk_id", "kiosk_credential", ["kiosk_id"])
    op.create_index("ix_kiosk_credential_live", "kiosk_credential", ["kiosk_id"], unique=True,
                    sqlite_where=sa.text(_LIVE), postgresql_where=sa.text(_LIVE))
    op.add_column("kiosk_credential", sa.Column("revoked_reason", sa.String(length=200), nullable=True))


def downgrade() -> None:
    # Going back to one credential per kiosk ever: the revoked ones of a kiosk that has a newer one go.
    op.execute("DELETE FROM kiosk_credential WHERE revoked_at IS NOT NULL AND kiosk_id IN "
               "(SELECT kiosk_id FROM kiosk_credential GROUP BY kiosk_id HAVING count(*) > 1)")
    with op.batch_alter_table("kiosk_credential") as batch:
        batch.drop_column("revoked_reason")
    op.drop_index("ix_kiosk_credential_live", table_name="kiosk_credential")
    op.drop_index("ix_kiosk_credential_kiosk_id", table_name="kiosk_credential")
    op.create_index("ix_kiosk_credential_kiosk_id", "kiosk_credential", ["kiosk_id"], unique=True)
