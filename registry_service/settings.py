"""Provides the registry service's settings: embedded defaults, a TOML file and ECARD_REGISTRY_* variables, validated."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Mapping

from kiosk.embedded import REGIONS_DIR
from kiosk.setting_rules import (Choice, Flag, FolderPath, Integer, Number, Rule, RuleBroken, Text, read_credentials,
                                 read_settings_file)

ENV_PREFIX = "ECARD_REGISTRY_"
DEFAULTS_FILE = Path(str(files("registry_service") / "registry.toml"))
CREDENTIAL_KEYS = ("database_url", "metrics_token")
"""Secret settings a systemd unit passes as credentials: $CREDENTIALS_DIRECTORY/<key> (LoadCredential=)."""


class ServiceSettingsError(Exception):
    """A setting that cannot be used; the message is one line naming the key, where it came from, and what is allowed."""


def _setting(rule: Rule) -> Any:
    return field(metadata={"rule": rule})


@dataclass(frozen=True, kw_only=True)
class ServiceSettings:
    """Everything the registry service can be told; registry_service/registry.toml says what each key means."""

    database_url: str = _setting(Text())
    data_dir: Path = _setting(FolderPath())
    region: str = _setting(Text(min_length=1))
    activation_url_base: str = _setting(
        Text(pattern=r"^https?://[^\s?#]+$", pattern_says="must be an http:// or https:// address without ? or #"))
    activation_ttl_seconds: int = _setting(Integer(ge=30, le=3600))
    activation_poll_seconds: float = _setting(Number(ge=0.2, le=30))
    host: str = _setting(Text(min_length=1))
    port: int = _setting(Integer(ge=0, le=65535))
    workers: int = _setting(Integer(ge=1, le=64))
    pool_size: int = _setting(Integer(ge=1, le=500))
    threads: int = _setting(Integer(ge=0, le=1000))
    credential_cache_seconds: float = _setting(Number(ge=0, le=60))
    log_level: str = _setting(Choice(("DEBUG", "INFO", "WARNING", "ERROR")))
    heartbeat_seconds: int = _setting(Integer(ge=5, le=600))
    console_session_seconds: int = _setting(Integer(ge=60, le=86400))
    console_lockout_tries: int = _setting(Integer(ge=1, le=20))
    console_secure_cookie: bool = _setting(Flag())
    console_refresh_seconds: float = _setting(Number(ge=0.2, le=60))
    metrics_token: str = _setting(Text(pattern=r"^[!-~]*$", pattern_says="must be printable ASCII without spaces"))

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        return tuple(item.name for item in dataclasses.fields(cls))

    @property
    def resolved_threads(self) -> int:
        """The threads per worker for the database work: `threads`, or (0) four per CPU core, at most 2 × pool_size."""
        return self.threads or max(1, min(4 * (os.cpu_count() or 1), 2 * self.pool_size))

    @property
    def resolved_database_url(self) -> str:
        """The database URL; SQLite under data_dir when none is set."""
        return self.database_url or f"sqlite:///{self.data_dir / 'registry.sqlite3'}"

    @property
    def region_file(self) -> Path:
        candidate = Path(self.region)
        return candidate if candidate.suffix == ".toml" else REGIONS_DIR / f"{self.region}.toml"

    def replaced(self, **changes: Any) -> ServiceSettings:
        return dataclasses.replace(self, **changes)


def load_service_settings(
    override_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> ServiceSettings:
    """Merge the defaults, the override file, systemd credentials (CREDENTIAL_KEYS), ECARD_REGISTRY_* variables and
    explicit overrides (each wins over the ones before), then validate.

    Raises:
        ServiceSettingsError: one line naming the bad key, where its value came from, and what is allowed.
    """
    environ = os.environ if environ is None else environ
    known = set(ServiceSettings.keys())
    values: dict[str, Any] = read_settings_file(DEFAULTS_FILE, ServiceSettingsError)
    origins = {key: "default" for key in values}
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if override_file is not None:
        layers.append((str(override_file), read_settings_file(override_file, ServiceSettingsError)))
    credentials = read_credentials(environ, CREDENTIAL_KEYS, ServiceSettingsError)
    if credentials:
        layers.append(("credentials", credentials))
    layers.append(("environment", {name[len(ENV_PREFIX):].lower(): value for name, value in environ.items()
                                   if name.startswith(ENV_PREFIX)}))
    if overrides:
        layers.append(("command line", overrides))
    for origin, layer in layers:
        for key, value in layer.items():
            shown = {"environment": f"{ENV_PREFIX}{key.upper()}", "credentials": f"credential {key}"}.get(origin, origin)
            if key not in known:
                raise ServiceSettingsError(f"unknown setting '{key}' in {shown}; known settings: {', '.join(sorted(known))}")
            values[key] = value
            origins[key] = shown
    if isinstance(values.get("data_dir"), str):
        path = Path(values["data_dir"]).expanduser()
        values["data_dir"] = path if path.is_absolute() else Path.cwd() / path
    checked: dict[str, Any] = {}
    for item in dataclasses.fields(ServiceSettings):
        if item.name not in values:
            raise ServiceSettingsError(f"setting '{item.name}' is missing from {DEFAULTS_FILE}")
        try:
            checked[item.name] = item.metadata["rule"].check(values[item.name])
        except RuleBroken as exc:
            origin = origins.get(item.name, "default")
            got = "(not shown)" if origin.startswith("credential ") else repr(values[item.name])
            raise ServiceSettingsError(f"setting '{item.name}' (from {origin}) is not allowed: {exc}; got {got}") from None
    return ServiceSettings(**checked)
