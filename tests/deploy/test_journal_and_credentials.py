"""The kiosk under systemd: its log in the journal masked as the file is, its secrets from $CREDENTIALS_DIRECTORY."""
from __future__ import annotations

import logging
import socket
import struct

import pytest

from kiosk.logbook import configure_logging, journal_datagram, journal_socket
from kiosk.settings import SettingsError, load_settings

RESIDENT_ID = "430102201906010029"


def _fields(datagram: bytes) -> dict[str, str]:
    """journald's native format read back: KEY=value lines, or KEY, a 64-bit length and the value."""
    fields, rest = {}, datagram
    while rest:
        head, newline, tail = rest.partition(b"\n")
        if b"=" in head:
            key, _, value = head.partition(b"=")
            fields[key.decode()] = value.decode()
            rest = tail
        else:
            (length,) = struct.unpack("<Q", tail[:8])
            fields[head.decode()] = tail[8:8 + length].decode()
            rest = tail[8 + length + 1:]
    return fields


@pytest.fixture
def journal(tmp_path):
    receiver = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    receiver.bind(str(tmp_path / "journal.sock"))
    receiver.settimeout(5)
    yield receiver
    receiver.close()
    root = logging.getLogger()
    for handler in list(root.handlers):  # the file and journal handlers configure_logging put there
        root.removeHandler(handler)
        handler.close()


def test_a_log_line_reaches_the_journal_and_the_file_masked_the_same_way(tmp_path, journal):
    log_file = configure_logging(tmp_path / "data", "INFO", journal=tmp_path / "journal.sock")
    logging.getLogger("kiosk.session").warning("registration for %s failed\nsecond line", RESIDENT_ID)
    fields = _fields(journal.recv(65536))
    for handler in logging.getLogger().handlers:
        handler.flush()
    written = log_file.read_text(encoding="utf-8")
    assert RESIDENT_ID not in fields["MESSAGE"] and RESIDENT_ID not in written
    masked_message = fields["MESSAGE"].removeprefix("kiosk.session: ")
    assert masked_message in written and "second line" in masked_message
    assert fields["PRIORITY"] == "4" and fields["SYSLOG_IDENTIFIER"] == "ecard-kiosk" and fields["LOGGER"] == "kiosk.session"


def test_the_registry_client_s_requests_are_not_logged_but_its_warnings_are(tmp_path, journal):
    log_file = configure_logging(tmp_path / "data", "INFO", journal=tmp_path / "journal.sock")
    logging.getLogger("httpx").info('HTTP Request: GET http://127.0.0.1:8080/v1/kiosk/health "HTTP/1.1 200 OK"')
    logging.getLogger("httpx").warning("the registry's certificate expires soon")
    fields = _fields(journal.recv(65536))  # the first datagram is the warning: the request line never went
    assert fields["MESSAGE"] == "httpx: the registry's certificate expires soon"
    for handler in logging.getLogger().handlers:
        handler.flush()
    written = log_file.read_text(encoding="utf-8")
    assert "certificate expires soon" in written and "HTTP Request" not in written


def test_a_message_without_newline_goes_as_a_key_value_line():
    assert journal_datagram({"MESSAGE": "hello", "PRIORITY": "6"}) == b"MESSAGE=hello\nPRIORITY=6\n"


def test_the_journal_is_used_only_when_systemd_started_the_kiosk(tmp_path, journal):
    sock = tmp_path / "journal.sock"
    assert journal_socket({"INVOCATION_ID": "0123abcd"}, sock) == sock
    assert journal_socket({}, sock) is None
    assert journal_socket({"INVOCATION_ID": "0123abcd"}, tmp_path / "absent.sock") is None


def test_the_database_url_and_technicians_come_from_the_credentials_directory(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "database_url").write_text("postgresql+psycopg://kiosk:s3cret@db.example/registry\n")
    (credentials / "technicians").write_text(
        "T0009=scrypt$16384$8$1$e40f6082f1b98c9fc501dce7b6b0bf3f$"
        "281ca633103ad4900ec42679af41c443e1a9d546e4fc804d994f6db38222a1c4\n")
    loaded = load_settings(environ={"CREDENTIALS_DIRECTORY": str(credentials)})
    assert loaded.settings.database_url == "postgresql+psycopg://kiosk:s3cret@db.example/registry"
    assert list(loaded.settings.technicians) == ["T0009"]
    assert loaded.origins["database_url"] == "credential database_url"
    # A KIOSK_* variable still wins (a technician's one-off run), as over the site file.
    stronger = load_settings(environ={"CREDENTIALS_DIRECTORY": str(credentials), "KIOSK_DATABASE_URL": ""})
    assert stronger.settings.database_url == ""


def test_an_empty_credential_leaves_the_site_file_s_value(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "database_url").write_text("")
    (credentials / "technicians").write_text("\n")
    site = tmp_path / "kiosk.toml"
    site.write_text('database_url = "sqlite:////var/lib/ecard-kiosk/site.sqlite3"\n')
    loaded = load_settings(site, environ={"CREDENTIALS_DIRECTORY": str(credentials)})
    assert loaded.settings.database_url == "sqlite:////var/lib/ecard-kiosk/site.sqlite3"
    assert loaded.origins["database_url"] == str(site)
    assert loaded.origins["technicians"] == "default"


def test_a_bad_credential_is_named_but_not_shown(tmp_path):
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "technicians").write_text("T0001=not-a-hash-but-a-secret")
    with pytest.raises(SettingsError) as raised:
        load_settings(environ={"CREDENTIALS_DIRECTORY": str(credentials)})
    assert "credential technicians" in str(raised.value) and "not-a-hash-but-a-secret" not in str(raised.value)
