"""Provides the plain values the registry hands out: people, a child's e-card, pending registrations, audit events."""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from kiosk.domain import ECardState
from kiosk.masking import mask_id, mask_name


@dataclass(frozen=True)
class PersonRecord:
    """A person as the registry knows them."""

    resident_id: str
    name: str
    birth_date: date
    sex: str  # "1" male, "2" female
    has_physical_card: bool

    @property
    def masked_name(self) -> str:
        """The name as shown on screen: 张*雨."""
        return mask_name(self.name)


@dataclass(frozen=True)
class ChildECard:
    """A child's newest e-card that is not cancelled."""

    ecard_id: int
    state: ECardState
    applicant_resident_id: str
    created_at: datetime


@dataclass(frozen=True)
class PendingRegistration:
    """An e-card of one of a guardian's children still waiting for activation."""

    ecard_id: int
    child_resident_id: str
    child_name: str
    created_at: datetime
    applied_by_this_guardian: bool

    @property
    def child_masked_id(self) -> str:
        """The child's ID number as shown on screen: 4301**********0029."""
        return mask_id(self.child_resident_id)

    @property
    def child_masked_name(self) -> str:
        """The child's name as shown on screen: 张*雨."""
        return mask_name(self.child_name)


@dataclass(frozen=True)
class AuditRecord:
    """One audit event."""

    at: datetime
    kind: str
    detail: str
    kiosk_id: str


class RegistrationRefused(Exception):
    """The registry refuses to register or continue an e-card; `code` is the eligibility rule it breaks.

    Raised when the registry's own records contradict the request at the moment of writing
    (the session decided on older facts): evaluate the child again.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
