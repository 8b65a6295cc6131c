"""Tests the `ecard-registry` command: serve refuses a schema that is behind (in a subprocess), upgrade, credentials."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from kiosk.registry import schema
from kiosk.registry.database import Database
from registry_service.cli import main
from tests.conftest import ROOT



def run(*args: str, env: dict[str, str], launcher: tuple[str, ...] = ("-m", "registry_service")) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, *launcher, *args], capture_output=True, text=True, timeout=60,
                          env={**os.environ, **env}, cwd=ROOT)


def command(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    status = main(list(args))
    out, err = capsys.readouterr()
    return status, out, err


def test_on_sqlite_serve_refuses_a_behind_schema_and_the_operator_commands_work(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    env = {"ECARD_REGISTRY_DATA_DIR": str(tmp_path), "ECARD_REGISTRY_PORT": "0"}
    refused = run("serve", env=env, launcher=(str(ROOT / "kiosk.py"),))  # kiosk.py serve is ecard-registry serve
    assert refused.returncode == 2, refused.stderr
    assert refused.stderr.strip().splitlines() == [
        "ecard-registry: the registry's schema is behind: the database is empty (run: ecard-registry upgrade)"]
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert command(capsys, "status")[0] == 1
    status, out, _ = command(capsys, "upgrade")
    assert status == 0 and f"current (revision {schema.head()})" in out
    status, credential, err = command(capsys, "kiosk", "add", "HALL-1")
    credential = credential.strip()
    assert status == 0 and len(credential) == 43 and "shown only now" in err
    status, _, err = command(capsys, "kiosk", "add", "HALL-1")
    assert status == 1 and "revoke it first" in err
    assert command(capsys, "kiosk", "revoke", "HALL-1", "--reason", "box replaced")[0] == 0
    status, listed, _ = command(capsys, "kiosk", "list")
    assert status == 0 and "HALL-1" in listed and "box replaced" in listed and credential not in listed
    database = Database.open(f"sqlite:///{tmp_path / 'registry.sqlite3'}")
    with database.connection("look") as connection:
        stored = [row[0] for row in connection.exec_driver_sql("SELECT secret_hash FROM kiosk_credential")]
    database.dispose()
    assert credential not in str(stored) and len(stored[0]) == 64  # only its SHA-256
    status, _, err = command(capsys, "kiosk", "add", "no spaces allowed")
    assert status == 2 and len(err.strip().splitlines()) == 1
    monkeypatch.setenv("ECARD_REGISTRY_POOL_SIZE", "many")
    status, _, err = command(capsys, "serve")
    assert status == 2 and err.strip().splitlines() == [
        "ecard-registry: setting 'pool_size' (from ECARD_REGISTRY_POOL_SIZE) is not allowed: Input should be a valid "
        "integer, unable to parse string as an integer; got 'many'"]


@pytest.mark.xdist_group("service-postgresql")
def test_on_postgresql_serve_refuses_a_schema_one_revision_behind_and_upgrade_fixes_it(
    postgres_server, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    url = postgres_server.create_database("kiosk_service_behind")
    database = Database.open(url)
    schema.upgrade(database, target="0006")
    database.dispose()
    env = {"ECARD_REGISTRY_DATABASE_URL": url, "ECARD_REGISTRY_PORT": "0"}
    refused = run("serve", env=env)
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert refused.stderr.strip() == (f"ecard-registry: the registry's schema is behind: revision 0006, this release "
                                      f"needs {schema.head()} (run: ecard-registry upgrade)")
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert command(capsys, "upgrade")[0] == 0
    assert command(capsys, "status")[0] == 0
