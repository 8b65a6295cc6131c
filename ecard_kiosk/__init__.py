"""Provides the composition root: the command line, the settings, and the kiosk and its app built from them.

The root may import every layer; nothing imports it but its launchers (kiosk.py, the `ecard-kiosk`
console script, `python -m ecard_kiosk`), the tests and bench/. Its modules:
- cli: the parser and main(); commands: what each command does;
- build: the session and its collaborators (build_kiosk) and the app over them (build_app);
- card_side: the readers and the tester's bench; services: the registry, the reader's watcher, the monitor;
- opening: the registry opened after the first screen (the CLI's kiosk is built with deferred=True).
"""
from __future__ import annotations

from ecard_kiosk.build import Kiosk, attach_voice, build_app, build_kiosk, build_maintenance
from ecard_kiosk.card_side import CardSide, build_card_side, build_pcsc_side, build_simulated_side, wire_reader
from ecard_kiosk.cli import build_parser, main, parse_args, settings_from
from ecard_kiosk.errors import StartupError
from ecard_kiosk.opening import BackgroundOpening, PendingRegistry
from ecard_kiosk.services import (
    connect_opened,
    open_registry,
    open_registry_lazily,
    start_reader,
    start_services,
    stop_reader,
    stop_services,
)

__all__ = [
    "BackgroundOpening",
    "CardSide",
    "Kiosk",
    "PendingRegistry",
    "StartupError",
    "attach_voice",
    "build_app",
    "build_card_side",
    "build_kiosk",
    "build_maintenance",
    "build_parser",
    "build_pcsc_side",
    "build_simulated_side",
    "connect_opened",
    "main",
    "open_registry",
    "open_registry_lazily",
    "parse_args",
    "settings_from",
    "start_reader",
    "start_services",
    "stop_reader",
    "stop_services",
    "wire_reader",
]
