"""Settings: defaults, override file, KIOSK_* variables, and one clear line for a bad value."""
from __future__ import annotations

from pathlib import Path

import pytest

from kiosk import CONFIG_DIR
from kiosk.settings import Settings, SettingsError, load_settings


def test_every_setting_has_a_commented_default():
    text = (CONFIG_DIR / "kiosk.toml").read_text(encoding="utf-8")
    lines = text.splitlines()
    for key in Settings.keys():
        index = next(i for i, line in enumerate(lines) if line.startswith(f"{key} ="))
        assert lines[index - 1].startswith("#"), f"{key} has no comment above it"


def test_defaults_run_the_simulated_kiosk_on_sqlite_in_the_working_directory(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    loaded = load_settings(environ={})
    settings = loaded.settings
    assert settings.reader == "simulated" and settings.language == "zh"
    assert settings.data_dir == tmp_path / ".kiosk-data"
    assert settings.card_profiles_dir == CONFIG_DIR / "cards"  # empty: the demo cards shipped with the kiosk
    assert settings.resolved_database_url.startswith("sqlite:///")
    assert set(loaded.origins.values()) == {"default"}


def test_environment_beats_file_beats_defaults_and_origins_say_so(tmp_path: Path):
    override = tmp_path / "site.toml"
    override.write_text('language = "en"\nidle_timeout_seconds = 60\n', encoding="utf-8")
    loaded = load_settings(override, environ={"KIOSK_IDLE_TIMEOUT_SECONDS": "120", "KIOSK_DATA_DIR": "/var/kiosk"})
    assert loaded.settings.language == "en" and loaded.origins["language"] == str(override)
    assert loaded.settings.idle_timeout_seconds == 120
    assert loaded.origins["idle_timeout_seconds"] == "KIOSK_IDLE_TIMEOUT_SECONDS"
    assert loaded.settings.data_dir == Path("/var/kiosk")


def test_region_names_a_rule_file_under_config_regions():
    settings = load_settings(environ={"KIOSK_REGION": "changsha"}).settings
    assert settings.region_file == CONFIG_DIR / "regions" / "changsha.toml"


def test_relative_paths_are_relative_to_the_working_directory(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    settings = load_settings(environ={"KIOSK_REGION": "site/rules.toml", "KIOSK_CARD_PROFILES_DIR": "cards",
                                      "KIOSK_DATA_DIR": "~/kiosk-data"}).settings
    assert settings.region_file == tmp_path / "site" / "rules.toml"
    assert settings.card_profiles_dir == tmp_path / "cards"
    assert settings.data_dir == Path.home() / "kiosk-data"


@pytest.mark.parametrize(
    ("environ", "names"),
    [
        ({"KIOSK_READER": "usb"}, ["'reader'", "KIOSK_READER", "'simulated' or 'pcsc'"]),
        ({"KIOSK_IDLE_TIMEOUT_SECONDS": "5"}, ["'idle_timeout_seconds'", "greater than or equal to 15"]),
        ({"KIOSK_IDLE_TIMEOUT_SECONDS": "soon"}, ["'idle_timeout_seconds'", "integer"]),
        ({"KIOSK_ACTIVATION_URL_BASE": "ftp://x"}, ["'activation_url_base'", "http:// or https://"]),
        ({"KIOSK_LANGUAGE": "fr"}, ["'language'", "'zh' or 'en'"]),
        ({"KIOSK_REGISTRY": "registry.example:8080"}, ["'registry'", "KIOSK_REGISTRY", '"local" or the http://']),
        ({"KIOSK_REGISTRY": "https://registry.example/v1?x=1"}, ["'registry'", "address of the registry service"]),
        ({"KIOSK_REGISTRY": "https://registry.example"}, ["'registry_credential_file'", "needed with a registry service"]),
    ],
)
def test_bad_setting_is_one_line_naming_the_key_and_what_is_allowed(environ, names):
    with pytest.raises(SettingsError) as caught:
        load_settings(environ=environ)
    message = str(caught.value)
    assert "\n" not in message
    for name in names:
        assert name in message


def test_the_registry_is_local_by_default_or_the_service_with_a_credential_file(tmp_path: Path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert load_settings(environ={}).settings.registry_is_local
    settings = load_settings(environ={"KIOSK_REGISTRY": "https://registry.example.gov.cn",
                                      "KIOSK_REGISTRY_CREDENTIAL_FILE": "secrets/kiosk.credential"}).settings
    assert not settings.registry_is_local and settings.registry == "https://registry.example.gov.cn"
    assert settings.registry_credential_file == str(tmp_path / "secrets" / "kiosk.credential")


def test_unknown_key_in_a_file_is_named(tmp_path: Path):
    override = tmp_path / "site.toml"
    override.write_text('langauge = "en"\n', encoding="utf-8")
    with pytest.raises(SettingsError, match="unknown setting 'langauge'"):
        load_settings(override, environ={})


def test_broken_or_missing_settings_file_is_one_line(tmp_path: Path):
    broken = tmp_path / "broken.toml"
    broken.write_text("language = \n", encoding="utf-8")
    with pytest.raises(SettingsError, match="not valid TOML"):
        load_settings(broken, environ={})
    with pytest.raises(SettingsError, match="does not exist"):
        load_settings(tmp_path / "missing.toml", environ={})
