"""Provides the service's error answers: RFC 9457 problem documents with the catalogue's code, never a traceback."""
from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.encoders import jsonable_encoder
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from kiosk.errors import KioskError
from kiosk.registry.records import RequestRejected
from registry_service import metrics
from registry_service.credentials import CredentialRefused

PROBLEM_TYPE = "application/problem+json"


class Problem(BaseModel):
    """An error answer (RFC 9457): `code` is stable (the kiosk's error catalogue, or the request's fault)."""

    type: str = "about:blank"
    title: str
    status: int
    code: str
    detail: str
    reason: str | None = None
    """401 only: missing, malformed, unknown or revoked."""


def _documented(description: str) -> dict:
    return {"description": description, "model": Problem, "content": {PROBLEM_TYPE: {}}}


KIOSK_PROBLEMS = {
    401: _documented("The kiosk credential is missing, malformed, unknown or revoked (`reason`)."),
    422: _documented("The request's body, path or headers are not what the route takes (REQUEST_INVALID), or "
                     "the Idempotency-Key is malformed (IDEMPOTENCY_KEY_INVALID)."),
    503: _documented("The registry database cannot be used now (DATABASE_UNAVAILABLE); retry later."),
}
"""The answers every kiosk route may give besides its own, for the OpenAPI document."""
_LOG = logging.getLogger("registry_service")

# The catalogue's codes a kiosk route can answer with, and their HTTP status. Anything else the
# core raises is a bug: 500, logged, with no detail in the answer.
ERROR_STATUS = {
    "ACTIVATION_UNKNOWN": 404,
    "ACTIVATION_USED": 409,
    "ACTIVATION_EXPIRED": 410,
    "DATABASE_UNAVAILABLE": 503,
    "REGISTRY_TIMEOUT": 503,
}
REJECTED_STATUS = {"IDEMPOTENCY_KEY_INVALID": 422, "IDEMPOTENCY_KEY_REUSED": 409, "ECARD_UNKNOWN": 404}


def problem(status: int, code: str, title: str, detail: str, **extra: object) -> JSONResponse:
    """A problem document: {"type", "title", "status", "code", "detail", ...}."""
    metrics.ERRORS.labels(code).inc()
    body = {"type": "about:blank", "title": title, "status": status, "code": code, "detail": detail, **extra}
    headers = {"WWW-Authenticate": 'Bearer realm="ecard-registry"'} if status == 401 else None
    if status == 503:
        headers = {"Retry-After": "1"}
    return JSONResponse(jsonable_encoder(body), status_code=status, media_type=PROBLEM_TYPE, headers=headers)


def _validation_message(exc: RequestValidationError) -> str:
    parts = []
    for error in exc.errors()[:5]:
        where = ".".join(str(part) for part in error.get("loc", ()) if part != "body") or "body"
        parts.append(f"{where}: {error.get('msg', 'invalid')}")
    return "; ".join(parts)


def install(app: FastAPI) -> None:
    """Answer every failure of a route as a problem document."""

    @app.exception_handler(CredentialRefused)
    async def credential_refused(request: Request, exc: CredentialRefused) -> JSONResponse:
        return problem(401, "KIOSK_CREDENTIAL_REFUSED", "kiosk credential refused", exc.detail, reason=exc.reason)

    @app.exception_handler(RequestRejected)
    async def rejected(request: Request, exc: RequestRejected) -> JSONResponse:
        return problem(REJECTED_STATUS.get(exc.code, 422), exc.code, "request rejected", exc.detail)

    @app.exception_handler(KioskError)
    async def kiosk_error(request: Request, exc: KioskError) -> JSONResponse:
        status = ERROR_STATUS.get(exc.code)
        if status is None:
            _LOG.error("uncatalogued answer %s on %s %s", exc, request.method, request.url.path)
            return problem(500, "INTERNAL", "internal error", "the service failed; see its log")
        if status == 503:
            _LOG.warning("%s %s: %s", request.method, request.url.path, exc.detail)
            return problem(503, exc.code, "registry unavailable", "the registry database cannot be used now")
        return problem(status, exc.code, exc.code.lower().replace("_", " "), exc.detail)

    @app.exception_handler(RequestValidationError)
    async def invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        return problem(422, "REQUEST_INVALID", "request invalid", _validation_message(exc))

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        return problem(exc.status_code, f"HTTP_{exc.status_code}", str(exc.detail), str(exc.detail))

    @app.exception_handler(Exception)
    async def unexpected(request: Request, exc: Exception) -> JSONResponse:
        _LOG.exception("unexpected failure on %s %s", request.method, request.url.path)
        return problem(500, "INTERNAL", "internal error", "the service failed; see its log")
