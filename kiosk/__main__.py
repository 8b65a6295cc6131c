"""Provides the `ecard-kiosk` console script and `python -m kiosk`: both hand over to the composition root, kiosk.py."""
from __future__ import annotations

import runpy
import sys

from kiosk import PROJECT_ROOT


def main() -> None:
    """Run kiosk.py as if it had been started with `python kiosk.py ...`."""
    sys.argv[0] = str(PROJECT_ROOT / "kiosk.py")
    runpy.run_path(sys.argv[0], run_name="__main__")


if __name__ == "__main__":
    main()
