#!/usr/bin/env python3
"""Provides the design card's launcher: `python kiosk.py ...` is `python -m ecard_kiosk ...`, the composition root."""
import runpy

# Run as a module, not imported here: import-linter (grimp 3.20) reads this file as the source of
# the kiosk/ package beside it, and would charge the core with everything the root imports.
runpy.run_module("ecard_kiosk", run_name="__main__")
