"""Tests that the service benchmarks (python -m bench.service, python -m bench.fleet) run end to end on a tiny size."""
from __future__ import annotations

import json

import pytest

from bench import fleet, service
from tests.postgres_server import PostgresServer


def _figures(capsys: pytest.CaptureFixture[str]) -> dict:
    out = capsys.readouterr().out
    return json.loads(out)


def test_the_registry_service_benchmark_registers_on_threads_and_inline_and_prints_its_ratio(
        capsys: pytest.CaptureFixture[str], postgres_server: PostgresServer) -> None:
    assert service.main(["--kiosks", "2", "--clients", "2", "--seconds", "1", "--warmup", "0.3", "--people", "4000",
                         "--workers", "1,2:inline", "--rounds", "1", "--pgbench-seconds", "1", "--pgbench-scale", "1",
                         "--json"], server=postgres_server) == 0
    figures = _figures(capsys)
    threads, inline = figures["runs"]
    assert (threads["workers"], threads["database_work"], inline["workers"], inline["database_work"]) == (
        1, "threads", 2, "inline")
    for run in (threads, inline):
        assert run["registrations"] > 0 and run["errors"] == 0, run
        assert run["cpu_ms_per_registration"]["service"] > 0 and run["cpu_ms_per_registration"]["postgres"] > 0
    assert figures["duplicates"] == 0
    bench, = figures["pgbench"]
    assert bench["tps"] > 0 and bench["cpu_ms_per_transaction"]["postgres"] > 0


def test_the_fleet_benchmark_heartbeats_beside_the_registrations(
        capsys: pytest.CaptureFixture[str], postgres_server: PostgresServer) -> None:
    assert fleet.main(["--kiosks", "2", "--clients", "1", "--seconds", "1.5", "--warmup", "0.3", "--people", "2000",
                       "--heartbeat-kiosks", "6", "--fleet-processes", "2", "--interval", "0.5", "--json"], server=postgres_server) == 0
    figures = _figures(capsys)
    alone, beating = figures["runs"]
    assert not alone["heartbeats"] and beating["heartbeats"]
    assert alone["registrations"] > 0 and beating["registrations"] > 0
    side = beating["side"]
    assert side["heartbeats"] > 0 and side["failed"] == 0, side
    assert side["latency_ms"]["n"] == side["heartbeats"]
    assert figures["duplicates"] == 0
