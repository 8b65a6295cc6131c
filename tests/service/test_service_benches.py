"""Tests that the service benchmarks (python -m bench.service, python -m bench.fleet) run end to end on a tiny size."""
from __future__ import annotations

import json
import re

import pytest

from bench import fleet, service, service_floor
from tests.postgres_server import PostgresServer


def _figures(capsys: pytest.CaptureFixture[str]) -> dict:
    out = capsys.readouterr().out
    return json.loads(out)


def test_the_registry_service_benchmark_registers_and_prints_its_ratio(
        capsys: pytest.CaptureFixture[str], postgres_server: PostgresServer) -> None:
    assert service.main(["--kiosks", "2", "--clients", "2", "--seconds", "1", "--warmup", "0.3", "--people", "2000",
                         "--workers", "1", "--rounds", "1", "--pgbench-seconds", "1", "--pgbench-scale", "1",
                         "--json"], server=postgres_server) == 0
    printed = capsys.readouterr()
    figures = json.loads(printed.out)
    # The table (on stderr with --json) bounds the ratio by PostgreSQL's work alone, a service that cost nothing.
    assert re.search(r"PostgreSQL's work alone \(a service that cost nothing\) 0\.\d{3}", printed.err), printed.err
    run, = figures["runs"]
    assert run["registrations"] > 0 and run["errors"] == 0, run
    assert run["cpu_ms_per_registration"]["service"] > 0 and run["cpu_ms_per_registration"]["postgres"] > 0
    assert figures["duplicates"] == 0
    bench, = figures["pgbench"]
    assert bench["tps"] > 0 and bench["cpu_ms_per_transaction"]["postgres"] > 0


def test_the_fleet_benchmark_heartbeats_beside_the_registrations(
        capsys: pytest.CaptureFixture[str], postgres_server: PostgresServer) -> None:
    assert fleet.main(["--kiosks", "2", "--clients", "1", "--seconds", "1.5", "--warmup", "0.3", "--people", "6000",
                       "--heartbeat-kiosks", "6", "--fleet-processes", "2", "--interval", "0.5", "--json"], server=postgres_server) == 0
    figures = _figures(capsys)
    alone, beating = figures["runs"]
    assert not alone["heartbeats"] and beating["heartbeats"]
    assert alone["registrations"] > 0 and beating["registrations"] > 0
    side = beating["side"]
    assert side["heartbeats"] > 0 and side["failed"] == 0, side
    assert side["latency_ms"]["n"] == side["heartbeats"]
    assert figures["duplicates"] == 0


def test_the_service_floor_benchmark_prints_each_parts_least_cost(capsys: pytest.CaptureFixture[str]) -> None:
    assert service_floor.main(["--requests", "200", "--registrations", "20", "--json"]) == 0
    figures = _figures(capsys)
    assert figures["fastapi_us_per_request"]["post_with_body_and_header"] > figures["fastapi_us_per_request"]["bare_get"] > 0
    registry = figures["registry"]
    assert registry["registrations"] > 0 and registry["cpu_ms_per_registration"]["postgres"] > 0
    queries = " ".join(s["query"] for s in registry["statements"])
    assert "INSERT INTO ecard" in queries and "UPDATE activation_ticket" in queries, queries
