"""Provides /metrics in the Prometheus text format: request latency per route, error answers and refusals by code, the fleet by colour."""
from __future__ import annotations

# Two kinds of figures, each correct with any number of uvicorn workers:
# - what one process sees (request latency per route template, error answers by code, registrations
#   the service refused by rule code) are prometheus_client metrics; with workers > 1, `serve` sets
#   PROMETHEUS_MULTIPROC_DIR (emptied at each start) and a scrape sums every worker's files;
# - what the database knows (registrations and activations ever, kiosks by colour, what the kiosks
#   report for today) is computed at the scrape, from the tallies and the heartbeats: the same
#   answer from every worker and replica, nothing to add up.

import os
import time
from typing import Iterable

from fastapi import APIRouter, Response
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric

from kiosk.registry import tallies
from registry_service.deps import ServiceDep
from registry_service.fleet import COLOURS

MULTIPROCESS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"
PREFIX = "ecard_registry"
UNMATCHED = "unmatched"
"""The route label of a request no route took (a raw path would make a series per scanner's guess)."""

PROCESS = CollectorRegistry()
REQUEST_SECONDS = Histogram(
    f"{PREFIX}_request_seconds", "Time to answer a request, by method and route template", ["method", "route"],
    registry=PROCESS, buckets=(0.002, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10))
ERRORS = Counter(f"{PREFIX}_errors", "Error answers (problem documents) by code", ["code"], registry=PROCESS)
REFUSALS = Counter(f"{PREFIX}_refusals", "Registrations the service refused, by the rule's catalogue code", ["code"],
                   registry=PROCESS)

router = APIRouter(include_in_schema=False)


class RequestTimer:
    """ASGI middleware: each HTTP request's time into REQUEST_SECONDS under the route's template (/v1/kiosk/tickets/{ticket_id})."""

    def __init__(self, app) -> None:  # app: the ASGI application it wraps
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        began = time.perf_counter()
        try:
            await self.app(scope, receive, send)
        finally:
            route = scope.get("route")
            REQUEST_SECONDS.labels(scope["method"], getattr(route, "path", None) or UNMATCHED).observe(
                time.perf_counter() - began)


class DatabaseFigures:
    """The figures the database knows, computed at each scrape."""

    def __init__(self, service) -> None:  # service: registry_service.service.Service
        self._service = service

    def collect(self) -> Iterable[Metric]:
        with self._service.database.connection("metrics") as connection:
            tally = tallies.read(connection)
        registrations = CounterMetricFamily(f"{PREFIX}_registrations", "E-cards registered (every state)")
        registrations.add_metric([], tally.ecards_pending + tally.ecards_active + tally.ecards_cancelled)
        activations = CounterMetricFamily(f"{PREFIX}_activations", "E-cards activated")
        activations.add_metric([], tally.ecards_active)
        yield registrations
        yield activations
        statuses = self._service.fleet.statuses()
        by_colour = GaugeMetricFamily(f"{PREFIX}_kiosks", "Kiosks by state (green, amber, red; HEARTBEAT.md)",
                                      labels=["state"])
        for colour in COLOURS:
            by_colour.add_metric([colour], sum(1 for s in statuses if s.colour == colour))
        yield by_colour
        red = GaugeMetricFamily(f"{PREFIX}_kiosk_red", "1 while the kiosk is red (missed 4 heartbeats, or out of service)",
                                labels=["kiosk"])
        refusals: dict[str, int] = {}
        errors: dict[str, int] = {}
        for status in statuses:
            red.add_metric([status.kiosk_id], 1 if status.colour == "red" else 0)
            for code, count in status.refusals.items():
                refusals[code] = refusals.get(code, 0) + int(count)
            for code, _ in status.last_errors:
                errors[code] = errors.get(code, 0) + 1
        yield red
        today = GaugeMetricFamily(f"{PREFIX}_kiosk_refusals_today", "Refusals the kiosks report for their day, by code",
                                  labels=["code"])
        for code, count in sorted(refusals.items()):
            today.add_metric([code], count)
        yield today
        reported = GaugeMetricFamily(f"{PREFIX}_kiosk_errors_reported",
                                     "Errors in the kiosks' last-errors lists (newest 10 each), by code", labels=["code"])
        for code, count in sorted(errors.items()):
            reported.add_metric([code], count)
        yield reported


def exposition(service) -> bytes:
    """The text a scrape gets: this process's (or every worker's) metrics, then the database's figures."""
    if os.environ.get(MULTIPROCESS_VARIABLE):
        from prometheus_client import multiprocess

        workers = CollectorRegistry()
        multiprocess.MultiProcessCollector(workers)
        process = generate_latest(workers)
    else:
        process = generate_latest(PROCESS)
    database = CollectorRegistry()
    database.register(DatabaseFigures(service))
    return process + generate_latest(database)


@router.get("/metrics")
def metrics(state: ServiceDep) -> Response:
    return Response(exposition(state), media_type=CONTENT_TYPE_LATEST)
