"""Tests that the checked-in OpenAPI document is the service's current one."""
from __future__ import annotations

import json

from registry_service.openapi import DOCUMENT, rendered


def test_the_checked_in_openapi_document_is_the_apps_current_one() -> None:
    current = rendered()
    assert json.loads(DOCUMENT.read_text(encoding="utf-8")) == json.loads(current), (
        "registry_service/openapi.json is out of date: run `.venv/bin/python -m registry_service.openapi`")
    paths = json.loads(current)["paths"]
    assert all(path.startswith("/v1/") for path in paths)
    assert "/v1/kiosk/registrations" in paths
