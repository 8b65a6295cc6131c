"""Provides Notifier: systemd's sd_notify protocol (READY=1, WATCHDOG=1, STOPPING=1) for the kiosk and the registry service.

The protocol is one datagram per message on the NOTIFY_SOCKET (a path, or "@name" for the
abstract namespace): the standard library is enough. Without NOTIFY_SOCKET (any start but
systemd's) there is no Notifier and nothing is sent. Who sends what: ecard_kiosk/watchdog.py
for the kiosk (pings from the Textual loop), registry_service/server.py for the service (pings
from uvicorn's serving loop).
"""
from __future__ import annotations

import logging
import os
import socket
from dataclasses import dataclass
from typing import Mapping

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
