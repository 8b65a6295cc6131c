"""Tests the service's skeleton: a kiosk credential is the kiosk's identity; without one the answer is 401."""
from __future__ import annotations

import pytest



def test_a_kiosk_with_its_credential_gets_an_answer_and_one_without_gets_401(running_service) -> None:
    credential = running_service.kiosk("K-1")
    with running_service.client(credential) as client:
        answer = client.post("/v1/kiosk/card-status", json={"card_number": "nobody"})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"status": "unknown"}
    with running_service.client("not-a-credential") as client:
        refused = client.post("/v1/kiosk/card-status", json={"card_number": "nobody"})
    assert refused.status_code == 401
    assert refused.json()["reason"] == "unknown"
