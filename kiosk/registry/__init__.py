"""Provides the registry: people, cards, guardianships, e-cards and activation tickets in SQLite or PostgreSQL."""
from __future__ import annotations

from kiosk.registry.demo import DemoDataError, load_demo
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
from kiosk.registry.store import Registry

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
