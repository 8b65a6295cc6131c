"""Provides the kiosk's log: a rotating file in the data directory, personal data masked, nothing on screen."""
from __future__ import annotations

import logging
import logging.handlers
from datetime import datetime, timezone
from pathlib import Path
from typing import Protocol

from kiosk.masking import scrub

LOG_NAME = "kiosk.log"


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


def configure_logging(data_dir: Path, level: str) -> Path:
    """Send all logging to data_dir/logs/kiosk.log (5 x 1 MiB) and nowhere else.

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
    root.setLevel(level)
    logging.captureWarnings(True)
    return path
