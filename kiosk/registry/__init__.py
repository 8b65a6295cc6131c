"""Provides the registry: people, cards, guardianships, e-cards and activation tickets in SQLite or PostgreSQL."""
from __future__ import annotations

from kiosk.registry.activation import TicketPolicy
from kiosk.registry.demo import DemoDataError, load_demo
from kiosk.registry.local import LocalRegistry
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
from kiosk.registry.schema import SchemaNotCurrent, SchemaStatus
from kiosk.registry.store import Registry

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
