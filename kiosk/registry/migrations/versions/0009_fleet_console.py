"""The fleet: each kiosk's latest heartbeat, operators' out-of-service orders, technician and operator accounts.

- kiosk_heartbeat: one row per kiosk, replaced by each heartbeat (states, counts and catalogue codes only).
- kiosk_order: an operator's out-of-service order and its message; the row goes when the kiosk is put back.
- technician: maintenance PIN hashes the kiosks fetch with their heartbeat; one live account per ID,
  revoked rows kept as the record.
- operator and operator_session: the console's accounts (wrong tries and lockout kept here, so a
  restart forgets nothing) and its sessions (the cookie's SHA-256, the CSRF token, the end).

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None

_LIVE = "revoked_at IS NULL"


def upgrade() -> None:
    op.create_table(
        "kiosk_heartbeat",
        sa.Column("kiosk_id", sa.String(length=40), nullable=False),
        sa.Column("received_at", sa.DateTime(), nullable=False),
        sa.Column("version", sa.String(length=40), nullable=False),
        sa.Column("settings_fingerprint", sa.String(length=64), nullable=False),
        sa.Column("uptime_seconds", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("reasons", sa.String(length=120), nullable=False),
        sa.Column("reader", sa.String(length=16), nullable=False),
        sa.Column("psam", sa.String(length=16), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("visits", sa.Integer(), nullable=False),
        sa.Column("registrations", sa.Integer(), nullable=False),
        sa.Column("activations", sa.Integer(), nullable=False),
        sa.Column("refusals", sa.String(length=3000), nullable=False),
        sa.Column("last_errors", sa.String(length=1500), nullable=False),
        sa.Column("technicians_etag", sa.String(length=64), nullable=True),
        sa.Column("beats", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id"),
    )
    op.create_table(
        "kiosk_order",
        sa.Column("kiosk_id", sa.String(length=40), nullable=False),
        sa.Column("message_zh", sa.String(length=200), nullable=False),
        sa.Column("message_en", sa.String(length=200), nullable=False),
        sa.Column("since", sa.DateTime(), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("kiosk_id"),
    )
    op.create_table(
        "technician",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("technician_id", sa.String(length=20), nullable=False),
        sa.Column("pin_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_technician_live", "technician", ["technician_id"], unique=True,
                    sqlite_where=sa.text(_LIVE), postgresql_where=sa.text(_LIVE))
    op.create_table(
        "operator",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("operator_id", sa.String(length=40), nullable=False),
        sa.Column("password_hash", sa.String(length=200), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("wrong_tries", sa.Integer(), server_default="0", nullable=False),
        sa.Column("locked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_operator_operator_id", "operator", ["operator_id"], unique=True)
    op.create_table(
        "operator_session",
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("operator_id", sa.Integer(), nullable=False),
        sa.Column("csrf_token", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["operator_id"], ["operator.id"]),
        sa.PrimaryKeyConstraint("token_hash"),
    )
    op.create_index("ix_operator_session_operator_id", "operator_session", ["operator_id"])
    op.create_index("ix_operator_session_expires_at", "operator_session", ["expires_at"])


def downgrade() -> None:
    op.drop_table("operator_session")
    op.drop_table("operator")
    op.drop_table("technician")
    op.drop_table("kiosk_order")
    op.drop_table("kiosk_heartbeat")
