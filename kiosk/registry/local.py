"""Provides LocalRegistry: the registry port in-process, over the database (the embedded kiosk's default)."""
from __future__ import annotations

# The registry service runs the very same class for the kiosk a credential names
# (`LocalRegistry(registry.for_kiosk(kiosk_id), region, policy)`), so there is one implementation
# of the rules, the registration and the tickets, whichever side of the network the kiosk is on.

from kiosk.domain import CardStatus, ECardState
from kiosk.eligibility import Region
from kiosk.masking import mask_id, mask_name
from kiosk.registry import activation, registration
from kiosk.registry.activation import TicketPolicy
from kiosk.registry.children import children_of
from kiosk.registry.lookup import look
from kiosk.registry.port import (
    ChildFacts,
    ChildSummary,
    PendingRegistration,
    PresentedCard,
    Registration,
    RegistryHealth,
    TicketStatus,
)
from kiosk.registry.registration import Desk, RegistrationRaced
from kiosk.registry.store import Registry


class LocalRegistry:
    """RegistryPort over a Registry: each call one transaction, the writing ones serialised where they must be.

    The kiosk is the registry's (`Registry.kiosk_id`); the rules are `region`, which the owner may
    replace when the rule file changes (`set_region`); tickets follow `policy`.
    """

    def __init__(self, registry: Registry, region: Region, policy: TicketPolicy) -> None:
        self._registry = registry
        self._region = region
        self._policy = policy

    @property
    def registry(self) -> Registry:
        return self._registry

    def set_region(self, region: Region) -> None:
        """Judge with these rules from the next call on (a corrected or updated rule file)."""
        self._region = region

    def _desk(self) -> Desk:
        return Desk(self._registry.kiosk_id, self._region, self._policy, self._registry.clock.now())

    # ------------------------------------------------------------------ reads
    def card_status(self, card_number: str) -> CardStatus:
        return self._registry.card_status(card_number)

    def child_facts(self, guardian_rid: str, child_rid: str) -> ChildFacts:
        with self._registry.database.one_statement("child_facts") as connection:
            looked = look(connection, guardian_rid, child_rid)
        assert looked is not None
        return ChildFacts(
            known=looked.child_known,
            masked_name=mask_name(looked.child_name) if looked.child_name else None,
            relationship=looked.relationship,
            ecard_id=looked.ecard_id,
            ecard_state=looked.ecard_state,
            ecard_pending_by_this_guardian=(
                looked.ecard_state is ECardState.PENDING and looked.ecard_applicant_id == looked.guardian_id
            ),
            guardian_children_with_ecards=looked.guardian_children_with_ecards,
            has_physical_card=looked.child_has_physical_card,
        )

    def pending_registrations(self, guardian_rid: str) -> tuple[PendingRegistration, ...]:
        return tuple(
            PendingRegistration(p.ecard_id, mask_name(p.child_name), mask_id(p.child_resident_id), p.created_at,
                                p.applied_by_this_guardian)
            for p in self._registry.pending_for_guardian(guardian_rid)
        )

    def guardian_children(self, guardian_rid: str) -> tuple[ChildSummary, ...]:
        return children_of(self._registry.database, guardian_rid)

    def ticket_state(self, ticket_id: int) -> TicketStatus:
        with self._registry.database.transaction("ticket_state") as session:
            state, expires_at = activation.status(session, self._registry.clock.now(), ticket_id, self._registry.kiosk_id)
        return TicketStatus(ticket_id, state, expires_at, self._policy.poll_interval_seconds)

    def health(self) -> RegistryHealth:
        return self._registry.health()

    # ------------------------------------------------------------------ writes
    def register(self, card: PresentedCard, child_rid: str, idempotency_key: str) -> Registration:
        for attempt in (1, 2):
            try:
                with self._registry.database.transaction("register", writes=True) as session:
                    return registration.register(session, self._desk(), card, child_rid, idempotency_key)
            except RegistrationRaced:
                if attempt == 2:
                    raise
        raise AssertionError("unreachable")

    def issue_ticket(self, ecard_id: int, card: PresentedCard) -> Registration:
        with self._registry.database.transaction("issue_ticket", writes=True) as session:
            return registration.issue(session, self._desk(), ecard_id, card)

    def withdraw_ticket(self, ticket_id: int) -> bool:
        with self._registry.database.transaction("withdraw_ticket", writes=True) as session:
            return activation.withdraw(session, ticket_id, self._registry.kiosk_id)

    def cancel(self, ecard_id: int, card: PresentedCard) -> Registration:
        with self._registry.database.transaction("cancel", writes=True) as session:
            return registration.cancel(session, self._desk(), ecard_id, card)

    def audit(self, kind: str, detail: str) -> None:
        self._registry.audit(kind, detail)
