"""Provides POST /v1/kiosk/heartbeat: a kiosk's state, counts and error codes kept; its operator order and technicians answered."""
from __future__ import annotations

from fastapi import APIRouter

from registry_service.deps import KioskId, ServiceDep
from registry_service.problems import KIOSK_PROBLEMS
from registry_service.wire import HeartbeatAnswer, HeartbeatBody

router = APIRouter(prefix="/v1/kiosk", tags=["kiosk"], responses=KIOSK_PROBLEMS)


@router.post("/heartbeat", response_model=HeartbeatAnswer)
def heartbeat(body: HeartbeatBody, kiosk: KioskId, state: ServiceDep) -> HeartbeatAnswer:
    """Every `heartbeat_seconds`: the kiosk's version, settings fingerprint, state and why, reader and PSAM,
    today's counts and its last errors by code (no personal data). The answer carries the interval wanted,
    the operator's out-of-service order (null: none), and the technician list when `technicians_etag` is stale."""
    return state.fleet.heartbeat(kiosk, body)
