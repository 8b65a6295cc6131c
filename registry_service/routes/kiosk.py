"""Provides the kiosk routes under /v1/kiosk: the registry port over HTTP, the kiosk named by its credential."""
from __future__ import annotations

# Each route is one LocalRegistry call (the embedded kiosk's code, which re-checks every rule from the
# registry's own records) and answers with the port's value as it is: masked where the port masks.
# Reads that carry ID numbers are POSTs, so no resident ID ends up in an access log or a proxy's URL.
# Routes are `async def` handing their blocking database work to the service's thread pool, and answer
# with the value serialised once (registry_service.deps says why); `response_model` documents it.

from typing import Annotated

from fastapi import APIRouter, Header, Path, Request, Response

from kiosk.registry.port import (
    ChildFacts,
    ChildSummary,
    PendingRegistration,
    Registration,
    RegistryHealth,
    TicketStatus,
)
from registry_service.deps import KioskRegistry, answer, blocking
from registry_service.metrics import REFUSALS
from registry_service.problems import KIOSK_PROBLEMS
from registry_service.wire import (
    MAX_ID,
    AuditBody,
    CardOnly,
    CardStatusAnswer,
    CardStatusQuery,
    ChildFactsQuery,
    GuardianQuery,
    RegisterBody,
    Withdrawn,
)

router = APIRouter(prefix="/v1/kiosk", tags=["kiosk"], responses=KIOSK_PROBLEMS)
RecordId = Annotated[int, Path(ge=1, le=MAX_ID)]


@router.post("/card-status", response_model=CardStatusAnswer)
async def card_status(body: CardStatusQuery, port: KioskRegistry, request: Request) -> Response:
    """The guardian's card's status on record (unknown when the registry has no such card)."""
    return answer(CardStatusAnswer, CardStatusAnswer(await blocking(request, port.card_status, body.card_number)))


@router.post("/child-facts", response_model=ChildFacts)
async def child_facts(body: ChildFactsQuery, port: KioskRegistry, request: Request) -> Response:
    """Every fact the eligibility rules use about the child and this guardian (the name masked)."""
    return answer(ChildFacts, await blocking(request, port.child_facts, body.guardian_rid, body.child_rid))


@router.post("/pending-registrations", response_model=tuple[PendingRegistration, ...])
async def pending_registrations(body: GuardianQuery, port: KioskRegistry, request: Request) -> Response:
    """The pending e-cards of the guardian's children, oldest first (masked)."""
    return answer(tuple[PendingRegistration, ...], await blocking(request, port.pending_registrations, body.guardian_rid))


@router.post("/guardian-children", response_model=tuple[ChildSummary, ...])
async def guardian_children(body: GuardianQuery, port: KioskRegistry, request: Request) -> Response:
    """The guardian's children on record with their e-card's state, eldest first (the kiosk asks once the PIN
    is verified). Masked, except `resident_id`, by which the kiosk then registers the picked child."""
    return answer(tuple[ChildSummary, ...], await blocking(request, port.guardian_children, body.guardian_rid))


@router.post("/registrations", response_model=Registration)
async def register(
    body: RegisterBody, port: KioskRegistry, request: Request,
    idempotency_key: Annotated[str, Header(alias="Idempotency-Key", max_length=200,
                                           description="8-64 visible ASCII characters, the same on every retry")],
) -> Response:
    """Register the child's pending e-card and its first ticket in one transaction; every rule checked again.

    A retry with the same Idempotency-Key gets the same e-card ("replayed") and a fresh ticket.
    """
    registration = await blocking(request, port.register, body.card.presented(), body.child_rid, idempotency_key)
    if registration.outcome == "refused":
        for code in registration.codes:
            REFUSALS.labels(code).inc()
    return answer(Registration, registration)


@router.post("/ecards/{ecard_id}/tickets", response_model=Registration)
async def issue_ticket(ecard_id: RecordId, body: CardOnly, port: KioskRegistry, request: Request) -> Response:
    """A fresh ticket for a pending e-card (resume, or a renewed QR); the rules checked again."""
    return answer(Registration, await blocking(request, port.issue_ticket, ecard_id, body.card.presented()))


@router.get("/tickets/{ticket_id}", response_model=TicketStatus)
async def ticket_state(ticket_id: RecordId, port: KioskRegistry, request: Request) -> Response:
    """Where the ticket stands, and the poll interval the kiosk keeps to."""
    return answer(TicketStatus, await blocking(request, port.ticket_state, ticket_id))


@router.post("/tickets/{ticket_id}/withdraw", response_model=Withdrawn)
async def withdraw_ticket(ticket_id: RecordId, port: KioskRegistry, request: Request) -> Response:
    """Revoke an unused ticket shown at this kiosk (false: used, gone, or another kiosk's)."""
    return answer(Withdrawn, Withdrawn(await blocking(request, port.withdraw_ticket, ticket_id)))


@router.post("/ecards/{ecard_id}/cancel", response_model=Registration)
async def cancel(ecard_id: RecordId, body: CardOnly, port: KioskRegistry, request: Request) -> Response:
    """The guardian cancels a pending registration of their child."""
    return answer(Registration, await blocking(request, port.cancel, ecard_id, body.card.presented()))


@router.post("/audit", status_code=204, response_class=Response)
async def audit(body: AuditBody, port: KioskRegistry, request: Request) -> Response:
    """Record an audit event of this kiosk (ID numbers in the detail are masked)."""
    await blocking(request, port.audit, body.kind, body.detail)
    return Response(status_code=204)


@router.get("/health", response_model=RegistryHealth)
async def health(port: KioskRegistry, request: Request) -> Response:
    """The registry's probe, for the kiosk's service monitor (a refused credential answers 401 first)."""
    return answer(RegistryHealth, await blocking(request, port.health))
