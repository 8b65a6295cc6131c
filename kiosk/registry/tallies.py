"""Provides the registry's running tallies (kept by triggers) and their recount after bulk loads or repairs."""
from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa

from kiosk.registry.models import TALLY_SHARDS, RegistryTally

_COLUMNS = ("persons", "audit_events", "ecards_pending", "ecards_active", "ecards_cancelled", "tickets_unused")
_UNLINKED = ("NOT EXISTS (SELECT 1 FROM guardianship g WHERE g.guardian_id = ecard.applicant_id"
             " AND g.child_id = ecard.child_id)")
_UNACTIVATED = ("activation_ticket.used_at IS NOT NULL AND COALESCE((SELECT e.state FROM ecard e"
                " WHERE e.id = activation_ticket.ecard_id), '') <> 'active'")


@dataclass(frozen=True)
class Tally:
    """What the registry holds, counted as it was written."""

    persons: int
    audit_events: int
    ecards_pending: int
    ecards_active: int
    ecards_cancelled: int
    tickets_unused: int


def tally_query() -> sa.Select:
    """The tallies, summed over their rows (a scalar subquery per column can go into a larger SELECT)."""
    table = RegistryTally.__table__  # type: ignore[attr-defined]
    return sa.select(*(sa.func.coalesce(sa.func.sum(table.c[name]), 0).label(name) for name in _COLUMNS))


def read(connection: sa.Connection) -> Tally:
    """The tallies as they stand."""
    row = connection.execute(tally_query()).one()
    return Tally(*(int(value) for value in row))


def recount(connection: sa.Connection) -> Tally:
    """Count everything afresh: the tallies and the cross-table consistency flags the triggers keep.

    For after a bulk load that went around the triggers (PostgreSQL's session_replication_role =
    replica, as the benchmark's fill does), or to repair; a full pass over the tables, so not for the
    console's every visit. PostgreSQL: run with the counted tables locked against writers (or none
    running), or a write committed meanwhile is counted twice or not at all.
    """
    connection.execute(sa.text(f"UPDATE ecard SET applicant_unlinked = {_UNLINKED}"))
    connection.execute(sa.text(f"UPDATE activation_ticket SET used_unactivated = ({_UNACTIVATED})"))
    counted = connection.execute(sa.text(
        "SELECT (SELECT count(*) FROM person), (SELECT count(*) FROM audit_event),"
        " (SELECT count(*) FROM ecard WHERE state = 'pending'), (SELECT count(*) FROM ecard WHERE state = 'active'),"
        " (SELECT count(*) FROM ecard WHERE state = 'cancelled'),"
        " (SELECT count(*) FROM activation_ticket WHERE used_at IS NULL)"
    )).one()
    table = RegistryTally.__table__  # type: ignore[attr-defined]
    connection.execute(table.delete())
    shards = TALLY_SHARDS if connection.dialect.name == "postgresql" else 1
    rows = [{"shard": shard, **{name: 0 for name in _COLUMNS}} for shard in range(shards)]
    rows[0].update(zip(_COLUMNS, (int(value) for value in counted)))
    connection.execute(table.insert(), rows)
    return Tally(*(int(value) for value in counted))
