"""Provides maintenance mode for technicians: the hidden way in, the PIN door with its lockout, the console's data and actions."""
from __future__ import annotations

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

__all__ = [
    "MAINTENANCE_MODE",
    "PURGE_GRACE_SECONDS",
    "TECHNICIAN_OUT_OF_SERVICE",
    "CornerTaps",
    "DatabaseReport",
    "KeySequence",
    "LoginOutcome",
    "LoginResult",
    "MaintenanceMode",
    "ServiceState",
    "SettingRow",
    "TechnicianDoor",
    "hash_pin",
    "parse_pin_hash",
    "parse_key_sequence",
]
