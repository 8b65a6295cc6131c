"""Tests reading the kiosk's credential file: the credential, or a technician-readable reason why not."""
from __future__ import annotations

from pathlib import Path

import pytest

from kiosk.errors import KioskError
from kiosk.registry.service_client import read_credential

CREDENTIAL = "p2vUcaATUE1OHOwOgKdIABavXtFyZs02ZeBtxOsCqhg"


def test_the_credential_is_read_with_the_whitespace_around_it_ignored(tmp_path: Path) -> None:
    file = tmp_path / "kiosk.credential"
    file.write_text(f"  {CREDENTIAL}\n\n")
    assert read_credential(file) == CREDENTIAL


@pytest.mark.parametrize(("content", "says"), [
    (None, "does not exist"), (b"", "holds no credential"), (b"short\n", "holds no credential"),
    (f"{CREDENTIAL} {CREDENTIAL}".encode(), "holds no credential"), ("凭证".encode() * 20, "not ASCII text"),
])
def test_a_missing_empty_or_garbled_file_is_refused_with_the_reason(tmp_path: Path, content: bytes | None, says: str) -> None:
    file = tmp_path / "kiosk.credential"
    if content is not None:
        file.write_bytes(content)
    with pytest.raises(KioskError) as refused:
        read_credential(file)
    assert refused.value.code == "SERVICE_CREDENTIAL_REFUSED" and says in refused.value.detail and str(file) in refused.value.detail
    assert CREDENTIAL not in refused.value.detail
