"""Provides the heartbeat route's HTTP fuzzer: seeded heartbeat bodies bent out of shape, sent to a real service.

The oracle is the kiosk routes' (tests/service/http_fuzzer.py): never a 5xx, every error answer a
problem document with a code. Bodies are bent at any depth (today, its refusals, last_errors).
"""
from __future__ import annotations

import json
import random

import httpx

from tests.service.http_fuzzer import ODD_TEXT, ODD_VALUES, FuzzFigures, _odd

PATH = "/v1/kiosk/heartbeat"


def valid_beat(**changes: object) -> dict:
    """A heartbeat as HEARTBEAT.md shows it, with `changes` applied."""
    beat = {
        "version": "0.1.0", "settings_fingerprint": "3f2a9c" * 4, "uptime_seconds": 1234, "state": "idle",
        "out_of_service_reasons": [], "reader": "ok", "psam": "not_needed",
        "today": {"date": "2026-06-01", "visits": 3, "registrations": 2, "activations": 1,
                  "refusals": {"CHILD_TOO_OLD": 1}},
        "last_errors": [{"code": "CARD_COMMUNICATION", "at": "2026-06-01T01:50:00Z"}],
        "technicians_etag": None,
    }
    beat.update(changes)
    return beat


def _containers(value: object, found: list) -> list:
    if isinstance(value, dict):
        found.append(value)
        for item in value.values():
            _containers(item, found)
    elif isinstance(value, list):
        found.append(value)
        for item in value:
            _containers(item, found)
    return found


def bent(rng: random.Random, beat: dict) -> object:
    """A copy of `beat` with one thing changed somewhere inside: dropped, added, retyped, lengthened, odd."""
    beat = json.loads(json.dumps(beat))
    target = rng.choice(_containers(beat, []))
    odd = rng.choice(ODD_TEXT + ODD_VALUES) if rng.random() < 0.6 else _odd(rng)
    if isinstance(target, list):
        roll = rng.random()
        if roll < 0.3 and target:
            target.pop(rng.randrange(len(target)))
        elif roll < 0.6:
            target.extend([odd] * rng.choice([1, 11, 60]))
        else:
            target.append(rng.choice(["reader", "operator", "reader", {"code": "X", "at": "2026-06-01T00:00:00"}]))
        return beat
    how = rng.randrange(5)
    key = rng.choice(list(target)) if target else "x"
    if how == 0:
        target.pop(key, None)
    elif how == 1:
        target[rng.choice(["kiosk_id", "name", "card_number", "A" * 41, "430102201906010029", key + "_"])] = odd
    elif how in (2, 3):
        target[key] = odd
    else:
        return odd
    return beat


def run(client: httpx.Client, cases: int, seed: int) -> FuzzFigures:
    """Send `cases` heartbeats (client carries a valid credential); count the answers, list the broken ones."""
    rng = random.Random(seed)
    figures = FuzzFigures()
    for _ in range(cases):
        headers: dict[str, str | bytes] = {"content-type": "application/json"}
        roll = rng.random()
        if roll < 0.05:
            content = bytes(rng.randrange(256) for _ in range(rng.randint(0, 40)))
        elif roll < 0.08:
            content = b'{"today": ' * 300
        else:
            content = json.dumps(bent(rng, valid_beat()) if roll < 0.9 else valid_beat()).encode("ascii")
        if rng.random() < 0.03:
            headers["Authorization"] = rng.choice(["", "Bearer", "Basic x", "Bearer " + "a" * 500])
        answer = client.post(PATH, content=content, headers=headers)
        figures.cases += 1
        figures.statuses[answer.status_code] += 1
        figures.routes["POST heartbeat"] += 1
        problem_ok = answer.is_success or (answer.headers.get("content-type", "").startswith("application/problem+json")
                                           and "code" in answer.json())
        if answer.status_code >= 500 or not problem_ok:
            figures.broken.append(f"{content[:120]!r} -> {answer.status_code} {answer.text[:200]}")
    return figures
