"""Provides the registry: people, cards, guardianships, e-cards and activation tickets in SQLite or PostgreSQL."""
from __future__ import annotations

# Nothing loads with the package itself: the plain records and the port load when first named, and the store and
# everything built on it (Registry, LocalRegistry, load_demo, the schema check, TicketPolicy) with SQLAlchemy,
# SQLModel and Alembic when first named. So code that only uses one of its modules (the kiosk's credential file,
# read before a service kiosk's first screen) loads no more than that module, and code that only uses the
# registry's values (the session, the screens) starts without the database: the first screen does not wait for it.

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kiosk.registry.activation import TicketPolicy
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
    from kiosk.registry.demo import DemoDataError, load_demo
    from kiosk.registry.local import LocalRegistry
    from kiosk.registry.schema import SchemaNotCurrent, SchemaStatus
    from kiosk.registry.store import Registry

_STORE = {
    **dict.fromkeys(("PresentedCard", "Registration", "RegistryPort"), "kiosk.registry.port"),
    **dict.fromkeys(("AuditRecord", "ChildECard", "ConsistencyFinding", "PendingActivation", "PendingRegistration",
                     "PersonRecord", "RegistrationRefused", "RegistryCounts", "RequestRejected", "StorageInfo"),
                    "kiosk.registry.records"),
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
