"""Provides the kiosk's sd_notify: READY=1 once the first screen is drawn, WATCHDOG=1 from the app's own loop.

systemd (deploy/ecard-kiosk.service: Type=notify, WatchdogSec=) restarts a kiosk that stops
pinging, so the pings come from a Textual interval on the app's event loop: a loop that hangs
stops them, a worker thread that still runs would not. The kiosk is cage's grandchild (cage ->
foot -> kiosk), so the unit says NotifyAccess=all and WATCHDOG_PID (cage's PID) is not compared
with ours as sd_watchdog_enabled() would. The protocol is one datagram per message on the
NOTIFY_SOCKET (kiosk.sd_notify.Notifier). Without NOTIFY_SOCKET (any start but systemd's) nothing is sent.

The step the kiosk shows goes to systemd as STATUS= ("welcome", "out_of_service READER_MISSING"),
so `systemctl status ecard-kiosk` tells a technician what the screen says without looking at it.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.sd_notify import Notifier

if TYPE_CHECKING:
    from textual.app import App

    from kiosk.session import KioskSession, SessionView

__all__ = ["Notifier", "watch_app"]


def watch_app(app: "App", notifier: Notifier | None, session: "KioskSession | None" = None) -> None:
    """Tell systemd the kiosk is ready (call it once the first screen is drawn) and ping from `app`'s loop.

    With `session`, every change of the step shown (or of why it is out of service) is sent as STATUS=.
    Call it on the app's thread (from the first-screen callback); does nothing when `notifier` is None.
    """
    if notifier is None:
        return
    notifier.send("READY=1", "STATUS=welcome screen shown")
    if notifier.watchdog_seconds is not None:
        app.set_interval(notifier.watchdog_seconds, lambda: notifier.send("WATCHDOG=1"), name="sd-watchdog")
    if session is not None:
        shown = [status_text(session.view)]
        notifier.send(f"STATUS={shown[0]}")

        def changed(view: "SessionView") -> None:
            text = status_text(view)
            if text != shown[0]:  # the session changes often within a step (keys, timers): only steps are told
                shown[0] = text
                notifier.send(f"STATUS={text}")

        session.subscribe(changed)


def status_text(view: "SessionView") -> str:
    """The STATUS= line for what the kiosk shows: the step, and why it is out of service (catalogue codes)."""
    if view.out_of_service:
        return f"{view.step.value} {view.out_of_service}"
    return view.step.value
