"""Provides what a route asks FastAPI for (the service's shared state, the registry port of the calling kiosk), and how
a route runs its blocking work and answers with a value."""
from __future__ import annotations

import asyncio
import functools
from typing import Annotated, Any, Callable, TypeVar

from fastapi import Depends, Header, Request, Response
from pydantic import TypeAdapter

from kiosk.registry.local import LocalRegistry
from registry_service.service import Service

T = TypeVar("T")

# Per request, the service pays FastAPI's own work (routing, dependencies, validation, the answer) on the
# event loop, and the database work on a thread. To keep the first small (`python -m bench.service`
# prints both, from /proc):
# - The dependencies are `async def`, and the kiosk's is one dependency, not three (each one more is a
#   round of FastAPI's dependency solving on every request).
# - Blocking work goes to the service's thread pool through asyncio's run_in_executor, not anyio's
#   to_thread (its capacity limiter, cancel scope and sniffio look-ups run on the event loop each time).
# - An answer is serialised once, by the route's pydantic TypeAdapter straight to JSON bytes; with a
#   `response_model` FastAPI would validate the value again and then serialise it. The route keeps its
#   `response_model` for the OpenAPI document.


async def service(request: Request) -> Service:
    """The process's Service (built once in create_app)."""
    return request.app.state.service


async def blocking(request: Request, call: Callable[..., T], *args: Any) -> T:
    """`call(*args)` on the service's thread pool (the loop's default one before the application's start-up)."""
    executor = getattr(request.app.state, "executor", None)
    return await asyncio.get_running_loop().run_in_executor(executor, call, *args)


@functools.lru_cache(maxsize=None)
def _adapter(kind: Any) -> TypeAdapter:
    return TypeAdapter(kind)


def answer(kind: Any, value: Any, status_code: int = 200) -> Response:
    """`value` (of type `kind`, as the route's response_model says) as the JSON answer."""
    return Response(_adapter(kind).dump_json(value), status_code=status_code, media_type="application/json")


async def kiosk_id(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <kiosk credential>")] = None,
) -> str:
    """The kiosk the request's credential names (never anything in the request body).

    Raises:
        CredentialRefused: answered 401 with the reason.
    """
    credentials = request.app.state.service.credentials
    known = credentials.known(authorization)
    return known if known is not None else await blocking(request, credentials.kiosk_for, authorization)


async def kiosk_registry(
    request: Request,
    authorization: Annotated[str | None, Header(description="Bearer <kiosk credential>")] = None,
) -> LocalRegistry:
    """The registry port for the calling kiosk: LocalRegistry, the embedded kiosk's code, writing as that kiosk."""
    return request.app.state.service.for_kiosk(await kiosk_id(request, authorization))


ServiceDep = Annotated[Service, Depends(service)]
KioskId = Annotated[str, Depends(kiosk_id)]
KioskRegistry = Annotated[LocalRegistry, Depends(kiosk_registry)]
