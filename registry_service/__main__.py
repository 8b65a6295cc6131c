"""Provides `python -m registry_service`: the `ecard-registry` command (kiosk.py serve runs it too)."""
import sys

from registry_service.cli import main

sys.exit(main())
