"""Tests `ecard-registry technician` and `ecard-registry operator`: PINs and passwords from standard input or asked
twice, only scrypt hashes kept, a revoked technician gone from the next heartbeat's list, unlock."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa

from kiosk.maintenance.passwords import parse_pin_hash
from registry_service.cli import main
from tests.service.console_client import outcome_of, sign_in
from tests.service.heartbeat_fuzzer import PATH, valid_beat

pytestmark = pytest.mark.parametrize("running_service", [
    pytest.param("sqlite", marks=pytest.mark.xdist_group("service-sqlite"))], indirect=True)


@pytest.fixture
def command(running_service, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]):
    monkeypatch.setenv("ECARD_REGISTRY_DATABASE_URL", running_service.settings.database_url)

    def run(*args: str, stdin: str = "") -> tuple[int, str, str]:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
        status = main(list(args))
        out, err = capsys.readouterr()
        return status, out, err

    return run


def test_technicians_are_added_from_stdin_listed_and_revoked_within_one_heartbeat(running_service, command) -> None:
    assert command("technician", "add", "T0001", "--pin-stdin", stdin="246810\n")[0] == 0
    status, _, err = command("technician", "add", "T0001", "--pin-stdin", stdin="135799\n")
    assert status == 1 and "revoke it first" in err
    status, _, err = command("technician", "add", "T0002", "--pin-stdin", stdin="12ab\n")
    assert status == 1 and err.strip() == "ecard-registry: a technician PIN is 5 to 12 digits"
    status, _, err = command("technician", "add", "T 3", "--pin-stdin", stdin="135799\n")
    assert status == 1 and "1 to 20 letters" in err
    assert command("technician", "add", "T0002", "--pin-stdin", stdin="")[0] == 1
    with running_service.service.database.connection("look") as connection:
        stored = connection.execute(sa.text("SELECT pin_hash FROM technician")).scalars().all()
    assert len(stored) == 1 and "246810" not in stored[0] and parse_pin_hash(stored[0]).matches("246810")
    with running_service.client(running_service.kiosk("HALL-1")) as kiosk:
        held = kiosk.post(PATH, json=valid_beat()).json()["technicians"]
        assert list(held["accounts"]) == ["T0001"]
        assert command("technician", "revoke", "T0001")[0] == 0
        assert command("technician", "revoke", "T0001")[0] == 1
        assert kiosk.post(PATH, json=valid_beat(technicians_etag=held["etag"])).json()["technicians"]["accounts"] == {}
    status, listed, _ = command("technician", "list")
    assert status == 0 and "T0001" in listed and "revoked" in listed


def test_operators_are_added_unlocked_listed_and_removed(running_service, command) -> None:
    assert command("operator", "add", "ops-1", "--password-stdin", stdin="correct horse battery\n")[0] == 0
    status, _, err = command("operator", "add", "ops-2", "--password-stdin", stdin="short\n")
    assert status == 1 and "10 to 128 characters" in err
    assert command("operator", "add", "ops-1", "--password-stdin", stdin="another long one\n")[0] == 1
    tries = running_service.settings.console_lockout_tries
    with running_service.client() as client:
        for _ in range(tries):
            sign_in(client, "ops-1", "not the password")
        status, listed, _ = command("operator", "list")
        assert status == 0 and f"wrong tries {tries}" in listed and "locked" in listed
        assert outcome_of(sign_in(client, "ops-1", "correct horse battery")) == "locked"
        assert command("operator", "unlock", "ops-1")[0] == 0
        assert sign_in(client, "ops-1", "correct horse battery").status_code == 303
        assert client.get("/console").status_code == 200
        assert command("operator", "remove", "ops-1")[0] == 0
        assert client.get("/console").status_code == 303  # its sessions ended with it
    assert command("operator", "remove", "ops-1")[0] == 1
    assert command("operator", "unlock", "nobody")[0] == 1


def test_a_pin_asked_twice_must_match(running_service, command, monkeypatch: pytest.MonkeyPatch) -> None:
    answers = iter(["246810", "246811"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    status, _, err = command("technician", "add", "T0009")
    assert status == 1 and "differ" in err
    assert running_service.service.technicians.current()[1] == {}
