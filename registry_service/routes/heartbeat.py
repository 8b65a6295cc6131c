"""Provides POST /v1/kiosk/heartbeat: a kiosk's state, counts and error codes kept; its operator order and technicians answered."""
from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header, Response

from registry_service.deps import ServiceDep
from registry_service.problems import KIOSK_PROBLEMS
from registry_service.wire import HeartbeatAnswer, HeartbeatBody

router = APIRouter(prefix="/v1/kiosk", tags=["kiosk"], responses=KIOSK_PROBLEMS)


@router.post("/heartbeat", response_model=HeartbeatAnswer)
def heartbeat(
    body: HeartbeatBody, state: ServiceDep,
    authorization: Annotated[str | None, Header(description="Bearer <kiosk credential>")] = None,
) -> Response:
    """Every `heartbeat_seconds`: the kiosk's version, settings fingerprint, state and why, reader and PSAM,
    today's counts and its last errors by code (no personal data). The answer carries the interval wanted,
    the operator's out-of-service order (null: none), and the technician list when `technicians_etag` is stale."""
    # The credential is checked on the heartbeat's own connection (not by the kiosk_id dependency's), and
    # the answer goes out as the bytes made here: the cheapest route there is, as it is the most frequent.
    return Response(state.fleet.heartbeat_json(state.credentials, authorization, body), media_type="application/json")
