"""Provides the kiosk routes' HTTP fuzzer: seeded requests, valid ones bent out of shape, sent to a real service.

Every case is a request a broken or hostile kiosk could send: a valid body with a field dropped,
added, retyped, lengthened or filled with odd Unicode; JSON of any shape; bytes that are not JSON;
IDs out of range; odd Idempotency-Keys and Authorization headers. The oracle: never a 5xx, and every
error answer a problem document with a code.
"""
from __future__ import annotations

import json
import random
from collections import Counter
from dataclasses import dataclass, field

import httpx

VALID_CARD = {"card_number": "L43000001", "spec_version": "2.00", "expiry_date": "2033-03-01",
              "holder_resident_id": "430102198803150016", "pin_verified": True}
CHILD = "430102201906010029"
ODD_TEXT = ["", " ", "\u0000", "\ud800", "\udfff", "\u202e", "张" * 300, "x" * 5000, "' OR 1=1 --", "%s%n",
            "430102201906010029" * 3, "\t\n", "\uffff", "𝕏" * 50, "null", "-1", "１２３"]
ODD_VALUES = [None, True, False, 0, -1, 2**31, 2**63, -2**63, 1e308, 1.5, [], {}, [1, 2], {"a": {"b": {}}}, "x"]
ODD_IDS = ["0", "-1", "2147483648", "99999999999999999999", "abc", "1.5", "%00", "1e3", " 1", "１"]


@dataclass
class FuzzFigures:
    cases: int = 0
    statuses: Counter = field(default_factory=Counter)
    routes: Counter = field(default_factory=Counter)
    broken: list[str] = field(default_factory=list)

    def summary(self) -> str:
        statuses = ", ".join(f"{status}: {count}" for status, count in sorted(self.statuses.items()))
        return f"http fuzz: {self.cases} requests over {len(self.routes)} routes; statuses {statuses}; broken {len(self.broken)}"


def _odd(rng: random.Random, depth: int = 0) -> object:
    roll = rng.random()
    if roll < 0.4 or depth > 3:
        return rng.choice(ODD_TEXT + ODD_VALUES)
    if roll < 0.7:
        return [_odd(rng, depth + 1) for _ in range(rng.randint(0, 4))]
    return {rng.choice(["card", "child_rid", "kind", "x", "", "kiosk_id"]): _odd(rng, depth + 1) for _ in range(rng.randint(0, 4))}


def _bent(rng: random.Random, body: dict) -> object:
    body = json.loads(json.dumps(body))
    target = body
    if "card" in body and rng.random() < 0.5:
        target = body["card"]
    how = rng.randrange(6)
    key = rng.choice(list(target)) if target else "x"
    if how == 0:
        target.pop(key, None)
    elif how == 1:
        target[rng.choice(["kiosk_id", "extra", key + "_"])] = _odd(rng)
    elif how in (2, 3):
        target[key] = rng.choice(ODD_TEXT + ODD_VALUES)
    elif how == 4:
        target[key] = _odd(rng)
    else:
        return _odd(rng)
    return body


def _routes(ecard_id: int, ticket_id: int) -> list[tuple[str, str, dict | None]]:
    card = {"card": VALID_CARD}
    return [
        ("POST", "/v1/kiosk/card-status", {"card_number": "L43000001"}),
        ("POST", "/v1/kiosk/child-facts", {"guardian_rid": VALID_CARD["holder_resident_id"], "child_rid": CHILD}),
        ("POST", "/v1/kiosk/pending-registrations", {"guardian_rid": VALID_CARD["holder_resident_id"]}),
        ("POST", "/v1/kiosk/registrations", {"card": VALID_CARD, "child_rid": CHILD}),
        ("POST", f"/v1/kiosk/ecards/{ecard_id}/tickets", card),
        ("GET", f"/v1/kiosk/tickets/{ticket_id}", None),
        ("POST", f"/v1/kiosk/tickets/{ticket_id}/withdraw", None),
        ("POST", f"/v1/kiosk/ecards/{ecard_id}/cancel", card),
        ("POST", "/v1/kiosk/audit", {"kind": "visit_ended", "detail": "fuzz"}),
        ("GET", "/v1/kiosk/health", None),
    ]


def run(client: httpx.Client, cases: int, seed: int, ecard_id: int, ticket_id: int) -> FuzzFigures:
    """Send `cases` requests (client carries a valid credential); count the answers, list the broken ones."""
    rng = random.Random(seed)
    routes = _routes(ecard_id, ticket_id)
    figures = FuzzFigures()
    for _ in range(cases):
        method, path, body = rng.choice(routes)
        headers: dict[str, str | bytes] = {"content-type": "application/json"}
        if path.endswith("/registrations"):
            headers["Idempotency-Key"] = rng.choice(["fuzz-key-0001", "fuzz-key-%d" % rng.randrange(50), "k",
                                                     "x" * 300, "ключ-ключ-ключ".encode("utf-8"), "fuzz key with spaces"])
        roll = rng.random()
        if roll < 0.1:
            path = path.replace(str(ecard_id), rng.choice(ODD_IDS)).replace(str(ticket_id), rng.choice(ODD_IDS))
        if roll < 0.05:
            headers["Authorization"] = rng.choice(["", "Bearer", "Bearer \u00ff".encode("latin-1"), "Basic x", "Bearer " + "a" * 500])
        content: bytes | None = None
        if body is not None or rng.random() < 0.2:
            shape = rng.random()
            if shape < 0.1:
                content = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
            elif shape < 0.15:
                content = b'{"card": ' * 200
            else:
                sent = _bent(rng, body or {}) if rng.random() < 0.85 else (body or {})
                content = json.dumps(sent).encode("ascii")
        if rng.random() < 0.03:
            headers["content-type"] = rng.choice(["text/plain", "application/x-www-form-urlencoded", ""])
        answer = client.request(method, path, content=content, headers=headers)
        figures.cases += 1
        figures.statuses[answer.status_code] += 1
        figures.routes[f"{method} {path.split('/')[3]}"] += 1
        problem_ok = answer.is_success or (answer.headers.get("content-type", "").startswith("application/problem+json")
                                           and "code" in answer.json())
        if answer.status_code >= 500 or not problem_ok:
            figures.broken.append(f"{method} {path} {content[:80] if content else None!r} -> {answer.status_code} "
                                  f"{answer.text[:200]}")
    return figures
