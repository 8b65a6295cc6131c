"""PostgreSQL: the codes a purge deletes are tallied once per DELETE, not once per row at commit.

The row trigger deferred to commit ran its UPDATE of registry_tally 500 times at the commit of every
purge batch (a purge of 200k codes in a registry of 1M people took 90 s, most of it there). Deleting
codes is what the purge does, and a purge holds nothing else once its DELETE is done, so a statement
trigger over the deleted rows can take the tally's row at once without making anyone wait in a cycle.
SQLite is unchanged (its row triggers are cheap, and it has no statement triggers).

Revision ID: 0006
Revises: 0005
Create Date: 2026-06-06
"""
from __future__ import annotations

from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

_SHARD = "pg_backend_pid() % 64"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER tally_ticket ON activation_ticket")
    op.execute("CREATE CONSTRAINT TRIGGER tally_ticket AFTER INSERT ON activation_ticket"
               " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tally_ticket()")
    op.execute(f"""CREATE FUNCTION tally_tickets_gone() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE u bigint;
        BEGIN
        SELECT count(*) INTO u FROM gone WHERE used_at IS NULL;
        IF u <> 0 THEN UPDATE registry_tally SET tickets_unused = tickets_unused - u WHERE shard = {_SHARD}; END IF;
        RETURN NULL; END $$""")
    op.execute("CREATE TRIGGER tally_tickets_gone AFTER DELETE ON activation_ticket REFERENCING OLD TABLE AS gone"
               " FOR EACH STATEMENT EXECUTE FUNCTION tally_tickets_gone()")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute("DROP TRIGGER tally_tickets_gone ON activation_ticket")
    op.execute("DROP FUNCTION tally_tickets_gone()")
    op.execute("DROP TRIGGER tally_ticket ON activation_ticket")
    op.execute("CREATE CONSTRAINT TRIGGER tally_ticket AFTER INSERT OR DELETE ON activation_ticket"
               " DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION tally_ticket()")
