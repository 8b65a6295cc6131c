"""Registration and its first ticket in one transaction; one live ticket per e-card; idempotency keys;
the service's kiosk credentials and throttles.

- ecard.tickets_issued: codes ever issued for the e-card (filled from the tickets still there; a
  pending e-card of the last release with none is what the consistency rule PENDING_WITHOUT_TICKET
  reports: its first QR was lost, or purged).
- activation_ticket.kiosk_id (the kiosk it was shown at; '' for the last release's, which did not
  record it) and guardian_id (the guardian it was issued to; NULL for the last release's).
- At most one live (unused, unrevoked) ticket per e-card, and live user codes unique: where the last
  release left several, all but the newest are revoked first, as issuing meant to.
- registration_request (kiosk, idempotency key) -> e-card; kiosk_credential; throttle.

Revision ID: 0002
Revises: 0001
Create Date: 2026-06-02
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

LIVE = "used_at IS NULL AND NOT revoked"


def upgrade() -> None:
    op.add_column("ecard", sa.Column("tickets_issued", sa.Integer(), server_default="0", nullable=False))
    op.add_column("activation_ticket", sa.Column("kiosk_id", sa.String(length=40), server_default="", nullable=False))
    with op.batch_alter_table("activation_ticket") as batch:
        batch.add_column(sa.Column("guardian_id", sa.Integer(), nullable=True))
        batch.create_foreign_key("fk_activation_ticket_guardian_id", "person", ["guardian_id"], ["id"])

    op.execute("UPDATE ecard SET tickets_issued = (SELECT count(*) FROM activation_ticket t WHERE t.ecard_id = ecard.id)")
    for column in ("ecard_id", "user_code_hash"):
        op.execute(
            f"UPDATE activation_ticket SET revoked = true WHERE {LIVE} AND id NOT IN "
            f"(SELECT max(id) FROM activation_ticket WHERE {LIVE} GROUP BY {column})"
        )
    op.create_index("uq_ticket_live_ecard", "activation_ticket", ["ecard_id"], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))
    op.create_index("uq_ticket_live_user_code", "activation_ticket", ["user_code_hash"], unique=True,
                    sqlite_where=sa.text(LIVE), postgresql_where=sa.text(LIVE))

    op.create_table(
        "registration_request",
        sa.Column("kiosk_id", sa.String(length=40), nullable=False),
        sa.Column("idempotency_key", sa.String(length=64), nullable=False),
        sa.Column("guardian_id", sa.Integer(), nullable=False),
        sa.Column("child_id", sa.Integer(), nullable=False),
        sa.Column("ecard_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(["guardian_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["child_id"], ["person.id"]),
        sa.ForeignKeyConstraint(["ecard_id"], ["ecard.id"]),
        sa.PrimaryKeyConstraint("kiosk_id", "idempotency_key"),
    )
    op.create_index("ix_registration_request_created_at", "registration_request", ["created_at"])

    op.create_table(
        "kiosk_credential",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kiosk_id", sa.String(length=40), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(), nullable=False),
        sa.Column("revoked_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_kiosk_credential_kiosk_id", "kiosk_credential", ["kiosk_id"], unique=True)
    op.create_index("ix_kiosk_credential_secret_hash", "kiosk_credential", ["secret_hash"], unique=True)

    op.create_table(
        "throttle",
        sa.Column("key", sa.String(length=120), nullable=False),
        sa.Column("window_start", sa.DateTime(), nullable=False),
        sa.Column("hits", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("key"),
    )
    op.create_index("ix_throttle_window_start", "throttle", ["window_start"])


def downgrade() -> None:
    op.drop_table("throttle")
    op.drop_table("kiosk_credential")
    op.drop_table("registration_request")
    op.drop_index("uq_ticket_live_user_code", table_name="activation_ticket")
    op.drop_index("uq_ticket_live_ecard", table_name="activation_ticket")
    with op.batch_alter_table("activation_ticket") as batch:  # nothing points at it: a table copy is fine
        batch.drop_constraint("fk_activation_ticket_guardian_id", type_="foreignkey")
        batch.drop_column("guardian_id")
        batch.drop_column("kiosk_id")
    op.execute("ALTER TABLE ecard DROP COLUMN tickets_issued")  # in place: foreign keys point at ecard
