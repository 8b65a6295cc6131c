"""The tests drive the session through its events and an effect runner: none reaches into its private members."""
from __future__ import annotations

import re
from pathlib import Path

TESTS = Path(__file__).resolve().parents[1]
# `session._x` (the session, or a journey's or a guardian's session) read or written, a private member patched,
# or the app's old step-work hook.
PRIVATE = re.compile(r"session\._[a-z]\w*|_start_step_work|setattr\([^)]*session[^)]*,\s*[\"']_")
ALLOWED = {"tests/memory_scan.py"}  # the memory scan walks the session's whole state, as a heap search would


def test_no_test_touches_a_private_member_of_the_session() -> None:
    found = []
    for path in sorted(TESTS.rglob("*.py")):
        name = path.relative_to(TESTS.parent).as_posix()
        if name in ALLOWED or path == Path(__file__).resolve():
            continue
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
            if PRIVATE.search(line):
                found.append(f"{name}:{number}: {line.strip()}")
    assert found == []
