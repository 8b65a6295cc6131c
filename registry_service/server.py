"""Provides serve: the registry service on uvicorn, one process or several workers, refusing a schema that is behind."""
from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Mapping

from fastapi import FastAPI

from registry_service.settings import ENV_PREFIX, ServiceSettings, load_service_settings

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

    from registry_service.app import create_app

    if settings.workers == 1:
        app = create_app(settings)
        uvicorn.run(app, host=settings.host, port=settings.port, log_level=settings.log_level.lower(),
                    access_log=False, timeout_keep_alive=30)
        return 0
    from registry_service.service import Service

    Service.open(settings).close()  # the schema check, once
    prepare_multiprocess_metrics(settings)
    if config_file is not None:
        os.environ[CONFIG_VARIABLE] = str(config_file)
    for key, value in (overrides or {}).items():  # the command line's settings, for the worker processes
        os.environ[f"{ENV_PREFIX}{key.upper()}"] = str(value)
    uvicorn.run("registry_service.server:app_from_environment", factory=True, host=settings.host,
                port=settings.port, workers=settings.workers, log_level=settings.log_level.lower(),
                access_log=False, timeout_keep_alive=30)
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
