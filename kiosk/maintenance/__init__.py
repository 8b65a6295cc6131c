"""Provides maintenance mode for technicians: the hidden way in, the PIN door with its lockout, the console's data and actions.

Its modules load when a name is first used: the settings check technicians' PIN hashes with
kiosk.maintenance.passwords alone, before the kiosk's first screen, without the rest.
"""
from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.maintenance.door import LoginOutcome, LoginResult, TechnicianDoor
    from kiosk.maintenance.gesture import CornerTaps, KeySequence, parse_key_sequence
    from kiosk.maintenance.mode import (
        MAINTENANCE_MODE,
        PURGE_GRACE_SECONDS,
        TECHNICIAN_OUT_OF_SERVICE,
        MaintenanceMode,
        ServiceState,
    )
    from kiosk.maintenance.passwords import hash_pin, parse_pin_hash
    from kiosk.maintenance.reports import DatabaseReport, SettingRow

_HOMES = {
    "LoginOutcome": "door", "LoginResult": "door", "TechnicianDoor": "door",
    "CornerTaps": "gesture", "KeySequence": "gesture", "parse_key_sequence": "gesture",
    "MAINTENANCE_MODE": "mode", "PURGE_GRACE_SECONDS": "mode", "TECHNICIAN_OUT_OF_SERVICE": "mode",
    "MaintenanceMode": "mode", "ServiceState": "mode",
    "hash_pin": "passwords", "parse_pin_hash": "passwords",
    "DatabaseReport": "reports", "SettingRow": "reports",
}

__all__ = sorted(_HOMES)


def __getattr__(name: str) -> object:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'kiosk.maintenance' has no attribute {name!r}")
    value = getattr(import_module(f"kiosk.maintenance.{home}"), name)
    globals()[name] = value
    return value
