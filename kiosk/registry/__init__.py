"""Provides the registry: people, cards, guardianships, e-cards and activation tickets in SQLite or PostgreSQL."""
from __future__ import annotations

from kiosk.registry.demo import DemoDataError, load_demo
from kiosk.registry.records import AuditRecord, ChildECard, PendingRegistration, PersonRecord, RegistrationRefused
from kiosk.registry.store import Registry

__all__ = [
    "AuditRecord",
    "ChildECard",
    "DemoDataError",
    "PendingRegistration",
    "PersonRecord",
    "Registry",
    "RegistrationRefused",
    "load_demo",
]
