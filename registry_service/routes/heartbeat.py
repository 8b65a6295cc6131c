"""Provides POST /v1/kiosk/heartbeat: a kiosk's state, counts and error codes kept; its operator order and technicians answered."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Request, Response

from registry_service.deps import ServiceDep, blocking
from registry_service.problems import KIOSK_PROBLEMS
from registry_service.wire import HeartbeatAnswer, HeartbeatBody

router = APIRouter(prefix="/v1/kiosk", tags=["kiosk"], responses=KIOSK_PROBLEMS)


@router.post("/heartbeat", response_model=HeartbeatAnswer)
async def heartbeat(
    body: HeartbeatBody, request: Request, state: ServiceDep,
    authorization: Annotated[str | None, Header(description="Bearer <kiosk credential>")] = None,
) -> Response:
    """Every `heartbeat_seconds`: the kiosk's version, settings fingerprint, state and why, reader and PSAM,
    today's counts and its last errors by code (no personal data). The answer carries the interval wanted,
    the operator's out-of-service order (null: none), and the technician list when `technicians_etag` is stale."""
    # The cheapest route there is, as it is the most frequent: the credential's SHA-256 here on the loop (a
    # missing or malformed one never reaches a thread), its check joined to the heartbeat's own upsert on the
    # service's thread pool (not the kiosk_id dependency's query), and the answer as the bytes made there.
    digest = state.credentials.digest(authorization)
    answer = await blocking(request, state.fleet.heartbeat, state.credentials, digest, body)
    return Response(answer, media_type="application/json")
