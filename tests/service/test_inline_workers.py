"""`database_work = "inline"` with 2 uvicorn workers (a real `ecard-registry serve` subprocess) on PostgreSQL: each
worker runs a request's database work on its event loop, and the races still end as they must: 50 kiosks
registering one child at once make one e-card and tell the others why, 20 phones activating one ticket at once
make one success, and the kiosk's poll then says activated."""
from __future__ import annotations

import os
import subprocess
import sys
import threading
import types
from pathlib import Path
from typing import Iterator

import httpx
import pytest

from kiosk.registry.database import Database
from kiosk.registry.schema import upgrade
from kiosk.registry.service_client import ServiceRegistry
from registry_service.service import Service
from tests.conftest import ROOT
from tests.postgres_server import PostgresServer
from tests.service.conftest import URL_BASE, reset_registry, service_settings
from tests.service.test_metrics_workers import free_port
from tests.service.test_phone_routes import QUICK, ROUNDS, activate, at_once, cancel_live, live_ecards
from tests.unit.core.test_registry_port import ZHANG_CARD, ZHANG_WEI, ZHANG_XIAOYU

WORKERS = 2


class InlineService:
    """The service as its own process with WORKERS inline workers, and an in-process Service on the same database
    for setting up (schema, demo data, credentials) and for counting what the registry holds."""

    def __init__(self, url: str, folder: Path) -> None:
        database = Database.open(url)
        try:
            upgrade(database)
        finally:
            database.dispose()
        self.service = Service.open(service_settings(url, folder))
        reset_registry(self.service)
        port = free_port()
        self.base_url = f"http://127.0.0.1:{port}"
        env = {**os.environ, "ECARD_REGISTRY_DATABASE_URL": url, "ECARD_REGISTRY_DATA_DIR": str(folder),
               "ECARD_REGISTRY_PORT": str(port), "ECARD_REGISTRY_WORKERS": str(WORKERS),
               "ECARD_REGISTRY_DATABASE_WORK": "inline", "ECARD_REGISTRY_POOL_SIZE": "2",
               "ECARD_REGISTRY_ACTIVATION_URL_BASE": URL_BASE, "ECARD_REGISTRY_CREDENTIAL_CACHE_SECONDS": "0",
               "ECARD_REGISTRY_LOG_LEVEL": "INFO"}
        self.process = subprocess.Popen([sys.executable, "-m", "registry_service", "serve"], cwd=ROOT, text=True,
                                        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        assert self.process.stderr is not None
        said: list[str] = []
        for line in self.process.stderr:  # uvicorn says it once per worker: the event to wait on
            said.append(line)
            if sum("Application startup complete" in seen for seen in said) == WORKERS:
                break
        else:
            raise AssertionError(f"the inline workers did not start: {''.join(said)[-2000:]}")
        # The rest of its log goes on being read, so that a full pipe never stops a worker.
        threading.Thread(target=self.process.stderr.read, daemon=True).start()

    def close(self) -> None:
        self.process.terminate()
        self.process.wait(30)
        self.service.close()


@pytest.fixture
def inline_service(postgres_server: PostgresServer, tmp_path: Path) -> Iterator[InlineService]:
    running = InlineService(postgres_server.create_database("inline_workers"), tmp_path)
    yield running
    running.close()


@pytest.mark.xdist_group("service-postgresql")
def test_inline_workers_keep_one_live_ecard_per_child_and_one_activation_per_ticket(
        inline_service: InlineService) -> None:
    counted = types.SimpleNamespace(service=inline_service.service)  # what live_ecards and cancel_live read
    kiosks = [ServiceRegistry(inline_service.base_url, inline_service.service.credentials.add(f"INLINE-{i:02}"), QUICK)
              for i in range(50)]
    try:
        for round_number in range(ROUNDS):
            results = at_once([
                (lambda k=k, i=i: k.register(ZHANG_CARD, ZHANG_XIAOYU, f"inline-{round_number:02}-{i:02}"))
                for i, k in enumerate(kiosks)])
            failures = [r for r in results if isinstance(r, BaseException)]
            assert not failures, failures[:3]
            outcomes = sorted(r.outcome for r in results)  # type: ignore[union-attr]
            assert outcomes.count("registered") == 1 and set(outcomes) == {"registered", "already_pending"}, outcomes
            assert live_ecards(counted) == 1
            cancel_live(counted)
        ticket = kiosks[0].register(ZHANG_CARD, ZHANG_XIAOYU, "inline-phone-race").ticket
        assert ticket is not None
        phones = [httpx.Client(base_url=inline_service.base_url, timeout=10) for _ in range(20)]
        try:
            answers = at_once([(lambda p=p: activate(p, ticket.url, ZHANG_WEI).json()["outcome"]) for p in phones])
        finally:
            for phone in phones:
                phone.close()
        assert sorted(answers) == ["activated"] + ["already_used"] * 19  # type: ignore[type-var]
        assert kiosks[0].ticket_state(ticket.ticket_id).state == "activated"
    finally:
        for k in kiosks:
            k.close()
