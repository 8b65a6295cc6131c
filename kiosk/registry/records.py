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


@dataclass(frozen=True)
class RegistryCounts:
    """The registry in numbers, for the maintenance console."""

    registrations_today: int  # e-cards registered since the kiosk's local midnight
    pending: int  # e-cards waiting for activation
    activated: int  # e-cards active
    cancelled: int  # e-cards cancelled
    expired_tickets: int  # unused activation codes past their time (what a purge deletes)
    people: int
    audit_events: int
    last_write: datetime | None  # the newest time written anywhere (registration, activation, ticket, audit)


@dataclass(frozen=True)
class StorageInfo:
    """Where the registry lives and how big it is."""

    backend: str  # "sqlite", "postgresql", ...
    location: str  # the database URL with any password hidden
    size_bytes: int | None  # None when the backend does not say


@dataclass(frozen=True)
class PendingActivation:
    """A registered e-card still waiting for the guardian's app, from any guardian at any kiosk."""

    ecard_id: int
    child_resident_id: str
    child_name: str
    applicant_resident_id: str
    created_at: datetime
    kiosk_id: str
    code_expires_at: datetime | None  # the newest unused activation code's end; None: no code was ever issued

    @property
    def child_masked_id(self) -> str:
        return mask_id(self.child_resident_id)

    @property
    def child_masked_name(self) -> str:
        return mask_name(self.child_name)

    @property
    def applicant_masked_id(self) -> str:
        return mask_id(self.applicant_resident_id)


@dataclass(frozen=True)
class ConsistencyFinding:
    """One consistency rule of the registry and the records breaking it (none: the rule holds)."""

    code: str  # stable name of the rule, e.g. "ACTIVE_WITHOUT_TIME"
    count: int
    examples: tuple[int, ...] = ()  # row ids (e-card, ticket, guardianship or person ids) of the first breakers
    enforced_by: str = ""  # the database constraint that keeps the rule (then nothing needs counting), if any


class RequestRejected(Exception):
    """A request the registry cannot take as asked (a client's mistake, not a rule): `code` says which.

    IDEMPOTENCY_KEY_INVALID: the key is not 8-64 visible ASCII characters. IDEMPOTENCY_KEY_REUSED: the
    key named another guardian's or child's registration. ECARD_UNKNOWN: no such e-card.
    """

    def __init__(self, code: str, detail: str) -> None:
        super().__init__(f"{code}: {detail}")
        self.code = code
        self.detail = detail
