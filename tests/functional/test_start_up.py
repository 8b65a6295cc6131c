"""Start-up: the welcome screen comes before the database is opened, which then follows in the background."""
from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import subprocess
import sys
import threading
from pathlib import Path

from kiosk.messages import message
from kiosk.session import Step
from screens.welcome import WelcomeScreen
from tests.conftest import kiosk_root
from tests.functional.harness import Journey
from tests.terminal import Terminal

ROOT = Path(__file__).resolve().parents[2]

_FIRST_SCREEN_PROBE = """
import asyncio, json, sys
import ecard_kiosk
from kiosk.settings import load_settings
kiosk = ecard_kiosk.build_kiosk(load_settings(environ={"KIOSK_DATA_DIR": sys.argv[1]}).settings, deferred=True)
loaded, screens = [], []
app = ecard_kiosk.build_app(kiosk, windowed=True,
                            on_first_screen=lambda: (loaded.extend(sys.modules), screens.append(type(app.screen).__name__)))

async def first_screen():
    async with app.run_test() as pilot:
        while not loaded:
            await pilot.pause(0.01)

asyncio.run(first_screen())
print(json.dumps({"screens": screens, "modules": sorted(loaded)}))
"""
NOT_FOR_THE_FIRST_SCREEN = ("sqlalchemy", "sqlmodel", "pydantic", "pydantic_core", "qrcode", "PIL", "cryptography",
                            "kiosk.registry", "kiosk.session.events", "kiosk.session.effects", "kiosk.session.transition",
                            "kiosk.maintenance.reports", "screens.pin", "screens.activation", "screens.tester",
                            "screens.timeout", "screens.maintenance.login", "screens.maintenance.console")
"""What the kiosk must not load before its first screen: the database, validation and QR libraries, other screens."""


class SilentDatabaseServer:
    """A TCP port that takes connections and never answers: a database server that hangs (until hang_up)."""

    def __init__(self) -> None:
        self._socket = socket.create_server(("127.0.0.1", 0))
        self.port = self._socket.getsockname()[1]
        self.connected = threading.Event()
        self._hung_up = threading.Event()
        self._held: list[socket.socket] = []
        threading.Thread(target=self._serve, daemon=True).start()

    def _serve(self) -> None:
        while True:
            try:
                connection, _ = self._socket.accept()
            except OSError:
                return
            if self._hung_up.is_set():
                connection.close()  # the kiosk's monitor trying again: refused as soon as it comes
            else:
                self._held.append(connection)
                self.connected.set()

    def hang_up(self) -> None:
        self._hung_up.set()
        for connection in self._held:
            connection.close()

    def close(self) -> None:
        self.hang_up()
        self._socket.close()


def _kiosk_environment(tmp_path: Path, **settings: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("KIOSK_", "TEXTUAL"))}
    env.update({"KIOSK_DATA_DIR": str(tmp_path / "data"), "KIOSK_VOICE_PROMPTS": "off"})
    env.update({f"KIOSK_{key.upper()}": value for key, value in settings.items()})
    return env


def test_what_the_first_screen_does_not_need_is_not_loaded_before_it(tmp_path):
    probe = subprocess.run([sys.executable, "-c", _FIRST_SCREEN_PROBE, str(tmp_path / "data")], cwd=ROOT,
                           capture_output=True, text=True, timeout=60, env=_kiosk_environment(tmp_path))
    assert probe.returncode == 0, probe.stderr[-2000:]
    first = json.loads(probe.stdout.splitlines()[-1])
    assert first["screens"] == ["WelcomeScreen"]
    loaded = set(first["modules"])
    early = sorted(name for name in NOT_FOR_THE_FIRST_SCREEN if name in loaded
                   or any(module.startswith(name + ".") for module in loaded))
    assert early == [], f"loaded before the first screen: {early}"
    assert {"screens.welcome", "kiosk.session", "kiosk.eligibility.region"} <= loaded


def test_the_welcome_screen_is_up_while_the_database_server_has_not_answered(tmp_path):
    server = SilentDatabaseServer()
    # A minute to connect: a kiosk that opened its database before its first screen would show nothing for that long.
    url = f"postgresql+psycopg://kiosk@127.0.0.1:{server.port}/kiosk?connect_timeout=60"
    try:
        with Terminal([sys.executable, "kiosk.py"], env=_kiosk_environment(tmp_path, database_url=url), cwd=ROOT) as kiosk:
            kiosk.wait_for(message("welcome.heading", "zh"), timeout=30)
            # The registry is opened after the first screen, in the background: the connection comes now.
            assert server.connected.wait(30), "the kiosk never tried to open its database"
            assert kiosk.process.poll() is None
            server.hang_up()
            kiosk.wait_for(message("oos.heading", "zh"), timeout=30)  # the monitor's verdict, on screen
    finally:
        server.close()


def test_a_database_url_found_unusable_after_the_first_screen_stops_the_kiosk_with_one_line(tmp_path):
    env = _kiosk_environment(tmp_path, database_url="nosuchdatabase://kiosk")
    with Terminal([sys.executable, "kiosk.py"], env=env, cwd=ROOT) as kiosk:
        kiosk.wait_for(message("welcome.heading", "zh"), timeout=30)
        assert kiosk.wait_exit(timeout=30) == 2
        assert "kiosk: the database at nosuchdatabase://kiosk cannot be used" in kiosk.text
        assert "Traceback" not in kiosk.text


def test_a_card_profile_found_broken_after_the_first_screen_stops_the_kiosk_with_one_line(tmp_path):
    # The tester's card profiles are read after the first screen (only the PSAM's before it).
    cards = tmp_path / "cards"
    shutil.copytree(ROOT / "config" / "cards", cards)
    (cards / "li-na-2.00.toml").write_text("kind = 'card'\natr = 'not hex'\n", encoding="utf-8")
    with Terminal([sys.executable, "kiosk.py"], env=_kiosk_environment(tmp_path, card_profiles_dir=str(cards)),
                  cwd=ROOT) as kiosk:
        kiosk.wait_for(message("welcome.heading", "zh"), timeout=30)
        assert kiosk.wait_exit(timeout=30) == 2
        assert "kiosk: setting 'card_profiles_dir':" in kiosk.text and "li-na-2.00.toml" in kiosk.text
        assert "Traceback" not in kiosk.text


async def test_a_card_put_in_before_the_kiosk_was_ready_is_read_once_the_registry_is_open(settings_for):
    kiosk = kiosk_root.build_kiosk(settings_for(), deferred=True)
    kiosk.bench.insert("zhang-wei-3.00")  # as `--card` does, before the app runs
    first_screens: list[type] = []
    # Windowed: anything that goes wrong on the first screen (say, something it needs that is not
    # there yet) fails the test instead of being logged.
    app = kiosk_root.build_app(kiosk, windowed=True,
                               on_first_screen=lambda: (first_screens.append(type(app.screen)),
                                                        kiosk_root.start_services(kiosk)))
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            journey = Journey(pilot, kiosk)
            await journey.reach(Step.HOLDER, timeout=30)
            assert first_screens == [WelcomeScreen]  # the card waited for the registry, not the screen
            assert kiosk.opening is not None and kiosk.opening.done and kiosk.opening.failure is None
            assert kiosk.monitor is not None
    finally:
        kiosk_root.stop_services(kiosk)


async def test_the_hidden_way_into_maintenance_opens_once_the_first_screen_is_up(settings_for):
    # The maintenance mode (reader diagnostics, technician door) is built after the first screen, which needs none
    # of it: by the time a key can reach the kiosk, the way in is there.
    from screens.maintenance.login import TechnicianLogin

    kiosk = kiosk_root.build_kiosk(settings_for(), deferred=True)
    first_screen = asyncio.Event()  # set on the app's loop, which run_test shares with the test
    app = kiosk_root.build_app(kiosk, windowed=True, on_first_screen=first_screen.set)
    async with app.run_test(size=(120, 40)) as pilot:
        await asyncio.wait_for(first_screen.wait(), 30)
        assert app.maintenance is kiosk.maintenance is not None
        await pilot.press("f12", "f12", "m", "a", "i", "n", "t")  # the default maintenance_key_sequence
        await pilot.pause()
        assert isinstance(app.screen, TechnicianLogin)
