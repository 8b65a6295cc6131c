"""The registry service as deploy/ecard-registry.service runs it: its database URL from $CREDENTIALS_DIRECTORY,
READY=1 once it listens, WATCHDOG=1 from the loop that serves (none while it is frozen), STOPPING=1 on SIGTERM."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from registry_service.settings import ServiceSettingsError, load_service_settings
from tests.deploy.appliance import ROOT
from tests.notify_listener import NotifyListener
from tests.postgres_server import free_port

WATCHDOG_USEC = "1000000"  # WatchdogSec=1: a ping every 0.5 s asked, uvicorn's tick sends one a second


def _credentials(tmp_path: Path, database_url: str) -> Path:
    folder = tmp_path / "credentials"
    folder.mkdir(exist_ok=True)
    (folder / "database_url").write_text(database_url + "\n", encoding="utf-8")
    return folder


def _environment(tmp_path: Path, credentials: Path, port: int, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("ECARD_REGISTRY_", "NOTIFY_SOCKET", "WATCHDOG_", "CREDENTIALS_DIRECTORY"))}
    env.update({"CREDENTIALS_DIRECTORY": str(credentials), "ECARD_REGISTRY_DATA_DIR": str(tmp_path / "data"),
                "ECARD_REGISTRY_PORT": str(port), "ECARD_REGISTRY_LOG_LEVEL": "WARNING"}, **extra)
    return env


def _registry(*args: str, env: dict[str, str], **kwargs) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "registry_service", *args], env=env, cwd=ROOT,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


@pytest.fixture
def upgraded(tmp_path):
    """A credentials folder whose database_url names an SQLite registry at this release's schema."""
    database = tmp_path / "from-credential.sqlite3"
    credentials = _credentials(tmp_path, f"sqlite:///{database}")
    upgrade = _registry("upgrade", env=_environment(tmp_path, credentials, 0))
    output, _ = upgrade.communicate(timeout=120)
    assert upgrade.returncode == 0, output
    assert database.exists(), "the upgrade did not use the database URL from the credential"
    return credentials


def _count(messages, text: str) -> int:
    return sum(text in message for _, message in messages)


def test_the_service_reads_its_database_from_the_credential_says_ready_pings_from_its_loop_and_stops(tmp_path, upgraded):
    port = free_port()
    listener = NotifyListener(tmp_path / "notify.sock")
    service = _registry("serve", env=_environment(tmp_path, upgraded, port, NOTIFY_SOCKET=str(tmp_path / "notify.sock"),
                                                  WATCHDOG_USEC=WATCHDOG_USEC))
    try:
        messages = listener.wait_until(lambda got: _count(got, "READY=1") == 1, 60)
        assert messages[0][1] == f"READY=1\nSTATUS=serving on 127.0.0.1:{port}", messages
        # READY=1 means it listens: the health route answers at once, from the credential's database.
        health = httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=10)
        assert health.status_code == 200, health.text
        messages = listener.wait_until(lambda got: _count(got, "WATCHDOG=1") >= 2, 10)

        # Frozen (SIGSTOP, as a hung event loop would be): no ping, so systemd would restart it.
        service.send_signal(signal.SIGSTOP)
        frozen_from = len(listener.messages)
        with listener.changed:
            pinged = listener.changed.wait_for(lambda: len(listener.messages) > frozen_from, 2.5)
        assert not pinged, listener.messages[frozen_from:]
        service.send_signal(signal.SIGCONT)
        listener.wait_until(lambda got: _count(got[frozen_from:], "WATCHDOG=1") >= 1, 10)

        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=30)
        # uvicorn re-raises the SIGTERM it caught once it has shut down; systemd counts that a clean stop.
        assert service.returncode in (0, -signal.SIGTERM), output
        assert listener.messages[-1][1] == "STOPPING=1", listener.messages[-3:]
        assert "from-credential" not in output  # the URL is a secret: not echoed
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
        listener.close()


def test_with_two_workers_ready_comes_once_both_serve(tmp_path, upgraded):
    port = free_port()
    listener = NotifyListener(tmp_path / "notify.sock")
    service = _registry("serve", "--workers", "2",
                        env=_environment(tmp_path, upgraded, port, NOTIFY_SOCKET=str(tmp_path / "notify.sock"),
                                         WATCHDOG_USEC=WATCHDOG_USEC))
    try:
        messages = listener.wait_until(lambda got: _count(got, "READY=1") == 1, 90)
        assert messages[0][1] == f"READY=1\nSTATUS=serving on 127.0.0.1:{port} (2 workers)", messages
        assert httpx.get(f"http://127.0.0.1:{port}/v1/health", timeout=10).status_code == 200
        listener.wait_until(lambda got: _count(got, "WATCHDOG=1") >= 1, 10)
        service.send_signal(signal.SIGTERM)
        output, _ = service.communicate(timeout=60)
        assert service.returncode == 0, output
        assert _count(listener.messages, "STOPPING=1") == 1
    finally:
        if service.poll() is None:
            service.kill()
            service.wait()
        listener.close()


def test_the_credential_wins_over_the_site_file_and_the_environment_over_both(tmp_path):
    credentials = _credentials(tmp_path, "postgresql+psycopg://registry:secret@db.example/registry")
    site = tmp_path / "registry.toml"
    site.write_text('database_url = "sqlite:///site.sqlite3"\n', encoding="utf-8")
    environ = {"CREDENTIALS_DIRECTORY": str(credentials)}
    assert load_service_settings(site, environ=environ).database_url.endswith("@db.example/registry")
    environ["ECARD_REGISTRY_DATABASE_URL"] = "sqlite:///env.sqlite3"
    assert load_service_settings(site, environ=environ).database_url == "sqlite:///env.sqlite3"
    (credentials / "database_url").write_text("\n", encoding="utf-8")  # empty: as if absent
    assert load_service_settings(site, environ={"CREDENTIALS_DIRECTORY": str(credentials)}).database_url == \
        "sqlite:///site.sqlite3"


def test_an_unreadable_credential_is_named_and_its_value_never_shown(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "database_url").write_bytes(b"postgresql://u:\xff\xfesecret@db/registry")
    with pytest.raises(ServiceSettingsError) as caught:
        load_service_settings(environ={"CREDENTIALS_DIRECTORY": str(credentials)})
    assert "credential database_url" in str(caught.value) and "secret" not in str(caught.value)
