"""Provides /v1/health: the probe a load balancer asks without a credential."""
from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from kiosk.registry.probe import probe
from registry_service.deps import ServiceDep
from registry_service.service import UPGRADE_COMMAND

router = APIRouter(prefix="/v1", tags=["health"])


@router.get("/health")
def health(state: ServiceDep) -> JSONResponse:
    """200 when this replica can serve a visit (schema current, a write taken and rolled back), else 503."""
    report = probe(state.database, UPGRADE_COMMAND)
    return JSONResponse({"ok": report.ok, "schema_state": report.schema_state, "revision": report.revision},
                        status_code=200 if report.ok else 503)
