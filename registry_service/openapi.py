"""Provides `python -m registry_service.openapi`: writes the service's OpenAPI document to registry_service/openapi.json."""
from __future__ import annotations

import json
import sys
from importlib.resources import files
from pathlib import Path

from registry_service.app import openapi_document

DOCUMENT = Path(str(files("registry_service") / "openapi.json"))


def rendered() -> str:
    """The document as the checked-in file holds it (sorted keys, two-space indent, a final newline)."""
    return json.dumps(openapi_document(), indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> int:
    DOCUMENT.write_text(rendered(), encoding="utf-8")
    print(f"wrote {DOCUMENT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
