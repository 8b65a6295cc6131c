"""Provides the registry: people, cards, guardianships, e-cards and activation tickets in SQLite or PostgreSQL."""
from __future__ import annotations

# The plain records load with the package; the store (Registry, load_demo, DemoDataError) loads with
# SQLAlchemy and SQLModel when first named, so code that only uses the registry's values (the session,
# the screens) starts without them: the kiosk's first screen does not wait for the database.

from typing import TYPE_CHECKING

from kiosk.registry.records import (
    AuditRecord,
    ChildECard,
    ConsistencyFinding,
    PendingActivation,
    PendingRegistration,
    PersonRecord,
    RegistrationRefused,
    RegistryCounts,
    StorageInfo,
)

if TYPE_CHECKING:
    from kiosk.registry.demo import DemoDataError, load_demo
    from kiosk.registry.store import Registry

_STORE = {"Registry": "kiosk.registry.store", "load_demo": "kiosk.registry.demo", "DemoDataError": "kiosk.registry.demo"}

__all__ = [
    "AuditRecord",
    "ChildECard",
    "ConsistencyFinding",
    "DemoDataError",
    "PendingActivation",
    "PendingRegistration",
    "PersonRecord",
    "Registry",
    "RegistrationRefused",
    "RegistryCounts",
    "StorageInfo",
    "load_demo",
]


def __getattr__(name: str) -> object:
    module = _STORE.get(name)
    if module is None:
        raise AttributeError(f"module 'kiosk.registry' has no attribute {name!r}")
    from importlib import import_module

    value = getattr(import_module(module), name)
    globals()[name] = value  # once loaded, an ordinary attribute
    return value
