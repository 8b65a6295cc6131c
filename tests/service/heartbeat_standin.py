"""Provides HeartbeatStandIn: the heartbeat route of the contract (/work/coord/HEARTBEAT.md) in front of the registry
service's own, on a real uvicorn at 127.0.0.1, recording every byte a kiosk sends and answering as a test says.

For what the service's route cannot do on demand: keep the raw bodies (the no-personal-data scan), hang (`hold`:
the request waits until `release`) or fail (`failing`: 503). It reads the body with the service's own model
(registry_service.wire.HeartbeatBody: exactly the contract's fields, every string bounded), takes only the
credentials a test gives it, and answers the interval, the operator's order and the technician list unless the
kiosk's etag is current. The kiosk's other routes (card status, registrations ...) are the service's.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError

from registry_service.wire import HeartbeatBody as Heartbeat  # the service's own model of the contract
from tests.service.uvicorn_thread import ServiceThread

@dataclass
class Received:
    """One heartbeat as it arrived: the raw bytes and headers, and the body read by the contract's model."""

    body: bytes
    headers: dict[str, str]
    heartbeat: Heartbeat


@dataclass
class StandInState:
    """What the stand-in answers; a test changes it between heartbeats."""

    heartbeat_seconds: int = 15
    order: dict | None = None
    technicians: dict[str, str] | None = None
    etag: str = "t0"
    received: list[Received] = field(default_factory=list)
    arrived: threading.Event = field(default_factory=threading.Event)  # set by each heartbeat as it arrives
    gate: threading.Event = field(default_factory=lambda: _open())
    failing: bool = False

    def reset(self) -> None:
        """As a fresh stand-in: 15 s, no order, no technician list, nothing received, answering at once."""
        self.heartbeat_seconds, self.order, self.technicians, self.etag = 15, None, None, "t0"
        self.received.clear()
        self.arrived.clear()
        self.gate.set()
        self.failing = False


def _open() -> threading.Event:
    event = threading.Event()
    event.set()
    return event


def install_heartbeat_route(service_app: FastAPI, state: StandInState, credentials: set[str]) -> FastAPI:
    """An app with the stand-in's heartbeat route in front of `service_app` (the registry service's, mounted behind it
    for everything else), taking the bearer credentials in `credentials` (a test adds its kiosk's)."""
    app = FastAPI()

    @app.post("/v1/kiosk/heartbeat")
    async def route(request: Request) -> JSONResponse:
        raw = await request.body()
        headers = dict(request.headers)
        bearer = headers.get("authorization", "")
        if not bearer.startswith("Bearer ") or bearer[len("Bearer "):] not in credentials:
            return JSONResponse({"type": "about:blank", "title": "Unauthorized", "status": 401,
                                 "code": "SERVICE_CREDENTIAL_REFUSED", "reason": "unknown", "detail": "no such kiosk"},
                                status_code=401, media_type="application/problem+json")
        try:
            beat = Heartbeat.model_validate_json(raw)
        except ValidationError as exc:
            return JSONResponse({"type": "about:blank", "title": "Unprocessable", "status": 422,
                                 "detail": str(exc.errors()[0]["msg"])}, status_code=422,
                                media_type="application/problem+json")
        state.received.append(Received(raw, headers, beat))
        state.arrived.set()
        # A held answer waits on a thread of the pool, so the server keeps taking (and recording) other requests.
        await asyncio.get_running_loop().run_in_executor(None, state.gate.wait, 30)
        if state.failing:
            return JSONResponse({"status": 503, "detail": "stand-in failing"}, status_code=503)
        technicians = None
        if state.technicians is not None and beat.technicians_etag != state.etag:
            technicians = {"etag": state.etag, "accounts": state.technicians}
        return JSONResponse({"heartbeat_seconds": state.heartbeat_seconds, "out_of_service": state.order,
                             "technicians": technicians})

    app.mount("/", service_app)  # after the route: first match wins
    return app


class HeartbeatStandIn:
    """The stand-in route in front of `app` (the registry service's) on its own uvicorn; `state` is what it answers
    and what it received, `credentials` the bearer credentials it takes."""

    def __init__(self, app: FastAPI) -> None:
        self.credentials: set[str] = set()
        self.state = StandInState()
        self.thread = ServiceThread(install_heartbeat_route(app, self.state, self.credentials)).start()
        self.base_url = self.thread.base_url

    def hold(self) -> None:
        self.state.gate.clear()

    def release(self) -> None:
        self.state.gate.set()

    def stop(self) -> None:
        self.release()
        self.thread.stop()
