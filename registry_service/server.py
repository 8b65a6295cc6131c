"""Provides serve: the registry service on uvicorn, one process or several workers, refusing a schema that is behind.

Under systemd (deploy/ecard-registry.service: Type=notify, WatchdogSec=) it says READY=1 once it
listens (every worker serving, with several), STOPPING=1 when it begins to stop, and WATCHDOG=1
from the loop that serves: uvicorn's own tick with one process (a hung event loop stops the
pings, so systemd restarts the service), the supervisor's loop with several (uvicorn's
supervisor itself replaces a worker that stops answering its health check).
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any, Mapping

from fastapi import FastAPI

from kiosk.sd_notify import Notifier
from registry_service.settings import ENV_PREFIX, ServiceSettings, load_service_settings

STARTUP_FAILURE = 3
"""The exit status when the service could not start listening (uvicorn's own)."""

CONFIG_VARIABLE = "ECARD_REGISTRY_CONFIG_FILE"
"""Carries --config to uvicorn's worker processes, which build the application from `app_from_environment`."""


def app_from_environment() -> FastAPI:
    """The application of a uvicorn worker process (settings from the variables `serve` handed down)."""
    from registry_service.app import create_app

    config = os.environ.get(CONFIG_VARIABLE)
    return create_app(load_service_settings(Path(config) if config else None))


def serve(settings: ServiceSettings, config_file: Path | None = None, overrides: Mapping[str, Any] | None = None) -> int:
    """Run the service until interrupted.

    The schema is checked here first (in one worker, before any listens), so a behind database stops
    the start with the upgrade command instead of every worker failing on its own.
    """
    import uvicorn
    from uvicorn.supervisors import Multiprocess

    from registry_service.app import create_app

    notifier = Notifier.from_environment()
    listening = f"STATUS=serving on {settings.host}:{settings.port}"
    common = dict(host=settings.host, port=settings.port, log_level=settings.log_level.lower(), access_log=False,
                  timeout_keep_alive=30)

    if settings.workers == 1:
        watchdog: dict[str, Any] = {}
        if notifier is not None and notifier.watchdog_seconds is not None:
            async def ping() -> None:
                notifier.send("WATCHDOG=1")
            # uvicorn calls it from its serving loop's tick (once a second at most) every timeout_notify seconds.
            watchdog = dict(callback_notify=ping, timeout_notify=max(1.0, notifier.watchdog_seconds))

        class NotifyingServer(uvicorn.Server):
            async def startup(self, sockets: Any = None) -> None:
                await super().startup(sockets)
                if self.started and notifier is not None:
                    notifier.send("READY=1", listening)

            async def shutdown(self, sockets: Any = None) -> None:
                if notifier is not None:
                    notifier.send("STOPPING=1")
                await super().shutdown(sockets)

        server = NotifyingServer(uvicorn.Config(create_app(settings), **common, **watchdog))
        server.run()
        return 0 if server.started else STARTUP_FAILURE
    from registry_service.service import Service

    Service.open(settings).close()  # the schema check, once
    prepare_multiprocess_metrics(settings)
    if config_file is not None:
        os.environ[CONFIG_VARIABLE] = str(config_file)
    for key, value in (overrides or {}).items():  # the command line's settings, for the worker processes
        os.environ[f"{ENV_PREFIX}{key.upper()}"] = str(value)

    class NotifyingSupervisor(Multiprocess):
        last_ping = 0.0

        def init_processes(self) -> None:
            super().init_processes()
            if notifier is not None and all(worker.wait_until_ready(60, self.should_exit) for worker in self.processes):
                notifier.send("READY=1", f"{listening} ({len(self.processes)} workers)")

        def keep_subprocess_alive(self) -> None:
            super().keep_subprocess_alive()
            if notifier is not None and notifier.watchdog_seconds is not None and not self.should_exit.is_set():
                if time.monotonic() - self.last_ping >= notifier.watchdog_seconds:
                    self.last_ping = time.monotonic()
                    notifier.send("WATCHDOG=1")

        def terminate_all(self) -> None:
            if notifier is not None:
                notifier.send("STOPPING=1")
            super().terminate_all()

    config = uvicorn.Config("registry_service.server:app_from_environment", factory=True, workers=settings.workers,
                            **common)
    NotifyingSupervisor(config, sockets=[config.bind_socket()]).run()
    return 0


METRICS_VARIABLE = "PROMETHEUS_MULTIPROC_DIR"


def prepare_multiprocess_metrics(settings: ServiceSettings) -> Path:
    """With several workers, each writes its metrics to files in one folder that a scrape sums
    (prometheus_client's multiprocess mode): PROMETHEUS_MULTIPROC_DIR if set, else data_dir/metrics.
    The folder is emptied first: counters start again from zero with the service, as Prometheus expects."""
    folder = Path(os.environ.get(METRICS_VARIABLE) or settings.data_dir / "metrics")
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):
        stale.unlink()
    os.environ[METRICS_VARIABLE] = str(folder)
    return folder
