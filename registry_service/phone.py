"""Provides the phone routes under /v1: activation bound to the app user's identity, the ticket behind a QR, the kiosk's poll."""
from __future__ import annotations

# The app is real-name: our stand-in sends its user's resident ID (`phone_user_rid`), and only the
# guardian the ticket was issued to may use it (kiosk.registry.phone). Answers follow RFC 8628's
# words in `outcome` and map to HTTP statuses; slow_down carries Retry-After. Codes and IDs travel in
# POST bodies, never in a URL, so no access log or proxy keeps them.

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Path, Request
from fastapi import Response
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict

from kiosk.registry.phone import PhoneAnswer, PhoneDesk, PhoneLimits, PollAnswer, PreviewAnswer
from registry_service import deps
from registry_service.deps import KioskId, ServiceDep, blocking
from registry_service.problems import KIOSK_PROBLEMS
from registry_service.wire import MAX_ID, Text

router = APIRouter(prefix="/v1", tags=["phone"])
LIMITS = PhoneLimits()
OUTCOME_STATUS = {"activated": 200, "access_denied": 403, "expired_token": 410, "slow_down": 429,
                  "invalid_code": 404, "already_used": 409, "found": 200}
"""The HTTP status of each answer (the body says the same in `outcome`)."""


class PresentedTicket(BaseModel):
    """What the app scanned (the QR's URL or token) or what its user typed (the code)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    presented: Text(1, 300)  # type: ignore[valid-type]


class PhoneActivation(PresentedTicket):
    phone_user_rid: Text(1, 40)  # type: ignore[valid-type]
    """The resident ID of the app's signed-in (real-name) user."""


def desk(state: ServiceDep) -> PhoneDesk:
    """The phone side over the service's registry."""
    return PhoneDesk(state.registry, LIMITS)


def client_of(request: Request) -> str:
    """Who presents, for the wrong-code throttle: the caller's address (an app would send its installation ID)."""
    return request.client.host if request.client is not None else "unknown"


def answer(value: PhoneAnswer | PreviewAnswer) -> JSONResponse:
    headers = {"Retry-After": str(value.retry_after_seconds)} if value.outcome == "slow_down" else None
    body = dataclasses.asdict(value)
    return JSONResponse(_jsonable(body), status_code=OUTCOME_STATUS[value.outcome], headers=headers)


def _jsonable(body: object) -> object:
    if isinstance(body, dict):
        return {key: _jsonable(item) for key, item in body.items()}
    return body.isoformat() if hasattr(body, "isoformat") else body


@router.post("/phone/activations", responses={403: {"description": "access_denied"}, 404: {"description": "invalid_code"},
                                              409: {"description": "already_used"}, 410: {"description": "expired_token"},
                                              429: {"description": "slow_down (Retry-After)"}})
async def activate(body: PhoneActivation, request: Request, state: ServiceDep) -> JSONResponse:
    """Activate the e-card behind a QR or typed code, for the app's user: only the guardian it was issued to succeeds."""
    return answer(await blocking(request, desk(state).activate, body.presented, body.phone_user_rid, client_of(request)))


@router.post("/phone/tickets", responses={404: {"description": "invalid_code"}, 429: {"description": "slow_down"}})
async def look_up(body: PresentedTicket, request: Request, state: ServiceDep) -> JSONResponse:
    """The ticket behind a QR or code, for the confirm page: the child's masked name, the kiosk, the expiry."""
    return answer(await blocking(request, desk(state).preview, body.presented, client_of(request)))


@router.get("/kiosk/tickets/{ticket_id}/poll", response_model=PollAnswer, responses=KIOSK_PROBLEMS)
async def poll(ticket_id: Annotated[int, Path(ge=1, le=MAX_ID)], kiosk: KioskId, request: Request) -> Response:
    """The kiosk's poll of its ticket, RFC 8628 style: authorization_pending, slow_down (the interval 5 s longer
    from then on), expired_token, access_denied (locked by strangers' tries); no error once activated."""
    state = request.app.state.service
    answered = await blocking(request, desk(state).poll, ticket_id, state.policy.poll_interval_seconds, kiosk)
    return deps.answer(PollAnswer, answered)
