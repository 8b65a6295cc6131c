"""Provides the registry work behind the session's registry effects: every call the session makes to the registry.

Switching the session to another registry (the registry service over HTTP) changes this module only.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kiosk.domain import ECardState
from kiosk.errors import KioskError
from kiosk.registry.records import RegistrationRefused
from kiosk.resident_id import ResidentId
from kiosk.session import effects as fx
from kiosk.session import events as ev

if TYPE_CHECKING:
    from kiosk.registry import Registry, RegistryPort

log = logging.getLogger("kiosk.session")


def perform(effect: fx.Effect, registry: Registry) -> ev.Answer | None:
    """Do `effect` with the registry (blocking) and return its answer; a catalogued failure is an answer too."""
    if isinstance(effect, fx.Audit):
        try:
            registry.audit(effect.kind, effect.detail)
        except KioskError as exc:
            log.warning("audit event %s not written: %s", effect.kind, exc.detail)
        return None
    assert isinstance(effect, fx.Work)
    try:
        return _answer(effect, registry)
    except KioskError as exc:
        return ev.WorkFailed(effect.stamp, exc.code, exc.detail)
    except (RegistrationRefused, LookupError) as exc:
        # The records say no now (another kiosk, the app): the session decides again.
        return ev.RegistryChanged(effect.stamp, str(exc))


def _answer(effect: fx.Work, registry: Registry) -> ev.Answer:
    stamp = effect.stamp
    if isinstance(effect, fx.LookUpCardStatus):
        return ev.CardStatusKnown(stamp, effect.card, registry.card_status(effect.card.issuer.card_number))
    if isinstance(effect, fx.LookUpChild):
        name, facts = child_facts(registry, effect.guardian, effect.child)
        return ev.ChildFound(stamp, effect.child, name, tuple(facts.items()), effect.purpose)
    if isinstance(effect, fx.RegisterECard):
        return ev.Registered(stamp, registry.register_ecard(effect.guardian, effect.child, effect.kiosk_id))
    if isinstance(effect, fx.IssueTicket):
        ticket = registry.issue_ticket(effect.ecard_id, effect.url_base, effect.ttl_seconds)
        return ev.TicketIssued(stamp, effect.ecard_id, ticket.ticket_id, ticket.user_code, ticket.url, ticket.expires_at)
    if isinstance(effect, fx.FindPendingECard):
        current = registry.child_ecard(effect.child)
        pending = current is not None and current.state is ECardState.PENDING
        return ev.PendingECard(stamp, current.ecard_id if pending and current is not None else None)
    if isinstance(effect, fx.PollTicket):
        return ev.TicketState(stamp, registry.ticket_state(effect.ticket_id))
    if isinstance(effect, fx.ListPending):
        pending = registry.pending_for_guardian(effect.guardian)
        return ev.PendingListed(stamp, tuple((p.child_resident_id, p.child_name) for p in pending))
    if isinstance(effect, fx.ListChildren):
        return list_children(effect, registry)
    raise TypeError(f"not registry work: {effect!r}")


def list_children(effect: fx.ListChildren, registry: RegistryPort | Registry) -> ev.ChildrenListed:
    """The guardian's children on record (the port's `guardian_children`; the store answers it the same way)."""
    return ev.ChildrenListed(effect.stamp, registry.guardian_children(effect.guardian))


def child_facts(registry: Registry, guardian: str, child: ResidentId) -> tuple[str | None, dict[str, object]]:
    """Look the child up: the name on record, and what the registry says of the child (the eligibility facts)."""
    person = registry.find_person(child.text)
    relationship = registry.relationship(guardian, child.text) if person else None
    ecard = registry.child_ecard(child.text) if person else None
    used = registry.guardian_children_with_ecards(guardian, child.text)
    return person.name if person else None, {
        "child_known": person is not None,
        "relationship": relationship,
        "child_ecard_state": ecard.state if ecard else None,
        "child_ecard_pending_by_this_guardian": bool(ecard and ecard.applicant_resident_id == guardian),
        "guardian_children_with_ecards": used,
        "child_has_physical_card": bool(person and person.has_physical_card),
    }
