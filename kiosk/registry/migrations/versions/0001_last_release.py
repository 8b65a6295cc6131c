"""The registry as the last release (main before Alembic) made it with create_all.

A database that release made has no alembic_version table: kiosk.registry.schema recognises its
tables and stamps it with this revision instead of running it.

Revision ID: 0001
Revises:
Create Date: 2026-06-01
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

TABLES = ("person", "social_security_card", "guardianship", "ecard", "activation_ticket", "audit_event")
"""What the last release created, referenced tables first."""


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("resident_id", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=False),
        sa.Column("sex", sa.String(length=1), nullable=False),
        sa.Column("has_physical_card", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_person_resident_id", "person", ["resident_id"], unique=True)

    op.create_table(
        "social_security_card",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("card_number", sa.String(length=9), nullable=False),
        sa.Column("holder_id", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("spec_version", sa.String(length=4), nullable=False),
        sa.ForeignKeyConstraint(["holder_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_social_security_card_card_number", "social_security_card", ["card_number"], unique=True)
    op.create_index("ix_social_security_card_holder_id", "social_security_card", ["holder_id"])

    op.create_table(
        "guardianship",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("relationship", sa.String(length=16), nullable=False),
        sa.ForeignKeyConstraint(["guardian_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["child_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("guardian_id", "child_id", name="uq_guardianship_pair"),
    )
    op.create_index("ix_guardianship_child_id", "guardianship", ["child_id"])
    op.create_index("ix_guardianship_guardian_id", "guardianship", ["guardian_id"])

    op.create_table(
        "ecard",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("applicant_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("level", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("activated_at", sa.DateTime(), nullable=True),
        sa.Column("kiosk_id", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(["child_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["applicant_id"], ["person.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_ecard_child_id", "ecard", ["child_id"])
    op.create_index(
        "uq_ecard_live_child", "ecard", ["child_id"], unique=True,
        sqlite_where=sa.text("state != 'cancelled'"), postgresql_where=sa.text("state != 'cancelled'"),
    )
    op.create_index("ix_ecard_applicant_id", "ecard", ["applicant_id"])

    op.create_table(
        "activation_ticket",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("ecard_id", sa.Integer(), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("user_code_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.Column("used_at", sa.DateTime(), nullable=True),
        sa.Column("revoked", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(["ecard_id"], ["ecard.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_activation_ticket_ecard_id", "activation_ticket", ["ecard_id"])
    op.create_index("ix_activation_ticket_user_code_hash", "activation_ticket", ["user_code_hash"])
    op.create_index("ix_activation_ticket_token_hash", "activation_ticket", ["token_hash"], unique=True)
    op.create_index("ix_activation_ticket_expires_at", "activation_ticket", ["expires_at"])

    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=500), nullable=False),
        sa.Column("kiosk_id", sa.String(length=40), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_audit_event_kind", "audit_event", ["kind"])
    op.create_index("ix_audit_event_at", "audit_event", ["at"])


def downgrade() -> None:
    for table in reversed(TABLES):
        op.drop_table(table)
