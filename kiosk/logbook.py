"""Provides the kiosk's log: a rotating file in the data directory, personal data masked, nothing on screen."""
from __future__ import annotations

import logging
import logging.handlers
from pathlib import Path

from kiosk.masking import scrub

LOG_NAME = "kiosk.log"


class MaskingFilter(logging.Filter):
    """Masks ID numbers in every record, whoever wrote it."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = scrub(record.getMessage())
        record.args = None
        return True


def configure_logging(data_dir: Path, level: str) -> Path:
    """Send all logging to data_dir/logs/kiosk.log (5 x 1 MiB) and nowhere else.

    Returns:
        The log file's path.
    """
    log_dir = data_dir / "logs"
    log_dir.mkdir(parents=True, exist_ok=True)
    path = log_dir / LOG_NAME
    handler = logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20, backupCount=5, encoding="utf-8")
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(MaskingFilter())
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(level)
    logging.captureWarnings(True)
    return path
