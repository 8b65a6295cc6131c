#!/usr/bin/env python3
"""Provides the design card's launcher: `python kiosk.py ...` is `python -m ecard_kiosk ...`, the composition root;
`python kiosk.py serve ...` is `ecard-registry serve ...`, the registry service."""
import runpy
import sys

# Run as a module, not imported here: import-linter (grimp 3.20) reads this file as the source of
# the kiosk/ package beside it, and would charge the core with everything the root imports.
# The service is its own program (the kiosk's packages never import it): the launcher only chooses.
runpy.run_module("registry_service" if sys.argv[1:2] == ["serve"] else "ecard_kiosk", run_name="__main__")
