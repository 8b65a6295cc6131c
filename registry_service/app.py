"""Provides create_app: the registry service's FastAPI application, its state built once, its routes under /v1."""
from __future__ import annotations

import contextlib
import inspect
from concurrent.futures import ThreadPoolExecutor
from typing import AsyncIterator

import anyio.to_thread
from fastapi import FastAPI

from kiosk.ports import Clock
from registry_service import console, metrics, phone, phone_page, problems
from registry_service.routes import health, heartbeat, kiosk
from registry_service.service import Service
from registry_service.settings import ServiceSettings

API_VERSION = "1"
TITLE = "Child e-card registry service"


def create_app(settings: ServiceSettings, clock: Clock | None = None, *, service: Service | None = None) -> FastAPI:
    """The application for `settings`: the database opened and its schema checked now, not at the first request.

    Args:
        clock: the service's clock (tests pass a manual one); the system clock when None.
        service: an already opened Service to serve (its owner closes it); else one is opened here
            and closed when the application shuts down.
    Raises:
        SchemaNotCurrent: the database's schema is not this release's (the message names `ecard-registry upgrade`).
        KioskError: DATABASE_UNAVAILABLE.
    """
    owned = service is None
    state = Service.open(settings, clock) if service is None else service

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Blocking work runs on threads: a few per core (settings.resolved_threads), never more than the
        # database pool can serve at once (pool_size kept + as many at a peak), so a thread never waits
        # for a connection. Many more threads than cores (it was 40 and up) only made them take turns at
        # the GIL and PostgreSQL's backends at the cores: on 2 cores, 8 threads served more registrations
        # a second than 100, with less CPU per registration in the service and in PostgreSQL
        # (python -m bench.service). The kiosk and phone routes use the service's own pool
        # (registry_service.deps.blocking); plain `def` routes (the phone page) run in anyio's, sized alike.
        threads = state.settings.resolved_threads
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        app.state.executor = ThreadPoolExecutor(threads, thread_name_prefix="registry")
        try:
            yield
        finally:
            app.state.executor.shutdown(wait=True)
            if owned:
                state.close()

    app = application(lifespan)
    app.state.service = state
    return app


# FastAPI's own OpenTelemetry (FastAPI 0.16x): the service configures no provider (its figures are /metrics),
# yet every request asked the global providers, and the environment, whether one was set.
_NO_NATIVE_TELEMETRY = (
    {"telemetry": {"tracing": False, "metrics": False, "logs": False, "operation_spans": False}}
    if "telemetry" in inspect.signature(FastAPI.__init__).parameters else {}
)


def application(lifespan=None) -> FastAPI:  # lifespan: an async context manager factory, as FastAPI takes it
    """The routes and error answers, with no state yet (create_app adds it; the OpenAPI document needs none)."""
    app = FastAPI(title=TITLE, version=API_VERSION, lifespan=lifespan, **_NO_NATIVE_TELEMETRY,
                  description="The child e-card registry for kiosks: every route of /v1/kiosk takes the kiosk's own "
                              "credential (Authorization: Bearer), which also names the kiosk; errors are RFC 9457 "
                              "problem documents with a stable `code`.")
    problems.install(app)
    app.include_router(health.router)
    app.include_router(kiosk.router)
    app.include_router(heartbeat.router)
    app.include_router(phone.router)
    app.include_router(phone_page.router)
    app.include_router(console.router)
    app.include_router(metrics.router)
    app.add_middleware(metrics.RequestTimer)
    return app


def openapi_document() -> dict:
    """The service's OpenAPI document, as registry_service/openapi.json holds it."""
    return application().openapi()
