"""Provides `python -m ecard_kiosk`: the same as the `ecard-kiosk` console script and `python kiosk.py`."""
from __future__ import annotations

import sys

from ecard_kiosk.cli import main

if __name__ == "__main__":
    sys.exit(main())
