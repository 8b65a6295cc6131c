"""One kiosk's audit trail, newest first, without a scan: audit_event (kiosk_id, at).

Revision ID: 0005
Revises: 0004
Create Date: 2026-06-05
"""
from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_audit_event_kiosk_id_at", "audit_event", ["kiosk_id", "at"])


def downgrade() -> None:
    op.drop_index("ix_audit_event_kiosk_id_at", table_name="audit_event")
