"""sd_notify from the running kiosk: READY=1 once the welcome screen is drawn, then WATCHDOG=1 from its main loop."""
from __future__ import annotations

import os
import sys
from pathlib import Path

from ecard_kiosk.watchdog import Notifier, status_text
from kiosk.session import SessionView, Step
from tests.deploy.appliance import ROOT
from tests.notify_listener import NotifyListener
from tests.terminal import Terminal

WELCOME_HEADING = "为孩子申领电子社保卡"


def _environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    env = {key: value for key, value in os.environ.items()
           if not key.startswith(("KIOSK_", "TEXTUAL", "NOTIFY_SOCKET", "WATCHDOG_"))}
    env.update({"KIOSK_DATA_DIR": str(tmp_path / "data"), "KIOSK_VOICE_PROMPTS": "off"}, **extra)
    return env


def test_the_running_kiosk_says_ready_after_the_welcome_screen_then_pings_from_its_loop(tmp_path):
    listener = NotifyListener(tmp_path / "notify.sock")
    try:
        env = _environment(tmp_path, NOTIFY_SOCKET=str(tmp_path / "notify.sock"), WATCHDOG_USEC="400000")
        with Terminal([sys.executable, "kiosk.py"], env=env, cwd=ROOT) as kiosk:
            drawn = kiosk.wait_for(WELCOME_HEADING)
            messages = listener.wait_until(lambda got: sum("WATCHDOG=1" in text for _, text in got) >= 3, 20)
    finally:
        listener.close()
    ready = [(at, text) for at, text in messages if "READY=1" in text]
    assert len(ready) == 1 and messages[0] == ready[0], messages
    assert "STATUS=welcome screen shown" in ready[0][1]
    # READY=1 after the first screen: it comes no sooner than the heading reached the terminal
    # (the heading may be read a little after it was written, never the other way round by much).
    assert ready[0][0] >= drawn - 1.0
    pings = [at for at, text in messages if text == "WATCHDOG=1"]
    assert len(pings) >= 3 and all(later > earlier for earlier, later in zip(pings, pings[1:]))
    # The step shown, for `systemctl status`: the welcome screen, told once (not with every ping).
    assert [text for _, text in messages if text.startswith("STATUS=") and "READY=1" not in text] == ["STATUS=welcome"]


def test_the_status_line_names_the_step_and_why_the_kiosk_is_out_of_service():
    assert status_text(SessionView(step=Step.WELCOME, lang="zh")) == "welcome"
    assert status_text(SessionView(step=Step.OUT_OF_SERVICE, lang="zh", out_of_service="READER_MISSING")) == \
        "out_of_service READER_MISSING"


def test_without_notify_socket_there_is_nothing_to_tell():
    assert Notifier.from_environment({}) is None
    assert Notifier.from_environment({"WATCHDOG_USEC": "30000000"}) is None
    assert Notifier.from_environment({"NOTIFY_SOCKET": "relative/path"}) is None


def test_the_watchdog_interval_is_half_of_watchdogsec_and_abstract_sockets_are_named_with_a_nul():
    notifier = Notifier.from_environment({"NOTIFY_SOCKET": "@/org/freedesktop/systemd1/notify", "WATCHDOG_USEC": "30000000"})
    assert notifier == Notifier("\0/org/freedesktop/systemd1/notify", 15.0)
    assert Notifier.from_environment({"NOTIFY_SOCKET": "/run/notify", "WATCHDOG_USEC": "soon"}) == Notifier("/run/notify", None)


def test_a_notify_socket_that_is_gone_is_logged_not_raised(tmp_path, caplog):
    notifier = Notifier(str(tmp_path / "nobody-listens.sock"), None)
    assert notifier.send("READY=1") is False
    assert "sd_notify" in caplog.text
