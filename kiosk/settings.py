"""Provides the kiosk's settings: embedded defaults, an override file and KIOSK_* variables, validated."""
from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Mapping

from kiosk.embedded import CARD_PROFILES_DIR, DEFAULTS_FILE, REGIONS_DIR
from kiosk.setting_rules import (Choice, Flag, FolderPath, Integer, Number, Rule, RuleBroken, Table, Text,
                                 read_credentials, read_settings_file)

ENV_PREFIX = "KIOSK_"
CREDENTIAL_KEYS = ("database_url", "technicians")
"""Secret settings a systemd unit may pass as credentials: $CREDENTIALS_DIRECTORY/<key> (LoadCredential=)."""
SECRET_SETTINGS = frozenset({"technicians"})
"""Settings whose values are never shown (the maintenance console's Settings page) nor sent (the heartbeat's fingerprint
leaves them out, with the credentials)."""

IDLE_STEPS = ("insert_card", "holder", "pin", "child_id", "child_confirm", "eligible", "not_eligible", "error")
"""The steps that wait for the guardian, each with an idle timeout."""


class SettingsError(Exception):
    """A setting that cannot be used; the message is one line naming the key and what is allowed."""


def _technicians_valid(value: dict[str, str]) -> dict[str, str]:
    from kiosk.maintenance.passwords import TECHNICIAN_ID_PATTERN, parse_pin_hash

    for technician, stored in value.items():
        if not TECHNICIAN_ID_PATTERN.match(technician):
            raise RuleBroken(f"technician ID {technician!r} must be 1 to 20 letters, digits, '-' or '_'")
        try:
            parse_pin_hash(stored)
        except ValueError as exc:
            raise RuleBroken(f"technician {technician}: {exc}") from None
    return value


def _key_sequence_valid(value: str) -> str:
    from kiosk.maintenance.gesture import parse_key_sequence

    try:
        return " ".join(parse_key_sequence(value))
    except ValueError as exc:
        raise RuleBroken(str(exc)) from None


def _setting(rule: Rule, then: Callable[[Any], Any] | None = None) -> Any:
    """A setting's field: its value must keep `rule`, then pass `then` (which may also normalise it)."""
    return field(metadata={"rule": rule, "then": then})


@dataclass(frozen=True, kw_only=True)
class Settings:
    """Everything the kiosk can be told; see config/kiosk.toml for what each key means."""

    kiosk_id: str = _setting(Text(min_length=1, max_length=40))
    """Which kiosk this is."""
    region: str = _setting(Text(min_length=1))
    """A regional rule file shipped with the kiosk (config/regions/<name>.toml), or the path of one (*.toml)."""
    language: str = _setting(Choice(("zh", "en")))
    """The language every session starts in."""
    data_dir: Path = _setting(FolderPath())
    """Database and logs (a relative path is relative to the working directory)."""
    database_url: str = _setting(Text())
    """Empty for SQLite under data_dir."""
    demo_data: bool = _setting(Flag())
    """Fill an empty database with demo data."""
    registry: str = _setting(Text(min_length=1, pattern=r"^(local|https?://[^\s/?#]+(/[^\s?#]*)?)$",
                                  pattern_says='must be "local" or the http:// or https:// address of the registry service'))
    """"local": the embedded registry (database_url); else the registry service's address."""
    registry_credential_file: str = _setting(Text())
    """The kiosk's credential for the registry service (a file path; needed when registry is an address)."""
    heartbeat_seconds: int = _setting(Integer(ge=5, le=3600))
    """With a registry service: seconds between heartbeats to it (the service's answer may change it)."""
    reader: str = _setting(Choice(("simulated", "pcsc")))
    """Which card reader."""
    reader_name: str = _setting(Text())
    """PC/SC guardian reader name pattern."""
    psam_reader: str = _setting(Text())
    """PC/SC PSAM reader name pattern."""
    reader_protocol: str = _setting(Choice(("any", "T0", "T1")))
    """PC/SC protocol."""
    reader_exclusive: bool = _setting(Flag())
    """PC/SC exclusive access during a session."""
    simulated_psam: str = _setting(Text())
    """Virtual PSAM profile for the simulated reader."""
    simulated_pin_pad: bool = _setting(Flag())
    """The simulated reader has a PIN pad (PC/SC part 10 FEATURE_VERIFY_PIN_DIRECT, simulated)."""
    card_profiles_dir: Path = _setting(FolderPath())
    """Virtual card profiles (empty in the settings: the demo cards shipped with the kiosk)."""
    activation_url_base: str = _setting(Text(pattern=r"^https?://\S+$", pattern_says="must be an http:// or https:// address"))
    """Base address of the activation QR."""
    activation_ttl_seconds: int = _setting(Integer(ge=30, le=3600))
    """Life of one QR code."""
    activation_poll_seconds: float = _setting(Number(ge=0.2, le=30))
    """How often the kiosk looks for the activation."""
    activation_max_renewals: int = _setting(Integer(ge=0, le=20))
    """Fresh QR codes per registration before the session ends."""
    idle_timeout_seconds: int = _setting(Integer(ge=15, le=900))
    """Idle time before a session ends, on steps without their own."""
    step_idle_seconds: dict[str, int] = _setting(Table(Choice(IDLE_STEPS), Integer(ge=15, le=900),
                                                       example='step=seconds pairs, e.g. "pin=90,child_id=120"'))
    """Idle time of particular steps (from IDLE_STEPS)."""
    idle_warning_seconds: int = _setting(Integer(ge=20, le=120))
    """How long before the idle timeout the warning with "more time" shows."""
    keypad_shuffled: bool = _setting(Flag())
    """Digits of the on-screen PIN keypad in a new order for every PIN."""
    voice_prompts: str = _setting(Choice(("auto", "on", "off")))
    """Spoken instructions through espeak-ng."""
    voice_volume: int = _setting(Integer(ge=0, le=200))
    """espeak-ng amplitude."""
    farewell_seconds: int = _setting(Integer(ge=3, le=300))
    """How long the closing screens wait."""
    work_deadline_seconds: int = _setting(Integer(ge=5, le=120))
    """How long a step waits for the card or the registry before it gives up with an error."""
    log_level: str = _setting(Choice(("DEBUG", "INFO", "WARNING", "ERROR")))
    """Log level of the log file."""
    tester_panel: bool = _setting(Flag())
    """Tester panel in simulated mode."""
    technicians: dict[str, str] = _setting(Table(Text(), Text(), example='ID=hash pairs, e.g. "T0001=scrypt$16384$8$1$<salt>$<hash>"'),
                                           then=_technicians_valid)
    """Maintenance technicians: ID -> salted slow hash of the PIN (kiosk.maintenance.passwords)."""
    maintenance_key_sequence: str = _setting(Text(), then=_key_sequence_valid)
    """The keys that open the technician login, space-separated Textual key names."""
    maintenance_idle_seconds: int = _setting(Integer(ge=30, le=3600))
    """Maintenance without input for this long returns to the guardian screens."""
    ticket_purge_hours: int = _setting(Integer(ge=0, le=168))
    """How often expired activation codes are deleted (0: only from the maintenance console)."""

    @classmethod
    def keys(cls) -> tuple[str, ...]:
        """Every setting's name, in the order of config/kiosk.toml."""
        return tuple(item.name for item in dataclasses.fields(cls))

    @classmethod
    def from_values(cls, values: Mapping[str, Any]) -> Settings:
        """Settings from raw values (TOML, text from the environment), each checked by its rule, in order.

        Raises:
            InvalidSetting: for the first missing, unknown or disallowed value.
        """
        checked: dict[str, Any] = {}
        for item in dataclasses.fields(cls):
            if item.name not in values:
                raise InvalidSetting(item.name, None)
            try:
                value = item.metadata["rule"].check(values[item.name])
                then = item.metadata["then"]
                checked[item.name] = value if then is None else then(value)
            except RuleBroken as exc:
                raise InvalidSetting(item.name, str(exc)) from None
        unknown = sorted(set(values) - set(checked))
        if unknown:
            raise InvalidSetting(unknown[0], "not a setting")
        if checked["registry"] != "local" and not checked["registry_credential_file"]:
            raise InvalidSetting("registry_credential_file", "needed with a registry service (the file holding this "
                                 "kiosk's credential)")
        return cls(**checked)

    @property
    def registry_is_local(self) -> bool:
        """True for the embedded registry; False when the kiosk is a client of the registry service."""
        return self.registry == "local"

    def as_dict(self) -> dict[str, Any]:
        """Every setting and its value (tables copied)."""
        return {key: dict(value) if isinstance(value, dict) else value for key, value in vars(self).items()}

    def replaced(self, **changes: Any) -> Settings:
        """The same settings with `changes` (values already of the setting's type)."""
        return dataclasses.replace(self, **changes)

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


class InvalidSetting(Exception):
    """A value the setting `key` does not allow (`problem` None: the setting is missing)."""

    def __init__(self, key: str, problem: str | None) -> None:
        super().__init__(f"{key}: {problem or 'missing'}")
        self.key = key
        self.problem = problem


class LoadedSettings:
    """The validated settings and where each value came from ("default", a file path, or KIOSK_X)."""

    def __init__(self, settings: Settings, origins: dict[str, str]) -> None:
        self.settings = settings
        self.origins = origins


_PATH_KEYS = ("data_dir", "card_profiles_dir")


def load_settings(
    override_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, Any] | None = None,
) -> LoadedSettings:
    """Merge defaults, the override file, credentials, KIOSK_* variables and explicit overrides, then validate.

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
    values: dict[str, Any] = read_settings_file(DEFAULTS_FILE, SettingsError)
    origins = {key: "default" for key in values}
    known = set(Settings.keys())
    layers: list[tuple[str, Mapping[str, Any]]] = []
    if override_file is not None:
        layers.append((str(override_file), read_settings_file(override_file, SettingsError)))
    env_values = {
        name[len(ENV_PREFIX):].lower(): value
        for name, value in environ.items()
        if name.startswith(ENV_PREFIX) and name[len(ENV_PREFIX):].lower() in known
    }
    credentials = read_credentials(environ, CREDENTIAL_KEYS, SettingsError)
    if credentials:
        layers.append(("credentials", credentials))
    layers.append(("environment", env_values))
    if overrides:
        layers.append(("command line", overrides))
    for origin, layer in layers:
        for key, value in layer.items():
            if key not in known:
                raise SettingsError(f"unknown setting '{key}' in {origin}; known settings: {', '.join(sorted(known))}")
            values[key] = value
            origins[key] = {"environment": f"{ENV_PREFIX}{key.upper()}",
                            "credentials": f"credential {key}"}.get(origin, origin)
    if values.get("card_profiles_dir") == "":
        values["card_profiles_dir"] = CARD_PROFILES_DIR
    # Relative paths are relative to where the kiosk was started, as for any command: an installed
    # kiosk has no project folder to be relative to.
    for key in _PATH_KEYS:
        if key in values and isinstance(values[key], str):
            values[key] = _absolute(values[key])
    credential_file = values.get("registry_credential_file")
    if isinstance(credential_file, str) and credential_file:
        values["registry_credential_file"] = str(_absolute(credential_file))
    region = values.get("region")
    if isinstance(region, str) and region.endswith(".toml"):
        values["region"] = str(_absolute(region))
    try:
        settings = Settings.from_values(values)
    except InvalidSetting as exc:
        raise SettingsError(_one_line(exc, values, origins)) from None
    return LoadedSettings(settings, origins)


def _absolute(text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def _one_line(exc: InvalidSetting, values: Mapping[str, Any], origins: Mapping[str, str]) -> str:
    key = exc.key
    if exc.problem is None:
        return f"setting '{key}' is missing from {DEFAULTS_FILE}"
    got: object = values.get(key)
    if key == "technicians":
        got = "(PIN hashes not shown)"
    elif origins.get(key, "").startswith("credential "):
        got = "(a credential: not shown)"
    return f"setting '{key}' (from {origins.get(key, 'default')}) is not allowed: {exc.problem}; got {got!r}"
