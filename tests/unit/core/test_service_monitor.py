"""The service monitor: a kiosk out of service while its database or rule file cannot be used, and back by itself."""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kiosk import CONFIG_DIR
from kiosk.health import CONFIGURATION, DATABASE
from kiosk.session import InlineRunner, Step
from tests.conftest import kiosk_root

@pytest.fixture
def rules(tmp_path: Path) -> Path:
    path = tmp_path / "rules" / "default.toml"
    path.parent.mkdir()
    shutil.copy(CONFIG_DIR / "regions" / "default.toml", path)
    return path


def _built(settings_for, **overrides):
    kiosk = kiosk_root.build_kiosk(settings_for(**overrides))
    kiosk.session.use_runner(InlineRunner())  # the card is read as it goes in
    return kiosk


def test_a_database_that_goes_away_takes_the_idle_kiosk_out_of_service_and_back(settings_for, tmp_path: Path) -> None:
    kiosk = _built(settings_for)
    try:
        assert kiosk.monitor.check() == ()
        database = tmp_path / "data" / "registry.sqlite3"
        hidden = database.with_name("hidden.sqlite3")
        kiosk.registry.close()
        database.rename(hidden)  # the kiosk never makes a new empty file behind anyone's back
        assert kiosk.monitor.check() == (DATABASE,)
        view = kiosk.session.view
        assert view.step is Step.OUT_OF_SERVICE and view.out_of_service == DATABASE
        hidden.rename(database)
        assert kiosk.monitor.check() == ()
        assert kiosk.session.step is Step.WELCOME
    finally:
        kiosk.registry.close()


def test_a_visit_under_way_is_never_cut_short_by_a_check(settings_for, tmp_path: Path) -> None:
    kiosk = _built(settings_for)
    try:
        kiosk.bench.insert("li-na-2.00")
        assert kiosk.session.step is Step.HOLDER
        kiosk.registry.close()
        (tmp_path / "data" / "registry.sqlite3").rename(tmp_path / "away.sqlite3")
        assert kiosk.monitor.check() == ()
        assert kiosk.session.step is Step.HOLDER  # the visit reports a failure on its own screen if it meets one
    finally:
        kiosk.registry.close()


def test_a_kiosk_started_before_its_database_server_comes_up_when_it_does(settings_for, postgres_server) -> None:
    name = "kiosk_started_early"
    postgres_server.execute(f"DROP DATABASE IF EXISTS {name}")
    url = postgres_server.url(name)  # no such database yet: every connection fails
    kiosk = _built(settings_for, database_url=url, demo_data=True)
    try:
        assert kiosk.session.view.out_of_service == DATABASE
        assert kiosk.monitor.check() == (DATABASE,) and not kiosk.monitor.prepared
        postgres_server.create_database(name)
        assert kiosk.monitor.check() == ()
        assert kiosk.monitor.prepared and kiosk.session.step is Step.WELCOME
        assert not kiosk.registry.is_empty()  # tables made and demo data loaded on the first answer
    finally:
        kiosk.registry.close()
        postgres_server.end_connections(name)
        postgres_server.execute(f"DROP DATABASE IF EXISTS {name}")


def test_a_broken_rule_file_takes_the_kiosk_out_of_service_and_the_corrected_one_brings_new_rules(
        settings_for, rules: Path) -> None:
    kiosk = _built(settings_for, region=str(rules))
    try:
        good = rules.read_text(encoding="utf-8")
        assert kiosk.session.region.age_limit == 16
        rules.write_text(good.replace("age_limit = 16", "age_limit = sixteen"), encoding="utf-8")
        assert kiosk.monitor.check() == (CONFIGURATION,)
        assert kiosk.session.view.out_of_service == CONFIGURATION
        assert kiosk.session.region.age_limit == 16  # nothing decided on a half-edited file
        rules.write_text(good.replace("age_limit = 16", "age_limit = 14"), encoding="utf-8")
        assert kiosk.monitor.check() == ()
        assert kiosk.session.step is Step.WELCOME and kiosk.session.region.age_limit == 14
    finally:
        kiosk.registry.close()


def test_a_kiosk_started_with_a_broken_rule_file_waits_out_of_service(settings_for, rules: Path) -> None:
    good = rules.read_text(encoding="utf-8")
    rules.write_text("age_limit = [", encoding="utf-8")
    kiosk = _built(settings_for, region=str(rules))
    try:
        assert kiosk.session.view.step is Step.OUT_OF_SERVICE
        assert kiosk.session.view.out_of_service == CONFIGURATION
        rules.write_text(good, encoding="utf-8")
        assert kiosk.monitor.check() == ()
        assert kiosk.session.step is Step.WELCOME and kiosk.session.region.age_limit == 16
    finally:
        kiosk.registry.close()


def test_reasons_add_up_and_the_kiosk_returns_when_the_last_one_goes(settings_for, rules: Path, tmp_path: Path) -> None:
    kiosk = _built(settings_for, region=str(rules))
    session = kiosk.session
    try:
        session.out_of_service("READER_UNAVAILABLE")
        rules.write_text("nonsense = [", encoding="utf-8")
        assert kiosk.monitor.check() == ("READER_UNAVAILABLE", CONFIGURATION)
        session.back_in_service("READER_UNAVAILABLE")  # the reader is back, the rules are not
        assert session.step is Step.OUT_OF_SERVICE and session.view.out_of_service == CONFIGURATION
        shutil.copy(CONFIG_DIR / "regions" / "default.toml", rules)
        assert kiosk.monitor.check() == ()
        assert session.step is Step.WELCOME
    finally:
        kiosk.registry.close()
