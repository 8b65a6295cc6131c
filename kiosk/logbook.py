"""Provides the kiosk's log: a rotating file in the data directory and, under systemd, the journal; personal data masked, nothing on screen."""
from __future__ import annotations

import logging
import logging.handlers
import os
import socket
import stat
import struct
from datetime import datetime, timezone
from pathlib import Path
from typing import Mapping, Protocol

from kiosk.masking import scrub

LOG_NAME = "kiosk.log"
JOURNAL_SOCKET = Path("/run/systemd/journal/socket")
"""journald's native protocol socket."""
JOURNAL_IDENTIFIER = "ecard-kiosk"
"""SYSLOG_IDENTIFIER of the kiosk's journal entries: `journalctl -t ecard-kiosk`."""
_JOURNAL_LIMIT = 48 * 1024
"""A longer message is cut: one datagram carries it (journald's memfd route is not worth it for a kiosk's log)."""
_PRIORITIES = {logging.DEBUG: 7, logging.INFO: 6, logging.WARNING: 4, logging.ERROR: 3, logging.CRITICAL: 2}


class MaskingFilter(logging.Filter):
    """Masks ID numbers in every record, whoever wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True


class _Clock(Protocol):
    def now(self) -> datetime: ...


class KioskClockFormatter(logging.Formatter):
    """Stamps log lines with the kiosk's clock, the one the session and the audit log run on.

    Why the kiosk's clock and not the system's: in simulated mode a tester jumps the kiosk's clock (tester
    panel, J) to bring timeouts and expiries forward. The session's decisions, the activation codes' expiry
    and the audit log's rows are all stamped by that clock, in the same database; a log on the system clock
    would put "QR code expired" five minutes before the audit row that explains it. One time line for the log
    and the audit is what lets a tester read them side by side. While the kiosk's clock is off the system's,
    each line also says by how much (`(clock +00:05:00)`), so the real time is never lost either.
    A kiosk that never jumps (every real kiosk) has the two clocks equal and nothing changes.
    """

    clock: _Clock | None = None

    def formatTime(self, record: logging.LogRecord, datefmt: str | None = None) -> str:  # noqa: N802 - logging's name
        clock = type(self).clock
        if clock is None:
            return super().formatTime(record, datefmt)
        real = datetime.fromtimestamp(record.created, timezone.utc)
        offset = clock.now() - datetime.now(timezone.utc)
        seconds = round(offset.total_seconds())
        stamp = (real + offset).astimezone().strftime("%Y-%m-%d %H:%M:%S") + f",{int(record.msecs):03d}"
        if seconds == 0:
            return stamp
        sign, seconds = ("-" if seconds < 0 else "+"), abs(seconds)
        return f"{stamp} (clock {sign}{seconds // 3600:02d}:{seconds // 60 % 60:02d}:{seconds % 60:02d})"


def follow_clock(clock: _Clock | None) -> None:
    """From now on stamp log lines with `clock` (the kiosk's, once a tester has jumped it); None: system time."""
    KioskClockFormatter.clock = clock


class JournalHandler(logging.Handler):
    """Writes records to journald by its native datagram protocol (no python3-systemd needed).

    The kiosk's stdout and stderr are foot's terminal, which cage's journal stream never sees:
    so the kiosk talks to journald itself. A lost datagram (journald restarting) is dropped,
    never raised: logging must not stop the kiosk.
    """

    def __init__(self, address: Path = JOURNAL_SOCKET, identifier: str = JOURNAL_IDENTIFIER) -> None:
        super().__init__()
        self.address = str(address)
        self.identifier = identifier
        self.socket = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM | socket.SOCK_CLOEXEC)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = self.format(record)
            fields = {"MESSAGE": message[:_JOURNAL_LIMIT], "PRIORITY": str(_PRIORITIES.get(record.levelno, 6)),
                      "SYSLOG_IDENTIFIER": self.identifier, "LOGGER": record.name}
            self.socket.sendto(journal_datagram(fields), self.address)
        except OSError:
            pass
        except Exception:  # noqa: BLE001 - logging's own convention: report, do not raise
            self.handleError(record)

    def close(self) -> None:
        self.socket.close()
        super().close()


def journal_datagram(fields: Mapping[str, str]) -> bytes:
    """Fields in journald's native format: KEY=value lines; a value with a newline goes length-prefixed."""
    parts = []
    for key, value in fields.items():
        data = value.encode("utf-8", "replace")
        if b"\n" in data:
            parts.append(key.encode() + b"\n" + struct.pack("<Q", len(data)) + data + b"\n")
        else:
            parts.append(key.encode() + b"=" + data + b"\n")
    return b"".join(parts)


def journal_socket(environ: Mapping[str, str] | None = None, path: Path = JOURNAL_SOCKET) -> Path | None:
    """journald's socket when systemd started us (INVOCATION_ID, inherited through cage and foot), else None."""
    environ = os.environ if environ is None else environ
    if not environ.get("INVOCATION_ID"):
        return None
    try:
        return path if stat.S_ISSOCK(path.stat().st_mode) else None
    except OSError:
        return None


def configure_logging(data_dir: Path, level: str, journal: Path | None = None) -> Path:
    """Send all logging to data_dir/logs/kiosk.log (5 x 1 MiB) and, with `journal` (a socket), to journald.

    Both are masked the same way; nothing goes to the screen.

    Returns:
        The log file's path.
    """
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_NAME
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20, backupCount=5, encoding="utf-8")
    handler.setFormatter(KioskClockFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    if journal is not None:
        journal_handler = JournalHandler(journal)
        journal_handler.setFormatter(logging.Formatter("%(name)s: %(message)s"))  # journald stamps the time
        journal_handler.addFilter(MaskingFilter())
        root.addHandler(journal_handler)
    root.setLevel(level)
    # The registry client's every request is an httpx INFO line: with the registry service, a health
    # check every 2 s would fill the journal and push the rotating file's real events out within a day.
    logging.getLogger("httpx").setLevel(max(logging.WARNING, root.level))
    logging.captureWarnings(True)
    return path
