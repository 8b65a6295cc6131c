"""Provides HeartbeatStandIn: the service's heartbeat route as the contract (/work/coord/HEARTBEAT.md) states it, on a
real uvicorn at 127.0.0.1, recording every byte a kiosk sends; for the kiosk's tests until the registry service's
own route is merged (then the tests that need only the contract still use it: no database behind it).

It checks what the service checks (the bearer credential, a body of exactly the contract's fields, every string
bounded) and answers as the service does: the interval, the operator's order, the technician list unless the
kiosk's etag is current. A test can hold the answers (`hold`: the request waits until `release`) or fail them
(`failing`: 503) to play a slow or absent service.
"""
from __future__ import annotations

import asyncio
import threading
from dataclasses import dataclass, field
from typing import Annotated, Literal

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError

from tests.service.uvicorn_thread import ServiceThread

Code = Annotated[str, StringConstraints(pattern=r"^[A-Z0-9_]{1,40}$")]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Today(_Strict):
    date: Annotated[str, StringConstraints(pattern=r"^\d{4}-\d{2}-\d{2}$")]
    visits: int = Field(ge=0)
    registrations: int = Field(ge=0)
    activations: int = Field(ge=0)
    refusals: dict[Code, Annotated[int, Field(ge=0)]] = Field(max_length=50)


class LastError(_Strict):
    code: Code
    at: Annotated[str, StringConstraints(max_length=40, pattern=r"Z$")]


class Heartbeat(_Strict):
    version: Annotated[str, StringConstraints(min_length=1, max_length=40)]
    settings_fingerprint: Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{16,64}$")]
    uptime_seconds: int = Field(ge=0)
    state: Literal["idle", "in_visit", "out_of_service"]
    out_of_service_reasons: list[Literal["reader", "psam", "registry", "rules", "technician", "operator"]]
    reader: Literal["ok", "no_reader", "no_card", "error"]
    psam: Literal["ok", "absent", "not_needed", "error"]
    today: Today
    last_errors: list[LastError] = Field(max_length=10)
    technicians_etag: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None


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


def install_heartbeat_route(app: FastAPI, state: StandInState, credentials: set[str]) -> FastAPI:
    """Add the contract's heartbeat route to `app` (a bare app, or the registry service's own for the visits' routes),
    taking the bearer credentials in `credentials` (a test adds its kiosk's)."""

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

    return app


class HeartbeatStandIn:
    """The heartbeat route on its own uvicorn (on `app` when given: the registry service's); `state` is what it
    answers and what it received, `credentials` the bearer credentials it takes."""

    def __init__(self, app: FastAPI | None = None) -> None:
        self.credentials: set[str] = set()
        self.state = StandInState()
        self.thread = ServiceThread(install_heartbeat_route(app or FastAPI(), self.state, self.credentials)).start()
        self.base_url = self.thread.base_url

    def hold(self) -> None:
        self.state.gate.clear()

    def release(self) -> None:
        self.state.gate.set()

    def stop(self) -> None:
        self.release()
        self.thread.stop()
