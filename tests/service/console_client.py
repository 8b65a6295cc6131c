"""Provides a console operator over plain HTTP (httpx) for the console's tests: sign in, read a page's CSRF token, post forms."""
from __future__ import annotations

import re

import httpx

CSRF = re.compile(r'name="csrf" value="([^"]+)"')
OUTCOME = re.compile(r'data-outcome="([^"]+)"')


def csrf_of(page: httpx.Response) -> str:
    found = CSRF.search(page.text)
    assert found, page.text[:500]
    return found.group(1)


def outcome_of(page: httpx.Response) -> str | None:
    found = OUTCOME.search(page.text)
    return found.group(1) if found else None


def sign_in(client: httpx.Client, operator_id: str, password: str) -> httpx.Response:
    """GET the sign-in form (its token and cookie), POST it; the answer as it comes (303 to /console when signed in)."""
    form = client.get("/console/sign-in")
    return client.post("/console/sign-in", data={"csrf": csrf_of(form), "operator_id": operator_id, "password": password})
