"""Provides the structural guard of the kiosk's start-up: what the way to its first screen imports, in a fresh interpreter.

Everything imported before the first screen is time the guardian looks at an empty terminal; the
database, HTTP, validation and QR libraries, the session's event code and the other screens load after
it (ecard_kiosk.opening, kiosk.first_use). This checks modules, not milliseconds (the time is bench/'s).
"""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

_PROBE = """
import json, sys
from ecard_kiosk import cli, commands  # the command line, as `python kiosk.py` loads it
from ecard_kiosk.build import build_app, build_kiosk
from kiosk.settings import load_settings
from screens.registry import screen_for

environ = json.loads(sys.argv[1])
kiosk = build_kiosk(load_settings(environ=environ).settings, deferred=True)
app = build_app(kiosk)
first = screen_for(kiosk.session.view)  # the first screen, made as the app's mount makes it
print(json.dumps({"screen": type(first).__name__, "modules": sorted(sys.modules)}))
"""

LIBRARIES_AFTER = ("sqlalchemy", "sqlmodel", "alembic", "psycopg", "httpx", "httpcore", "pydantic", "pydantic_core",
                   "qrcode", "PIL", "cryptography", "babel", "smartcard", "importlib.metadata", "importlib.resources",
                   "zipfile")
"""Libraries no first screen needs: the registry's, the service client's, the QR code's, the cipher's, pyscard; the
installed package's metadata (the heartbeat's version, read at its first beat) and importlib.resources (the embedded
data's folder is found through the package's spec)."""
OURS_AFTER = ("kiosk.registry.store", "kiosk.registry.database", "kiosk.registry.local", "kiosk.registry.service_client",
              "kiosk.maintenance.reports", "screens.pin", "screens.child_pick", "screens.activation", "screens.help",
              "screens.tester", "screens.timeout", "screens.maintenance.login", "screens.maintenance.console",
              "screens.widgets.pin_pad", "screens.widgets.qr", "devices.commands", "devices.pcsc",
              "kiosk.reader_diagnostics", "devices.atr", "devices.virtual_card", "kiosk.automation")
"""The kiosk's own modules that load when first used: the registry's code, the other screens and widgets, the
maintenance console's reader diagnostics and ATR decoder, the tester's virtual cards, the automation interface."""
WELCOME_AFTER = ("kiosk.registry", "kiosk.session.events", "kiosk.session.effects", "kiosk.session.transition",
                 "hashlib", "hmac", "secrets", "kiosk.maintenance.mode", "kiosk.maintenance.door",
                 "devices.diagnostics", "kiosk.voice", "devices.speech")
"""What a kiosk on its embedded registry does not load for its welcome: the registry port, the session's event code,
and the hashes (OpenSSL): no technician PIN is checked and no settings fingerprint taken before a guardian comes (a
kiosk on the registry service has them with the registry's tickets module); nor the maintenance mode (its door and
the reader diagnostics) or the voice, built once the first screen is on the terminal (Kiosk.rest)."""

SERVICE_WELCOME_AFTER = ("kiosk.registry.port", "kiosk.registry.records", "kiosk.session.events",
                         "kiosk.session.effects", "kiosk.session.transition", "kiosk.session.answers")
"""What a kiosk on the registry service does not load for its first screen either: the port's records (its
credential file is read by kiosk.registry.credential alone) and the session's event code (it starts out of
service without an event)."""


def _first_screen(tmp_path: Path, **settings: str) -> tuple[str, set[str]]:
    environ = {"KIOSK_DATA_DIR": str(tmp_path / "data"), "KIOSK_VOICE_PROMPTS": "off"}
    environ.update({f"KIOSK_{key.upper()}": value for key, value in settings.items()})
    probe = subprocess.run([sys.executable, "-c", _PROBE, json.dumps(environ)], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    assert probe.returncode == 0, probe.stderr[-2000:]
    answer = json.loads(probe.stdout.splitlines()[-1])
    return answer["screen"], set(answer["modules"])


def _loaded(names: tuple[str, ...], modules: set[str]) -> list[str]:
    return sorted(name for name in names if name in modules or any(m.startswith(name + ".") for m in modules))


def test_the_welcome_of_an_embedded_kiosk_loads_no_database_qr_or_other_screen(tmp_path):
    screen, modules = _first_screen(tmp_path)
    assert screen == "WelcomeScreen"
    assert _loaded(LIBRARIES_AFTER + OURS_AFTER + WELCOME_AFTER, modules) == []
    # What it does need is there: the session, its picture, the rules (the welcome states their age limit).
    assert {"kiosk.session.machine", "kiosk.session.view", "kiosk.eligibility.region", "screens.welcome"} <= modules


def test_a_kiosk_on_the_registry_service_shows_its_first_screen_without_httpx_or_pydantic(tmp_path):
    credential = tmp_path / "kiosk.credential"
    credential.write_text("k" * 40 + "\n", encoding="ascii")
    screen, modules = _first_screen(tmp_path, registry="http://127.0.0.1:9", registry_credential_file=str(credential))
    # Out of service until the monitor's first check (after this screen) finds the service answering: the session
    # starts so, without an event (no event code), and its credential file is read without the registry's port.
    assert screen == "OutOfServiceScreen"
    assert _loaded(LIBRARIES_AFTER + OURS_AFTER + SERVICE_WELCOME_AFTER, modules) == []


@pytest.mark.parametrize("registry", ["embedded", "service"])
def test_the_code_put_off_is_loaded_once_the_registry_is_used(tmp_path, registry):
    """The guard above is not bought by leaving something out: the first call on the port loads what it needs."""
    probe = """
import json, sys
from ecard_kiosk.build import build_kiosk
from kiosk.settings import load_settings
kiosk = build_kiosk(load_settings(environ=json.loads(sys.argv[1])).settings, deferred=True)
kiosk.port.set_region(kiosk.session.region)
if kiosk.opening is not None:
    kiosk.opening.start()
    assert kiosk.opening.wait(60) and kiosk.opening.failure is None
    kiosk.opening.stop()
health = kiosk.port.health()  # the first call on the port: the monitor's first check makes it
print(health.detail.split(":")[0] if not health.ok else "ok")
print(json.dumps(sorted(sys.modules)))
kiosk.close_registry()
"""
    environ = {"KIOSK_DATA_DIR": str(tmp_path / "data"), "KIOSK_VOICE_PROMPTS": "off"}
    if registry == "service":
        credential = tmp_path / "kiosk.credential"
        credential.write_text("k" * 40, encoding="ascii")
        environ.update(KIOSK_REGISTRY="http://127.0.0.1:9", KIOSK_REGISTRY_CREDENTIAL_FILE=str(credential))
    result = subprocess.run([sys.executable, "-c", probe, json.dumps(environ)], cwd=ROOT, capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    first, modules = result.stdout.splitlines()[-2:]
    loaded = set(json.loads(modules))
    if registry == "service":
        assert first == "SERVICE_UNREACHABLE"  # nothing listens on port 9: asked over HTTP, and no answer
        assert {"httpx", "pydantic", "kiosk.registry.service_client"} <= loaded
    else:
        assert first == "ok"
        assert {"sqlalchemy", "sqlmodel", "kiosk.registry.store", "kiosk.session.events"} <= loaded
