"""The registry's schema under Alembic, on SQLite and PostgreSQL: empty to head, the last release's data kept."""
from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, Iterator

import pytest
import sqlalchemy as sa
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from kiosk.domain import ECardState
from kiosk.ports import ManualClock
from kiosk.registry import Registry
from kiosk.registry import schema
from kiosk.registry.database import Database
from kiosk.registry.models import REGISTRY_METADATA, TABLE_NAMES
from kiosk.registry.schema import LAST_RELEASE, SchemaNotCurrent
from tests.conftest import kiosk_root
from tests.fixtures.last_release import ROWS, load_last_release

from .conftest import BACKENDS, KIOSK_ID, empty_postgresql, sqlite_url

ZHANG_XIAOYU = "430102201906010029"
YANG_YINUO = "430104202201050095"


@pytest.fixture(params=BACKENDS)
def empty_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database (nothing in it at all) on each backend."""
    if request.param == "sqlite":
        return sqlite_url(tmp_path)
    url = request.getfixturevalue("postgres_test_url")
    engine = sa.create_engine(url)
    empty_postgresql(engine)
    engine.dispose()
    return url


@pytest.fixture
def database(empty_url: str) -> Iterator[Database]:
    opened = Database.open(empty_url)
    yield opened
    opened.dispose()


def _shape(connection: sa.Connection) -> dict[str, Any]:
    """Everything the schema says about the registry's tables, comparable across databases made differently."""
    inspector = sa.inspect(connection)
    shape: dict[str, Any] = {}
    for table in sorted(set(inspector.get_table_names()) & TABLE_NAMES):
        indexes = {
            index["name"]: (
                tuple(index["column_names"]), bool(index["unique"]),
                {k: str(v) for k, v in (index.get("dialect_options") or {}).items()},
            )
            for index in inspector.get_indexes(table)
        }
        shape[table] = {
            "columns": [(c["name"], str(c["type"]), c["nullable"]) for c in inspector.get_columns(table)],
            "primary_key": tuple(inspector.get_pk_constraint(table)["constrained_columns"]),
            "foreign_keys": sorted(
                (tuple(fk["constrained_columns"]), fk["referred_table"], tuple(fk["referred_columns"]))
                for fk in inspector.get_foreign_keys(table)
            ),
            "unique": sorted((u["name"], tuple(u["column_names"])) for u in inspector.get_unique_constraints(table)),
            "indexes": indexes,
        }
    return shape


def _rows(connection: sa.Connection) -> dict[str, int]:
    return {table: connection.execute(sa.text(f"SELECT count(*) FROM {table}")).scalar_one() for table in ROWS}


def test_an_empty_database_migrates_to_head_and_head_is_what_the_models_say(database: Database) -> None:
    assert schema.schema_status(database).state == "behind"
    status = schema.upgrade(database)
    assert status.current and status.revision == schema.head()
    with database.connection("compare") as connection:
        context = MigrationContext.configure(
            connection, opts={"include_name": lambda name, kind, parents: kind != "table" or name in TABLE_NAMES}
        )
        assert compare_metadata(context, REGISTRY_METADATA) == []


def test_revision_0001_is_exactly_the_schema_the_last_release_created(empty_url: str, tmp_path: Path) -> None:
    migrated = Database.open(empty_url)
    try:
        schema.upgrade(migrated, LAST_RELEASE)
        with migrated.connection("shape") as connection:
            by_migration = _shape(connection)
            connection.execute(sa.text("DROP TABLE alembic_version"))
            for table in ("activation_ticket", "audit_event", "ecard", "social_security_card", "guardianship", "person"):
                connection.execute(sa.text(f"DROP TABLE {table}"))
    finally:
        migrated.dispose()
    load_last_release(empty_url)  # the release's own create_all, dumped
    released = Database.open(empty_url)
    try:
        with released.connection("shape") as connection:
            assert _shape(connection) == by_migration
            assert set(by_migration) == TABLE_NAMES & set(ROWS)
    finally:
        released.dispose()


def test_the_last_release_database_upgrades_to_head_with_every_row_kept(empty_url: str, clock: ManualClock) -> None:
    load_last_release(empty_url)
    registry = Registry.open(empty_url, clock, kiosk_id=KIOSK_ID)
    try:
        status = registry.schema_status()
        assert status.state == "behind" and status.revision is None and "last release" in status.detail
        assert registry.upgrade_schema().current
        with registry.database.connection("rows") as connection:
            assert _rows(connection) == ROWS
            kept = connection.execute(sa.text("SELECT count(*) FROM activation_ticket WHERE used_at IS NOT NULL"))
            assert kept.scalar_one() == 1
        # The registry works on what the release left: its people, e-cards and pending registrations.
        assert registry.find_person(ZHANG_XIAOYU).name == "张小雨"
        assert registry.child_ecard(ZHANG_XIAOYU).state is ECardState.ACTIVE
        pending = registry.child_ecard(YANG_YINUO)
        assert pending.state is ECardState.PENDING
        ticket = registry.issue_ticket(pending.ecard_id, "https://ecard.example.gov.cn/activate", 300)
        assert registry.activate(ticket.url).ecard_id == pending.ecard_id
        assert registry.upgrade_schema().current  # a second start changes nothing
    finally:
        registry.close()


def test_the_schema_status_says_current_behind_with_the_command_or_ahead(database: Database) -> None:
    empty = schema.schema_status(database)
    assert empty.state == "behind" and f"(run: {schema.UPGRADE_COMMAND})" in empty.advice()
    assert "(run: ecard-registry db upgrade)" in empty.advice("ecard-registry db upgrade")
    schema.upgrade(database, LAST_RELEASE)
    if schema.head() != LAST_RELEASE:
        older = schema.schema_status(database)
        assert older.state == "behind" and older.revision == LAST_RELEASE
    assert schema.upgrade(database).current
    assert schema.schema_status(database).advice() == f"current (revision {schema.head()})"
    with database.connection("newer release", writes=True) as connection:
        connection.execute(sa.text("UPDATE alembic_version SET version_num = 'f00dcafe'"))
    ahead = schema.schema_status(database)
    assert ahead.state == "ahead" and ahead.revision == "f00dcafe"
    assert ahead.advice().startswith("ahead/unknown: revision f00dcafe")
    with pytest.raises(SchemaNotCurrent) as refused:
        schema.upgrade(database)
    assert refused.value.code == "DATABASE_UNAVAILABLE" and "update the software" in refused.value.detail
    assert schema.schema_status(database).revision == "f00dcafe"  # untouched


def test_a_database_of_something_else_is_unknown_and_left_alone(database: Database) -> None:
    with database.connection("someone else's", writes=True) as connection:
        connection.execute(sa.text("CREATE TABLE person (id INTEGER PRIMARY KEY, nickname VARCHAR(20))"))
    status = schema.schema_status(database)
    assert status.state == "unknown" and "person" in status.detail
    with pytest.raises(SchemaNotCurrent):
        schema.upgrade(database)
    with database.connection("look") as connection:
        assert set(sa.inspect(connection).get_table_names()) == {"person"}


def test_two_kiosks_upgrading_one_database_at_once_both_end_at_head(empty_url: str) -> None:
    databases = [Database.open(empty_url) for _ in range(2)]
    start = threading.Barrier(2)
    outcomes: list[object] = []

    def upgrade(database: Database) -> None:
        start.wait(10)
        try:
            outcomes.append(schema.upgrade(database))
        except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
            outcomes.append(exc)

    threads = [threading.Thread(target=upgrade, args=(database,)) for database in databases]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for database in databases:
        database.dispose()
    assert [getattr(outcome, "state", outcome) for outcome in outcomes] == ["current", "current"]


def test_the_kiosk_upgrades_its_own_database_on_start_and_loads_the_demo_data_once(settings_for) -> None:
    kiosk = kiosk_root.build_kiosk(settings_for(demo_data=True))
    try:
        assert kiosk.registry.schema_status().current
        assert kiosk.registry.find_person(ZHANG_XIAOYU) is not None
    finally:
        kiosk.registry.close()


def test_the_kiosk_started_on_the_last_release_database_upgrades_it_and_keeps_its_data(
    settings_for, tmp_path: Path
) -> None:
    load_last_release(f"sqlite:///{tmp_path / 'data' / 'registry.sqlite3'}")
    kiosk = kiosk_root.build_kiosk(settings_for(demo_data=True))
    try:
        assert kiosk.registry.schema_status().current
        with kiosk.registry.database.connection("rows") as connection:
            assert _rows(connection) == ROWS  # upgraded, and no demo data loaded on top
    finally:
        kiosk.registry.close()


def test_the_migrate_command_tells_the_state_and_upgrades(empty_url: str, capsys: pytest.CaptureFixture[str]) -> None:
    from kiosk.registry.migrate import main

    assert main(["--database-url", empty_url, "status"]) == 1
    said = capsys.readouterr().out
    assert "behind: the database is empty (run: python -m kiosk.registry.migrate --database-url" in said
    assert main(["--database-url", empty_url, "upgrade"]) == 0
    assert f"current (revision {schema.head()})" in capsys.readouterr().out
    assert main(["--database-url", empty_url, "status"]) == 0


def test_the_migrate_command_says_in_one_line_why_a_database_cannot_be_used(tmp_path: Path, capsys) -> None:
    from kiosk.registry.migrate import main

    (tmp_path / "garbage.sqlite3").write_bytes(b"not a database, just bytes" * 100)
    assert main(["--database-url", f"sqlite:///{tmp_path / 'garbage.sqlite3'}", "status"]) == 2
    said = capsys.readouterr().err.strip()
    assert said.startswith("migrate: ") and "file is not a database" in said and "\n" not in said


def test_every_revision_goes_down_and_up_again_with_the_last_release_data_kept(empty_url: str,
                                                                               clock: ManualClock) -> None:
    load_last_release(empty_url)
    database = Database.open(empty_url)
    try:
        assert schema.upgrade(database).current
        assert schema.downgrade(database, LAST_RELEASE).revision == LAST_RELEASE
        with database.connection("rows") as connection:
            assert _rows(connection) == ROWS
            assert set(sa.inspect(connection).get_table_names()) == set(ROWS) | {"alembic_version"}
        assert schema.upgrade(database).current
        with database.connection("rows") as connection:
            assert _rows(connection) == ROWS
    finally:
        database.dispose()
    registry = Registry.open(empty_url, clock)
    try:
        counts = registry.counts(clock.now().replace(hour=0))
        assert (counts.people, counts.audit_events, counts.pending + counts.activated) == (
            ROWS["person"], ROWS["audit_event"], ROWS["ecard"])
        found = {f.code: f.count for f in registry.consistency()}
        # the release's kiosk that died between registering and issuing (the fixture's 赵一鸣)
        assert found["PENDING_WITHOUT_TICKET"] == 2 and sum(found.values()) == 2
    finally:
        registry.close()
