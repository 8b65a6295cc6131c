"""Provides the registry: people, cards, guardianships, e-cards and activation tickets in SQLite or PostgreSQL."""
from __future__ import annotations

# The plain records and the port load with the package; the store and everything built on it
# (Registry, LocalRegistry, load_demo, the schema check, TicketPolicy) load with SQLAlchemy, SQLModel
# and Alembic when first named, so code that only uses the registry's values (the session, the
# screens) starts without them: the kiosk's first screen does not wait for the database.

from typing import TYPE_CHECKING

from kiosk.registry.port import PresentedCard, Registration, RegistryPort
from kiosk.registry.records import (
    AuditRecord,
    ChildECard,
    ConsistencyFinding,
    PendingActivation,
    PendingRegistration,
    PersonRecord,
    RegistrationRefused,
    RegistryCounts,
    RequestRejected,
    StorageInfo,
)

if TYPE_CHECKING:
    from kiosk.registry.activation import TicketPolicy
    from kiosk.registry.demo import DemoDataError, load_demo
    from kiosk.registry.local import LocalRegistry
    from kiosk.registry.schema import SchemaNotCurrent, SchemaStatus
    from kiosk.registry.store import Registry

_STORE = {
    "Registry": "kiosk.registry.store",
    "LocalRegistry": "kiosk.registry.local",
    "TicketPolicy": "kiosk.registry.activation",
    "SchemaNotCurrent": "kiosk.registry.schema",
    "SchemaStatus": "kiosk.registry.schema",
    "load_demo": "kiosk.registry.demo",
    "DemoDataError": "kiosk.registry.demo",
}

__all__ = [
    "AuditRecord",
    "ChildECard",
    "ConsistencyFinding",
    "DemoDataError",
    "LocalRegistry",
    "PendingActivation",
    "PendingRegistration",
    "PersonRecord",
    "PresentedCard",
    "Registration",
    "RegistrationRefused",
    "Registry",
    "RegistryCounts",
    "RegistryPort",
    "RequestRejected",
    "SchemaNotCurrent",
    "SchemaStatus",
    "StorageInfo",
    "TicketPolicy",
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
