"""Provides what a route asks FastAPI for: the service's shared state, and the registry port of the calling kiosk."""
from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request
from fastapi.concurrency import run_in_threadpool

from kiosk.registry.local import LocalRegistry
from registry_service.service import Service


# The dependencies are `async def`: a plain `def` one would cost a hand-over to the thread pool each,
# on every request. Only the credential's database query (when it is not cached) goes to a thread.


async def service(request: Request) -> Service:
    """The process's Service (built once in create_app)."""
    return request.app.state.service


async def kiosk_id(
    state: Annotated[Service, Depends(service)],
    authorization: Annotated[str | None, Header(description="Bearer <kiosk credential>")] = None,
) -> str:
    """The kiosk the request's credential names (never anything in the request body).

    Raises:
        CredentialRefused: answered 401 with the reason.
    """
    known = state.credentials.known(authorization)
    return known if known is not None else await run_in_threadpool(state.credentials.kiosk_for, authorization)


async def kiosk_registry(state: Annotated[Service, Depends(service)], kiosk: Annotated[str, Depends(kiosk_id)]) -> LocalRegistry:
    """The registry port for the calling kiosk: LocalRegistry, the embedded kiosk's code, writing as that kiosk."""
    return state.for_kiosk(kiosk)


ServiceDep = Annotated[Service, Depends(service)]
KioskId = Annotated[str, Depends(kiosk_id)]
KioskRegistry = Annotated[LocalRegistry, Depends(kiosk_registry)]
