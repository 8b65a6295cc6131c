"""Provides the registry work behind the session's registry effects: every call the session makes to the registry port.

The session sees the registry only through `kiosk.registry.port.RegistryPort`: the embedded kiosk's
LocalRegistry (in-process, over the database) or the registry service's HTTP adapter, chosen by the
settings. The registry's answers ("refused", "already_pending", "activated", "cancelled") become the
session's own events; a registry that cannot be used is a catalogued, retriable error.
"""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from kiosk.domain import ECardState
from kiosk.errors import KioskError
from kiosk.registry.records import RegistrationRefused, RequestRejected
from kiosk.session import effects as fx
from kiosk.session import events as ev

if TYPE_CHECKING:
    from kiosk.registry.port import ChildFacts, Registration, RegistryPort

log = logging.getLogger("kiosk.session")


def perform(effect: fx.Effect, registry: RegistryPort) -> ev.Answer | None:
    """Do `effect` with the registry (blocking) and return its answer; a catalogued failure is an answer too."""
    if isinstance(effect, (fx.Audit, fx.WithdrawTicket)):
        _leave_behind(effect, registry)
        return None
    assert isinstance(effect, fx.Work)
    try:
        return _answer(effect, registry)
    except KioskError as exc:
        return ev.WorkFailed(effect.stamp, exc.code, exc.detail)
    except RequestRejected as exc:
        # The e-card is gone (purged), or a key the registry will not take: the session decides again.
        log.warning("registry refused the request %s: %s", effect.name, exc.code)
        return ev.RegistryChanged(effect.stamp, exc.code)
    except (RegistrationRefused, LookupError) as exc:
        # The records say no now (another kiosk, the app): the session decides again.
        return ev.RegistryChanged(effect.stamp, str(exc))


def _leave_behind(effect: fx.Audit | fx.WithdrawTicket, registry: RegistryPort) -> None:
    """Work nobody waits for: a failure is logged, never shown (the kiosk carries on without it)."""
    try:
        if isinstance(effect, fx.Audit):
            registry.audit(effect.kind, effect.detail)
        else:
            registry.withdraw_ticket(effect.ticket_id)
    except (KioskError, RequestRejected) as exc:
        log.warning("%s not done: %s", effect.name, exc)


def _answer(effect: fx.Work, registry: RegistryPort) -> ev.Answer:
    stamp = effect.stamp
    if isinstance(effect, fx.LookUpCardStatus):
        return ev.CardStatusKnown(stamp, effect.card, registry.card_status(effect.card.issuer.card_number))
    if isinstance(effect, fx.LookUpChild):
        facts = registry.child_facts(effect.guardian, effect.child.text)
        return ev.ChildFound(stamp, effect.child, facts.masked_name, tuple(eligibility_facts(facts).items()),
                             effect.purpose)
    if isinstance(effect, fx.RegisterECard):
        return _ticket_answer(stamp, registry.register(effect.card, effect.child, effect.idempotency_key))
    if isinstance(effect, fx.IssueTicket):
        return _ticket_answer(stamp, registry.issue_ticket(effect.ecard_id, effect.card))
    if isinstance(effect, fx.FindPendingECard):
        facts = registry.child_facts(effect.guardian, effect.child)
        pending = facts.ecard_state is ECardState.PENDING
        return ev.PendingECard(stamp, facts.ecard_id if pending else None)
    if isinstance(effect, fx.PollTicket):
        status = registry.ticket_state(effect.ticket_id)
        return ev.TicketState(stamp, status.state, status.poll_interval_seconds)
    if isinstance(effect, fx.ListPending):
        pending = registry.pending_registrations(effect.guardian)
        return ev.PendingListed(stamp, tuple((p.ecard_id, p.child_masked_name, p.child_masked_id) for p in pending))
    if isinstance(effect, fx.ListChildren):
        return list_children(effect, registry)
    raise TypeError(f"not registry work: {effect!r}")


def list_children(effect: fx.ListChildren, registry: RegistryPort) -> ev.ChildrenListed:
    """The guardian's children on record (the port's `guardian_children`)."""
    return ev.ChildrenListed(effect.stamp, registry.guardian_children(effect.guardian))


def _ticket_answer(stamp: ev.Stamp, registration: Registration) -> ev.Answer:
    """A registration's or a ticket's answer, as the session takes it."""
    ticket = registration.ticket
    if registration.outcome in ("registered", "replayed", "issued") and ticket is not None:
        return ev.TicketIssued(stamp, ticket.ecard_id, ticket.ticket_id, ticket.user_code, ticket.url, ticket.expires_at,
                               ticket.poll_interval_seconds)
    if registration.outcome == "activated" and registration.ecard_id is not None:
        return ev.AlreadyActivated(stamp, registration.ecard_id)
    if registration.outcome == "already_pending" and registration.ecard_id is not None:
        # Registered meanwhile by another kiosk or guardian: the guardian consented, so its code is next (the
        # registry checks again, at the ticket, that this guardian may have it).
        return ev.PendingECard(stamp, registration.ecard_id)
    # refused, cancelled: what the records say now decides.
    reason = registration.outcome + (f" {','.join(registration.codes)}" if registration.codes else "")
    return ev.RegistryChanged(stamp, reason)


def eligibility_facts(facts: ChildFacts) -> dict[str, object]:
    """What the registry says of the child, as the eligibility rules name the facts."""
    return {
        "child_known": facts.known,
        "relationship": facts.relationship,
        "child_ecard_state": facts.ecard_state,
        "child_ecard_pending_by_this_guardian": facts.ecard_pending_by_this_guardian,
        "guardian_children_with_ecards": facts.guardian_children_with_ecards,
        "child_has_physical_card": facts.has_physical_card,
    }
