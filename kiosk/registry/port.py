"""Provides the registry port: what a kiosk session asks of the registry, and the plain values it gets back."""
from __future__ import annotations

# Two adapters implement `RegistryPort`: the in-process one over the database (`kiosk.registry.local`,
# the embedded default) and the HTTP one (the registry service). Every value here is a frozen
# dataclass of str, int, bool, None, date, datetime, tuples and str enums, so it goes to JSON and
# back as it is (pydantic's TypeAdapter, FastAPI response models), and holds only the personal data
# the kiosk's screens show: names and ID numbers of people other than the card holder come masked.
#
# Every method blocks (database or network I/O): call it from a worker thread. A registry that cannot
# be used raises `KioskError("DATABASE_UNAVAILABLE")` (the HTTP adapter: its own catalogued codes);
# the registry's answers about people and e-cards are values, never exceptions.

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Literal, Protocol

from kiosk.domain import CardStatus, ECardState, GuardianCard
from kiosk.tickets import TicketState

RegistrationOutcome = Literal["registered", "replayed", "issued", "already_pending", "activated", "cancelled", "refused"]
"""What became of a registration, ticket or cancel request:

- registered: a new pending e-card and its first ticket, in one transaction.
- replayed: the idempotency key was seen before: the same e-card, a fresh ticket (the earlier one revoked).
- issued: a fresh ticket for the pending e-card (a resumed registration, or a renewed QR).
- already_pending: the child's e-card was registered meanwhile by another request (another guardian or
  kiosk); nothing was written; `ecard_id` names it, and `issue_ticket` continues it if the guardian wants.
- activated: the e-card is active (the app was faster): nothing to issue; show "activated".
- cancelled: the pending e-card is cancelled (by `cancel`, or by a technician): nothing to issue.
- refused: the rules say no, checked by the registry from its own records; `refusals` says why.
"""


@dataclass(frozen=True)
class PresentedCard:
    """What the kiosk read from the guardian's card and proved at the kiosk (the PIN), as it presents them.

    The registry trusts none of it blindly: the card's status and holder come from its own records,
    the expiry is checked against its own clock; only `pin_verified` is the kiosk's word.
    """

    card_number: str
    spec_version: str
    expiry_date: date | None
    holder_resident_id: str
    pin_verified: bool

    @classmethod
    def from_card(cls, card: GuardianCard, pin_verified: bool) -> PresentedCard:
        """The facts of a card the kiosk read (its holder data must have been readable)."""
        if card.holder is None:
            raise ValueError("a card whose holder data could not be read cannot be presented")
        return cls(card.issuer.card_number, card.issuer.spec_version, card.issuer.expiry_date,
                   card.holder.resident_id, pin_verified)


@dataclass(frozen=True)
class ChildFacts:
    """What the registry says of a child, for the guardian at the kiosk: every fact the eligibility rules use."""

    known: bool
    """The child is a person in the registry."""
    masked_name: str | None
    """The name on record as the screen shows it (张*雨); None when unknown."""
    relationship: str | None
    """The guardian's relationship to the child on record ("father", "mother", "guardian"), None if none."""
    ecard_id: int | None
    """The child's e-card that is not cancelled, if any."""
    ecard_state: ECardState | None
    ecard_pending_by_this_guardian: bool
    """The child's pending e-card was registered by this guardian."""
    guardian_children_with_ecards: int
    """This guardian's other children with an active or pending e-card."""
    has_physical_card: bool


@dataclass(frozen=True)
class PendingRegistration:
    """A pending e-card of one of the guardian's children, as the kiosk lists it (masked; `ecard_id` continues it)."""

    ecard_id: int
    child_masked_name: str
    child_masked_id: str
    created_at: datetime
    applied_by_this_guardian: bool


@dataclass(frozen=True)
class ChildSummary:
    """One of the guardian's children on record, as the kiosk's picker lists it once the PIN is verified.

    Shown masked (`masked_name`, `masked_id`, the birth year). `resident_id` is the one field in full:
    the kiosk looks the picked child up and registers it by that number (`child_facts`, `register`),
    exactly as if the guardian had typed it; it stays in the visit's memory, out of every repr and view.
    """

    resident_id: str = field(repr=False)
    masked_name: str
    masked_id: str
    birth_year: int
    relationship: str
    """The guardian's relationship to the child on record ("father", "mother", "guardian")."""
    ecard_state: ECardState | None
    """The child's e-card that is not cancelled: None (none yet), pending or active."""
    ecard_id: int | None


@dataclass(frozen=True)
class IssuedTicket:
    """A fresh activation ticket: its secrets exist only here (the registry keeps their hashes)."""

    ticket_id: int
    ecard_id: int
    user_code: str
    """Shown as XXXX-XXXX."""
    url: str
    """What the QR code encodes."""
    expires_at: datetime
    poll_interval_seconds: float
    """How often the kiosk may ask `ticket_state` (RFC 8628 `interval`)."""


@dataclass(frozen=True)
class Refusal:
    """One eligibility rule the registry found broken; the kiosk words it from its region file."""

    code: str
    variant: str | None = None


@dataclass(frozen=True)
class Registration:
    """The registry's answer to register, issue_ticket and cancel (see RegistrationOutcome)."""

    outcome: RegistrationOutcome
    ecard_id: int | None = None
    ticket: IssuedTicket | None = None
    refusals: tuple[Refusal, ...] = ()

    @property
    def codes(self) -> tuple[str, ...]:
        return tuple(refusal.code for refusal in self.refusals)


@dataclass(frozen=True)
class TicketStatus:
    """Where an activation ticket stands, and when the kiosk may ask again."""

    ticket_id: int
    state: TicketState
    """pending, activated, expired, or revoked (replaced by a newer ticket, possibly at another kiosk, or withdrawn)."""
    expires_at: datetime
    poll_interval_seconds: float


@dataclass(frozen=True)
class RegistryHealth:
    """What the registry's probe found: it answered, its schema is this release's, and it takes writes."""

    ok: bool
    schema_state: str
    """"current", "behind", "ahead", "unknown", or "" when the probe did not get that far."""
    revision: str | None
    detail: str
    """Empty when ok; else one line for the technician (never shown to guardians)."""


class RegistryPort(Protocol):
    """The registry as a kiosk session uses it. The kiosk's identity comes from the adapter (its
    credential, or the embedded kiosk's settings), never from an argument."""

    def card_status(self, card_number: str) -> CardStatus:
        """The card's status on record; UNKNOWN when the registry has no such card."""
        ...

    def child_facts(self, guardian_rid: str, child_rid: str) -> ChildFacts:
        """Everything the eligibility rules need about the child and this guardian, in one question."""
        ...

    def pending_registrations(self, guardian_rid: str) -> tuple[PendingRegistration, ...]:
        """The pending e-cards of the guardian's children (whoever registered them), oldest first."""
        ...

    def guardian_children(self, guardian_rid: str) -> tuple[ChildSummary, ...]:
        """The guardian's children on record with their e-card's state, eldest first (ask only once the PIN is verified)."""
        ...

    def register(self, card: PresentedCard, child_rid: str, idempotency_key: str) -> Registration:
        """Register a pending e-card for the child and issue its first ticket, in one transaction.

        The registry evaluates every eligibility rule again from its own records and the card facts
        presented; the kiosk's own decision counts for nothing. A retry with the same key gets the
        same e-card and a fresh ticket ("replayed"), never a second e-card, never none.

        Args:
            idempotency_key: chosen by the kiosk for this registration (8-64 visible ASCII characters),
                the same on every retry of it.
        Raises:
            RequestRejected: IDEMPOTENCY_KEY_INVALID, or IDEMPOTENCY_KEY_REUSED (the key was used for
                another guardian or child).
        """
        ...

    def issue_ticket(self, ecard_id: int, card: PresentedCard) -> Registration:
        """A fresh ticket for a pending e-card (resume, or a renewed QR); the rules are checked again.

        Outcomes: issued, activated, cancelled, refused (e.g. NOT_GUARDIAN: the card holder is no
        guardian of that e-card's child).
        """
        ...

    def ticket_state(self, ticket_id: int) -> TicketStatus:
        """Where the ticket stands; the kiosk waits `poll_interval_seconds` before asking again.

        Raises:
            KioskError: ACTIVATION_UNKNOWN for a ticket that does not exist (or was purged).
        """
        ...

    def withdraw_ticket(self, ticket_id: int) -> bool:
        """Revoke a ticket that was not used (the guardian left the QR screen); False when it was used or gone."""
        ...

    def cancel(self, ecard_id: int, card: PresentedCard) -> Registration:
        """The guardian cancels a pending registration of their child (outcomes: cancelled, activated, refused)."""
        ...

    def audit(self, kind: str, detail: str) -> None:
        """Record an audit event of this kiosk; ID numbers left in `detail` are masked."""
        ...

    def health(self) -> RegistryHealth:
        """Probe what a visit needs: the registry answers, its schema is current, it takes a write (rolled back)."""
        ...
