"""Provides the kiosk's sd_notify: READY=1 once the first screen is drawn, WATCHDOG=1 from the app's own loop.

systemd (deploy/ecard-kiosk.service: Type=notify, WatchdogSec=) restarts a kiosk that stops
pinging, so the pings come from a Textual interval on the app's event loop: a loop that hangs
stops them, a worker thread that still runs would not. The kiosk is cage's grandchild (cage ->
foot -> kiosk), so the unit says NotifyAccess=all and WATCHDOG_PID (cage's PID) is not compared
with ours as sd_watchdog_enabled() would. The protocol is one datagram per message on the
NOTIFY_SOCKET (kiosk.sd_notify.Notifier). Without NOTIFY_SOCKET (any start but systemd's) nothing is sent.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.sd_notify import Notifier

if TYPE_CHECKING:
    from textual.app import App

__all__ = ["Notifier", "watch_app"]


def watch_app(app: "App", notifier: Notifier | None) -> None:
    """Tell systemd the kiosk is ready (call it once the first screen is drawn) and ping from `app`'s loop.

    Call it on the app's thread (from the first-screen callback); does nothing when `notifier` is None.
    """
    if notifier is None:
        return
    notifier.send("READY=1", "STATUS=welcome screen shown")
    if notifier.watchdog_seconds is not None:
        app.set_interval(notifier.watchdog_seconds, lambda: notifier.send("WATCHDOG=1"), name="sd-watchdog")
