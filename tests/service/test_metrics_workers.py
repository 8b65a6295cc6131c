"""`ecard-registry serve --workers 2` (a real subprocess): /metrics sums every worker's counts (prometheus-client's
multiprocess mode, in data_dir/metrics, emptied at each start)."""
from __future__ import annotations

import os
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from registry_service.cli import main
from tests.conftest import ROOT

REQUESTS = 30


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.xdist_group("service-sqlite")
def test_two_workers_are_counted_together(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    port = free_port()
    env = {"ECARD_REGISTRY_DATA_DIR": str(tmp_path), "ECARD_REGISTRY_PORT": str(port), "ECARD_REGISTRY_WORKERS": "2",
           "ECARD_REGISTRY_LOG_LEVEL": "INFO"}
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    assert main(["upgrade"]) == 0
    (tmp_path / "metrics").mkdir()
    (tmp_path / "metrics" / "counter_1.db").write_bytes(b"stale")  # a previous run's: emptied at the start
    process = subprocess.Popen([sys.executable, "-m", "registry_service", "serve"], cwd=ROOT, text=True,
                               env={**os.environ, **env}, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        started = 0
        assert process.stderr is not None
        for line in process.stderr:  # uvicorn says it once per worker: the event to wait on
            started += "Application startup complete" in line
            if started == 2:
                break
        assert started == 2, "the workers did not start"
        base = f"http://127.0.0.1:{port}"
        for _ in range(REQUESTS):  # a new connection each: the kernel hands them to either worker
            assert httpx.get(base + "/v1/kiosk/health", timeout=10).status_code == 401
        text = httpx.get(base + "/metrics", timeout=10).text
    finally:
        process.terminate()
        process.wait(30)
    samples = {(s.name, tuple(sorted(s.labels.items()))): s.value
               for family in text_string_to_metric_families(text) for s in family.samples}
    assert samples[("ecard_registry_errors_total", (("code", "KIOSK_CREDENTIAL_REFUSED"),))] == REQUESTS
    assert samples[("ecard_registry_request_seconds_count", (("method", "GET"), ("route", "/v1/kiosk/health")))] == REQUESTS
    files = {path.name for path in (tmp_path / "metrics").glob("*.db")}
    assert "counter_1.db" not in files and len({name.split("_")[1] for name in files}) == 2  # two workers' files
