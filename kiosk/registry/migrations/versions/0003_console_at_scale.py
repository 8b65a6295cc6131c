"""The maintenance console at a million rows: indexes for what it filters and sorts on, running tallies,
consistency rules answered from partial "breach" indexes.

- registry_tally: people, audit events, e-cards by state and unused codes, kept by triggers (PostgreSQL:
  row triggers deferred to commit, spread over 64 rows by backend, so they never wait inside a
  transaction nor make writers queue on one row; SQLite: plain row triggers on one row).
- ecard.applicant_unlinked and activation_ticket.used_unactivated: flags kept by triggers for the two
  consistency rules that look across tables (APPLICANT_NOT_GUARDIAN, USED_TICKET_NOT_ACTIVE).
- Partial indexes on each consistency rule's breakers (empty while the rule holds), the pending
  e-cards by age, e-cards by creation and activation time, audit events by (kind, id).
Everything is computed once from the rows there (one full pass, under the triggers' table locks).

Revision ID: 0003
Revises: 0002
Create Date: 2026-06-03
"""
from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SHARDS = 64
BREACHES = [  # (index, table, predicate): frozen copy of kiosk.registry.models.BREACHES at this revision
    ("ix_breach_active_without_time", "ecard", "state = 'active' AND activated_at IS NULL"),
    ("ix_breach_activation_time_not_active", "ecard", "state = 'pending' AND activated_at IS NOT NULL"),
    ("ix_breach_applicant_unlinked", "ecard", "applicant_unlinked"),
    ("ix_breach_self_guardianship", "guardianship", "guardian_id = child_id"),
    ("ix_breach_used_ticket_not_active", "activation_ticket", "used_unactivated"),
    ("ix_breach_ticket_ends_before_start", "activation_ticket", "expires_at <= created_at"),
    ("ix_breach_pending_without_ticket", "ecard", "state = 'pending' AND tickets_issued = 0"),
]
UNLINKED = ("NOT EXISTS (SELECT 1 FROM guardianship g WHERE g.guardian_id = {row}.applicant_id"
            " AND g.child_id = {row}.child_id)")
UNACTIVATED = ("{row}.used_at IS NOT NULL AND COALESCE((SELECT e.state FROM ecard e WHERE e.id = {row}.ecard_id), '')"
               " <> 'active'")

SQLITE_TRIGGERS = [
    # tallies
    "CREATE TRIGGER tally_person_insert AFTER INSERT ON person"
    " BEGIN UPDATE registry_tally SET persons = persons + 1 WHERE shard = 0; END",
    "CREATE TRIGGER tally_person_delete AFTER DELETE ON person"
    " BEGIN UPDATE registry_tally SET persons = persons - 1 WHERE shard = 0; END",
    "CREATE TRIGGER tally_audit_insert AFTER INSERT ON audit_event"
    " BEGIN UPDATE registry_tally SET audit_events = audit_events + 1 WHERE shard = 0; END",
    "CREATE TRIGGER tally_audit_delete AFTER DELETE ON audit_event"
    " BEGIN UPDATE registry_tally SET audit_events = audit_events - 1 WHERE shard = 0; END",
    "CREATE TRIGGER tally_ecard_insert AFTER INSERT ON ecard BEGIN UPDATE registry_tally SET"
    " ecards_pending = ecards_pending + (NEW.state = 'pending'), ecards_active = ecards_active + (NEW.state = 'active'),"
    " ecards_cancelled = ecards_cancelled + (NEW.state = 'cancelled') WHERE shard = 0; END",
    "CREATE TRIGGER tally_ecard_delete AFTER DELETE ON ecard BEGIN UPDATE registry_tally SET"
    " ecards_pending = ecards_pending - (OLD.state = 'pending'), ecards_active = ecards_active - (OLD.state = 'active'),"
    " ecards_cancelled = ecards_cancelled - (OLD.state = 'cancelled') WHERE shard = 0; END",
    "CREATE TRIGGER tally_ecard_update AFTER UPDATE OF state ON ecard WHEN OLD.state IS NOT NEW.state"
    " BEGIN UPDATE registry_tally SET"
    " ecards_pending = ecards_pending - (OLD.state = 'pending') + (NEW.state = 'pending'),"
    " ecards_active = ecards_active - (OLD.state = 'active') + (NEW.state = 'active'),"
    " ecards_cancelled = ecards_cancelled - (OLD.state = 'cancelled') + (NEW.state = 'cancelled') WHERE shard = 0; END",
    "CREATE TRIGGER tally_ticket_insert AFTER INSERT ON activation_ticket WHEN NEW.used_at IS NULL"
    " BEGIN UPDATE registry_tally SET tickets_unused = tickets_unused + 1 WHERE shard = 0; END",
    "CREATE TRIGGER tally_ticket_delete AFTER DELETE ON activation_ticket WHEN OLD.used_at IS NULL"
    " BEGIN UPDATE registry_tally SET tickets_unused = tickets_unused - 1 WHERE shard = 0; END",
    "CREATE TRIGGER tally_ticket_update AFTER UPDATE OF used_at ON activation_ticket"
    " WHEN (OLD.used_at IS NULL) <> (NEW.used_at IS NULL) BEGIN UPDATE registry_tally SET"
    " tickets_unused = tickets_unused - (OLD.used_at IS NULL) + (NEW.used_at IS NULL) WHERE shard = 0; END",
    # APPLICANT_NOT_GUARDIAN
    f"CREATE TRIGGER ecard_link_insert AFTER INSERT ON ecard WHEN {UNLINKED.format(row='NEW')}"
    " BEGIN UPDATE ecard SET applicant_unlinked = 1 WHERE id = NEW.id; END",
    "CREATE TRIGGER ecard_link_update AFTER UPDATE OF applicant_id, child_id ON ecard"
    f" BEGIN UPDATE ecard SET applicant_unlinked = {UNLINKED.format(row='NEW')} WHERE id = NEW.id; END",
    "CREATE TRIGGER guardianship_link_insert AFTER INSERT ON guardianship BEGIN UPDATE ecard SET applicant_unlinked = 0"
    " WHERE applicant_id = NEW.guardian_id AND child_id = NEW.child_id AND applicant_unlinked; END",
    "CREATE TRIGGER guardianship_link_delete AFTER DELETE ON guardianship BEGIN UPDATE ecard SET applicant_unlinked = 1"
    " WHERE applicant_id = OLD.guardian_id AND child_id = OLD.child_id AND NOT applicant_unlinked; END",
    "CREATE TRIGGER guardianship_link_update AFTER UPDATE OF guardian_id, child_id ON guardianship BEGIN"
    " UPDATE ecard SET applicant_unlinked = 1 WHERE applicant_id = OLD.guardian_id AND child_id = OLD.child_id;"
    " UPDATE ecard SET applicant_unlinked = 0 WHERE applicant_id = NEW.guardian_id AND child_id = NEW.child_id; END",
    # USED_TICKET_NOT_ACTIVE
    "CREATE TRIGGER ticket_use_insert AFTER INSERT ON activation_ticket WHEN NEW.used_at IS NOT NULL"
    f" BEGIN UPDATE activation_ticket SET used_unactivated = ({UNACTIVATED.format(row='NEW')}) WHERE id = NEW.id; END",
    "CREATE TRIGGER ticket_use_update AFTER UPDATE OF used_at, ecard_id ON activation_ticket"
    f" BEGIN UPDATE activation_ticket SET used_unactivated = ({UNACTIVATED.format(row='NEW')}) WHERE id = NEW.id; END",
    "CREATE TRIGGER ecard_state_uses AFTER UPDATE OF state ON ecard WHEN OLD.state IS NOT NEW.state"
    " BEGIN UPDATE activation_ticket SET used_unactivated = (NEW.state <> 'active')"
    " WHERE ecard_id = NEW.id AND used_at IS NOT NULL AND used_unactivated <> (NEW.state <> 'active'); END",
]
SQLITE_TRIGGER_NAMES = [statement.split()[2] for statement in SQLITE_TRIGGERS]

_SHARD = f"pg_backend_pid() % {SHARDS}"
POSTGRESQL_FUNCTIONS = {
    "tally_person": f"""BEGIN
        UPDATE registry_tally SET persons = persons + CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END WHERE shard = {_SHARD};
        RETURN NULL; END""",
    "tally_audit": f"""BEGIN
        UPDATE registry_tally SET audit_events = audit_events + CASE TG_OP WHEN 'INSERT' THEN 1 ELSE -1 END
        WHERE shard = {_SHARD};
        RETURN NULL; END""",
    "tally_ecard": f"""DECLARE p int := 0; a int := 0; c int := 0;
        BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            p := p - (OLD.state = 'pending')::int; a := a - (OLD.state = 'active')::int;
            c := c - (OLD.state = 'cancelled')::int;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            p := p + (NEW.state = 'pending')::int; a := a + (NEW.state = 'active')::int;
            c := c + (NEW.state = 'cancelled')::int;
        END IF;
        IF p <> 0 OR a <> 0 OR c <> 0 THEN
            UPDATE registry_tally SET ecards_pending = ecards_pending + p, ecards_active = ecards_active + a,
                ecards_cancelled = ecards_cancelled + c WHERE shard = {_SHARD};
        END IF;
        RETURN NULL; END""",
    "tally_ticket": f"""DECLARE u int := 0;
        BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN u := u - (OLD.used_at IS NULL)::int; END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN u := u + (NEW.used_at IS NULL)::int; END IF;
        IF u <> 0 THEN UPDATE registry_tally SET tickets_unused = tickets_unused + u WHERE shard = {_SHARD}; END IF;
        RETURN NULL; END""",
    "ecard_link": f"""BEGIN NEW.applicant_unlinked := {UNLINKED.format(row='NEW')}; RETURN NEW; END""",
    "guardianship_links": """BEGIN
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            UPDATE ecard SET applicant_unlinked = true
            WHERE applicant_id = OLD.guardian_id AND child_id = OLD.child_id AND NOT applicant_unlinked;
        END IF;
        IF TG_OP IN ('UPDATE', 'INSERT') THEN
            UPDATE ecard SET applicant_unlinked = false
            WHERE applicant_id = NEW.guardian_id AND child_id = NEW.child_id AND applicant_unlinked;
        END IF;
        RETURN NULL; END""",
    "ticket_use": f"""BEGIN NEW.used_unactivated := {UNACTIVATED.format(row='NEW')}; RETURN NEW; END""",
    "ecard_state_uses": """BEGIN
        UPDATE activation_ticket SET used_unactivated = (NEW.state <> 'active')
        WHERE ecard_id = NEW.id AND used_at IS NOT NULL AND used_unactivated <> (NEW.state <> 'active');
        RETURN NULL; END""",
}
_DEFERRED = "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW"
POSTGRESQL_TRIGGERS = [  # (name, table, definition)
    ("tally_person", "person", f"CREATE CONSTRAINT TRIGGER tally_person AFTER INSERT OR DELETE ON person {_DEFERRED}"
     " EXECUTE FUNCTION tally_person()"),
    ("tally_audit", "audit_event", "CREATE CONSTRAINT TRIGGER tally_audit AFTER INSERT OR DELETE ON audit_event"
     f" {_DEFERRED} EXECUTE FUNCTION tally_audit()"),
    ("tally_ecard", "ecard", f"CREATE CONSTRAINT TRIGGER tally_ecard AFTER INSERT OR DELETE ON ecard {_DEFERRED}"
     " EXECUTE FUNCTION tally_ecard()"),
    ("tally_ecard_state", "ecard", "CREATE CONSTRAINT TRIGGER tally_ecard_state AFTER UPDATE OF state ON ecard"
     f" {_DEFERRED} WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION tally_ecard()"),
    ("tally_ticket", "activation_ticket", "CREATE CONSTRAINT TRIGGER tally_ticket AFTER INSERT OR DELETE"
     f" ON activation_ticket {_DEFERRED} EXECUTE FUNCTION tally_ticket()"),
    ("tally_ticket_use", "activation_ticket", "CREATE CONSTRAINT TRIGGER tally_ticket_use AFTER UPDATE OF used_at"
     f" ON activation_ticket {_DEFERRED} WHEN ((OLD.used_at IS NULL) <> (NEW.used_at IS NULL))"
     " EXECUTE FUNCTION tally_ticket()"),
    ("ecard_link", "ecard", "CREATE TRIGGER ecard_link BEFORE INSERT OR UPDATE OF applicant_id, child_id ON ecard"
     " FOR EACH ROW EXECUTE FUNCTION ecard_link()"),
    ("guardianship_links", "guardianship", "CREATE TRIGGER guardianship_links AFTER INSERT OR DELETE"
     " OR UPDATE OF guardian_id, child_id ON guardianship FOR EACH ROW EXECUTE FUNCTION guardianship_links()"),
    ("ticket_use", "activation_ticket", "CREATE TRIGGER ticket_use BEFORE INSERT OR UPDATE OF used_at, ecard_id"
     " ON activation_ticket FOR EACH ROW EXECUTE FUNCTION ticket_use()"),
    ("ecard_state_uses", "ecard", "CREATE TRIGGER ecard_state_uses AFTER UPDATE OF state ON ecard FOR EACH ROW"
     " WHEN (OLD.state IS DISTINCT FROM NEW.state) EXECUTE FUNCTION ecard_state_uses()"),
]


def upgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    if postgresql:
        # Kiosks of the last release may still write: hold them off until the tallies below are true.
        op.execute("LOCK TABLE person, audit_event, ecard, activation_ticket, guardianship IN SHARE ROW EXCLUSIVE MODE")
    op.add_column("ecard", sa.Column("applicant_unlinked", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.add_column("activation_ticket",
                  sa.Column("used_unactivated", sa.Boolean(), server_default=sa.false(), nullable=False))
    op.create_table(
        "registry_tally",
        sa.Column("shard", sa.Integer(), autoincrement=False, nullable=False),
        *(sa.Column(name, sa.BigInteger(), nullable=False) for name in
          ("persons", "audit_events", "ecards_pending", "ecards_active", "ecards_cancelled", "tickets_unused")),
        sa.PrimaryKeyConstraint("shard"),
    )
    op.execute(f"UPDATE ecard SET applicant_unlinked = {UNLINKED.format(row='ecard')}")
    op.execute(f"UPDATE activation_ticket SET used_unactivated = ({UNACTIVATED.format(row='activation_ticket')})")
    op.execute(
        "INSERT INTO registry_tally (shard, persons, audit_events, ecards_pending, ecards_active, ecards_cancelled,"
        " tickets_unused) SELECT 0, (SELECT count(*) FROM person), (SELECT count(*) FROM audit_event),"
        " (SELECT count(*) FROM ecard WHERE state = 'pending'), (SELECT count(*) FROM ecard WHERE state = 'active'),"
        " (SELECT count(*) FROM ecard WHERE state = 'cancelled'),"
        " (SELECT count(*) FROM activation_ticket WHERE used_at IS NULL)"
    )
    if postgresql:
        op.execute(f"INSERT INTO registry_tally SELECT shard, 0, 0, 0, 0, 0, 0 FROM generate_series(1, {SHARDS - 1}) shard")
        for name, body in POSTGRESQL_FUNCTIONS.items():
            returns = "trigger"
            op.execute(f"CREATE FUNCTION {name}() RETURNS {returns} LANGUAGE plpgsql AS $$ {body} $$")
        for _, _, definition in POSTGRESQL_TRIGGERS:
            op.execute(definition)
    else:
        for definition in SQLITE_TRIGGERS:
            op.execute(definition)

    op.drop_index("ix_audit_event_kind", table_name="audit_event")
    op.create_index("ix_audit_event_kind_id", "audit_event", ["kind", "id"])
    op.create_index("ix_ecard_created_at", "ecard", ["created_at"])
    op.create_index("ix_ecard_activated_at", "ecard", ["activated_at"])
    op.create_index("ix_ecard_pending_since", "ecard", ["created_at", "id"],
                    sqlite_where=sa.text("state = 'pending'"), postgresql_where=sa.text("state = 'pending'"))
    for index, table, where in BREACHES:
        op.create_index(index, table, ["id"], sqlite_where=sa.text(where), postgresql_where=sa.text(where))


def downgrade() -> None:
    postgresql = op.get_bind().dialect.name == "postgresql"
    for index, table, _ in BREACHES:
        op.drop_index(index, table_name=table)
    for index, table in (("ix_ecard_pending_since", "ecard"), ("ix_ecard_activated_at", "ecard"),
                         ("ix_ecard_created_at", "ecard"), ("ix_audit_event_kind_id", "audit_event")):
        op.drop_index(index, table_name=table)
    op.create_index("ix_audit_event_kind", "audit_event", ["kind"])
    if postgresql:
        for name, table, _ in POSTGRESQL_TRIGGERS:
            op.execute(f"DROP TRIGGER {name} ON {table}")
        for name in POSTGRESQL_FUNCTIONS:
            op.execute(f"DROP FUNCTION {name}()")
    else:
        for name in SQLITE_TRIGGER_NAMES:
            op.execute(f"DROP TRIGGER {name}")
    op.drop_table("registry_tally")
    # Plain columns, their indexes and triggers gone: SQLite drops them in place (a table copy of ecard
    # would trip over the foreign keys that point at it).
    op.execute("ALTER TABLE activation_ticket DROP COLUMN used_unactivated")
    op.execute("ALTER TABLE ecard DROP COLUMN applicant_unlinked")
