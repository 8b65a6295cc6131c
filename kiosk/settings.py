"""Provides the kiosk's settings: embedded defaults, an override file and KIOSK_* variables, validated."""
from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Annotated, Any, Literal, Mapping

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from kiosk.embedded import CARD_PROFILES_DIR, DEFAULTS_FILE, REGIONS_DIR

ENV_PREFIX = "KIOSK_"


IdleStep = Literal["insert_card", "holder", "pin", "child_id", "child_confirm", "eligible", "not_eligible", "error"]
"""The steps that wait for the guardian, each with an idle timeout."""


def _table_from_text(value: object, expected: str) -> object:
    """A table setting given as text (a KIOSK_* variable, the command line): "a=1,b=2" or a JSON object."""
    if not isinstance(value, str):
        return value
    text = value.strip()
    if text.startswith("{"):
        import json

        return json.loads(text)
    pairs = [part.split("=", 1) for part in text.split(",") if part.strip()]
    if any(len(pair) != 2 for pair in pairs):
        raise ValueError(f"expected {expected}")
    return {key.strip(): item.strip() for key, item in pairs}


class SettingsError(Exception):
    """A setting that cannot be used; the message is one line naming the key and what is allowed."""


class Settings(BaseModel):
    """Everything the kiosk can be told; see config/kiosk.toml for what each key means."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    kiosk_id: str = Field(min_length=1, max_length=40)
    """Which kiosk this is."""
    region: str = Field(min_length=1)
    """A regional rule file shipped with the kiosk (config/regions/<name>.toml), or the path of one (*.toml)."""
    language: Literal["zh", "en"]
    """The language every session starts in."""
    data_dir: Path
    """Database and logs (a relative path is relative to the working directory)."""
    database_url: str
    """Empty for SQLite under data_dir."""
    demo_data: bool
    """Fill an empty database with demo data."""
    reader: Literal["simulated", "pcsc"]
    """Which card reader."""
    reader_name: str
    """PC/SC guardian reader name pattern."""
    psam_reader: str
    """PC/SC PSAM reader name pattern."""
    reader_protocol: Literal["any", "T0", "T1"]
    """PC/SC protocol."""
    reader_exclusive: bool
    """PC/SC exclusive access during a session."""
    simulated_psam: str
    """Virtual PSAM profile for the simulated reader."""
    card_profiles_dir: Path
    """Virtual card profiles (empty in the settings: the demo cards shipped with the kiosk)."""
    activation_url_base: str = Field(pattern=r"^https?://\S+$")
    """Base address of the activation QR."""
    activation_ttl_seconds: int = Field(ge=30, le=3600)
    """Life of one QR code."""
    activation_poll_seconds: float = Field(ge=0.2, le=30)
    """How often the kiosk looks for the activation."""
    activation_max_renewals: int = Field(ge=0, le=20)
    """Fresh QR codes per registration before the session ends."""
    idle_timeout_seconds: int = Field(ge=15, le=900)
    """Idle time before a session ends, on steps without their own."""
    step_idle_seconds: dict[IdleStep, Annotated[int, Field(ge=15, le=900)]]
    """Idle time of particular steps."""
    idle_warning_seconds: int = Field(ge=20, le=120)
    """How long before the idle timeout the warning with "more time" shows."""
    keypad_shuffled: bool
    """Digits of the on-screen PIN keypad in a new order for every PIN."""
    voice_prompts: Literal["auto", "on", "off"]
    """Spoken instructions through espeak-ng."""
    voice_volume: int = Field(ge=0, le=200)
    """espeak-ng amplitude."""

    @field_validator("step_idle_seconds", mode="before")
    @classmethod
    def _step_idle_from_text(cls, value: object) -> object:
        # From KIOSK_STEP_IDLE_SECONDS or the command line.
        return _table_from_text(value, 'step=seconds pairs, e.g. "pin=90,child_id=120"')
    farewell_seconds: int = Field(ge=3, le=300)
    """How long the closing screens wait."""
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"]
    """Log level of the log file."""
    tester_panel: bool
    """Tester panel in simulated mode."""
    technicians: dict[str, str]
    """Maintenance technicians: ID -> salted slow hash of the PIN (kiosk.maintenance.passwords)."""
    maintenance_key_sequence: str
    """The keys that open the technician login, space-separated Textual key names."""
    maintenance_idle_seconds: int = Field(ge=30, le=3600)
    """Maintenance without input for this long returns to the guardian screens."""
    ticket_purge_hours: int = Field(ge=0, le=168)
    """How often expired activation codes are deleted (0: only from the maintenance console)."""

    @field_validator("technicians", mode="before")
    @classmethod
    def _technicians_from_text(cls, value: object) -> object:
        # From KIOSK_TECHNICIANS.
        return _table_from_text(value, 'ID=hash pairs, e.g. "T0001=scrypt$16384$8$1$<salt>$<hash>"')

    @field_validator("technicians")
    @classmethod
    def _technicians_valid(cls, value: dict[str, str]) -> dict[str, str]:
        from kiosk.maintenance.passwords import TECHNICIAN_ID_PATTERN, parse_pin_hash

        for technician, stored in value.items():
            if not TECHNICIAN_ID_PATTERN.match(technician):
                raise ValueError(f"technician ID {technician!r} must be 1 to 20 letters, digits, '-' or '_'")
            try:
                parse_pin_hash(stored)
            except ValueError as exc:
                raise ValueError(f"technician {technician}: {exc}") from None
        return value

    @field_validator("maintenance_key_sequence")
    @classmethod
    def _key_sequence_valid(cls, value: str) -> str:
        from kiosk.maintenance.gesture import parse_key_sequence

        return " ".join(parse_key_sequence(value))

    @property
    def resolved_database_url(self) -> str:
        """The database URL, SQLite under data_dir when none is set."""
        if self.database_url:
            return self.database_url
        return f"sqlite:///{self.data_dir / 'registry.sqlite3'}"

    @property
    def region_file(self) -> Path:
        """The regional rule file the region setting names."""
        candidate = Path(self.region)
        if candidate.suffix == ".toml":
            return candidate  # made absolute by load_settings
        return REGIONS_DIR / f"{self.region}.toml"


class LoadedSettings:
    """The validated settings and where each value came from ("default", a file path, or KIOSK_X)."""

    def __init__(self, settings: Settings, origins: dict[str, str]) -> None:
        self.settings = settings
        self.origins = origins


_PATH_KEYS = ("data_dir", "card_profiles_dir")


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise SettingsError(f"settings file {path} does not exist") from None
    except tomllib.TOMLDecodeError as exc:
        raise SettingsError(f"settings file {path} is not valid TOML: {exc}") from None
    except OSError as exc:
        raise SettingsError(f"settings file {path} cannot be read: {exc.strerror}") from None


def load_settings(
    override_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedSettings:
    """Merge defaults, the override file, KIOSK_* variables and explicit overrides, then validate.

    Args:
        override_file: a TOML file with some of the keys of config/kiosk.toml.
        environ: the environment to read KIOSK_* from (os.environ when None).
        overrides: values from the command line, strongest of all.
    Returns:
        The settings and the origin of each value.
    Raises:
        SettingsError: with one line naming the bad key and what is allowed.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = _read_toml(DEFAULTS_FILE)
    origins = {key: "default" for key in values}
    known = set(Settings.model_fields)
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if override_file is not None:
        layers.append((str(override_file), _read_toml(override_file)))
    env_values = {
        name[len(ENV_PREFIX):].lower(): value
        for name, value in environ.items()
        if name.startswith(ENV_PREFIX) and name[len(ENV_PREFIX):].lower() in known
    }
    layers.append(("environment", env_values))
    if overrides:
        layers.append(("command line", overrides))
    for origin, layer in layers:
        for key, value in layer.items():
            if key not in known:
                raise SettingsError(f"unknown setting '{key}' in {origin}; known settings: {', '.join(sorted(known))}")
            values[key] = value
            origins[key] = f"{ENV_PREFIX}{key.upper()}" if origin == "environment" else origin
    if values.get("card_profiles_dir") == "":
        values["card_profiles_dir"] = CARD_PROFILES_DIR
    # Relative paths are relative to where the kiosk was started, as for any command: an installed
    # kiosk has no project folder to be relative to.
    for key in _PATH_KEYS:
        if key in values and isinstance(values[key], str):
            values[key] = _absolute(values[key])
    region = values.get("region")
    if isinstance(region, str) and region.endswith(".toml"):
        values["region"] = str(_absolute(region))
    try:
        settings = Settings.model_validate(values)
    except ValidationError as exc:
        raise SettingsError(_one_line(exc, values, origins)) from None
    return LoadedSettings(settings, origins)


def _absolute(text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def _one_line(exc: ValidationError, values: Mapping[str, Any], origins: Mapping[str, str]) -> str:
    error = exc.errors()[0]
    key = str(error["loc"][0]) if error["loc"] else "?"
    if error["type"] == "missing":
        return f"setting '{key}' is missing from {DEFAULTS_FILE}"
    got = "(PIN hashes not shown)" if key == "technicians" else values.get(key)
    message = error["msg"]
    if error["type"] == "string_pattern_mismatch" and key == "activation_url_base":
        message = "must be an http:// or https:// address"
    return f"setting '{key}' (from {origins.get(key, 'default')}) is not allowed: {message}; got {got!r}"
