"""Provides the kiosk's sd_notify: READY=1 once the first screen is drawn, WATCHDOG=1 from the app's own loop.

systemd (deploy/ecard-kiosk.service: Type=notify, WatchdogSec=) restarts a kiosk that stops
pinging, so the pings come from a Textual interval on the app's event loop: a loop that hangs
stops them, a worker thread that still runs would not. The kiosk is cage's grandchild (cage ->
foot -> kiosk), so the unit says NotifyAccess=all and WATCHDOG_PID (cage's PID) is not compared
with ours as sd_watchdog_enabled() would. The protocol is one datagram per message on the
NOTIFY_SOCKET (a path, or "@name" for the abstract namespace): the standard library is enough.
Without NOTIFY_SOCKET (any start but systemd's) nothing is sent.
"""
from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import TYPE_CHECKING, Mapping

if TYPE_CHECKING:
    from textual.app import App

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Notifier:
    """Where the service manager listens, and how often it wants to hear from us."""

    address: str
    """The NOTIFY_SOCKET address as Python's AF_UNIX takes it (a leading NUL for the abstract namespace)."""
    watchdog_seconds: float | None
    """Half of WatchdogSec= (systemd's advice), None when the unit has no watchdog."""

    @classmethod
    def from_environment(cls, environ: Mapping[str, str] | None = None) -> "Notifier | None":
        """The notifier systemd asked for through NOTIFY_SOCKET and WATCHDOG_USEC; None when there is none."""
        environ = os.environ if environ is None else environ
        address = environ.get("NOTIFY_SOCKET", "")
        if not address or address[0] not in "/@":
            return None
        if address.startswith("@"):
            address = "\0" + address[1:]
        watchdog_seconds = None
        try:
            usec = int(environ.get("WATCHDOG_USEC", "0"))
        except ValueError:
            usec = 0
        if usec > 0:
            watchdog_seconds = usec / 2_000_000
        return cls(address, watchdog_seconds)

    def send(self, *fields: str) -> bool:
        """Send `fields` ("READY=1", "STATUS=...") as one message; False (and a log line) when it cannot be sent."""
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC) as sock:
                sock.sendto("\n".join(fields).encode("utf-8"), self.address)
        except OSError as exc:
            log.warning("sd_notify to %s failed: %s", self.address.replace("\0", "@"), exc)
            return False
        return True


def watch_app(app: "App", notifier: Notifier | None) -> None:
    """Tell systemd the kiosk is ready (call it once the first screen is drawn) and ping from `app`'s loop.

    Call it on the app's thread (from the first-screen callback); does nothing when `notifier` is None.
    """
    if notifier is None:
        return
    notifier.send("READY=1", "STATUS=welcome screen shown")
    if notifier.watchdog_seconds is not None:
        app.set_interval(notifier.watchdog_seconds, lambda: notifier.send("WATCHDOG=1"), name="sd-watchdog")
