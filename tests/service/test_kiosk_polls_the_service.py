"""The service kiosk learns the activation by the service's RFC 8628 poll: `interval` kept, slow_down adds 5 s for
good, expired_token and access_denied end the look at that ticket (a fresh QR); the UI never waits for a look.
(The activation seen by the kiosk's own poll: test_service_kiosk_panel_and_console.py, the tester panel's scan.)"""
from __future__ import annotations

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Iterator

import httpx
import pytest

from kiosk.registry.service_client import SLOW_DOWN_STEP_SECONDS, ServiceRegistry, ServiceTimeouts
from kiosk.session import Step
from registry_service import metrics
from tests.functional.harness import Journey
from tests.functional.screen_image import screen_text
from tests.service.conftest import SERVICE_KIOSK_ID as KIOSK_ID
from tests.unit.core.test_registry_port import LI_NA, ZHANG_CARD, ZHANG_XIAOYU

QUICK = ServiceTimeouts(connect_seconds=2, read_seconds=10, total_seconds=10, retries=1, backoff_seconds=0.05)
on_sqlite = pytest.mark.parametrize("running_service", [
    pytest.param("sqlite", marks=pytest.mark.xdist_group("service-sqlite"))], indirect=True)


def phone_activates(running_service, presented: str, user_rid: str) -> httpx.Response:
    with running_service.client() as phone:
        return phone.post("/v1/phone/activations", json={"presented": presented, "phone_user_rid": user_rid})


POLL_ROUTE = "/v1/kiosk/tickets/{ticket_id}/poll"


def poll_requests() -> float:
    """The poll route's requests so far, as the in-process service's /metrics counts them (the plain ticket read is
    another route; a poll that finds its ticket no longer pending writes nothing in the registry to count by)."""
    return metrics.PROCESS.get_sample_value(
        f"{metrics.PREFIX}_request_seconds_count", {"method": "GET", "route": POLL_ROUTE}) or 0.0


async def let_the_interval_pass(journey: Journey, running_service, seconds: float) -> None:
    """Both clocks on by `seconds`: the kiosk's next look comes due, and the service finds it patient."""
    journey.kiosk.session.clock.advance(seconds)
    running_service.clock.advance(seconds)


@on_sqlite
async def test_a_code_locked_by_strangers_brings_a_fresh_qr_and_an_expired_one_past_the_renewals_ends_the_visit(
    service_kiosk, running_service
) -> None:
    interval = running_service.settings.activation_poll_seconds
    polls = poll_requests()
    async with service_kiosk(activation_max_renewals=1) as journey:
        await journey.to_child_id("zhang-wei-3.00")
        screen = await journey.register(ZHANG_XIAOYU)
        first = screen.view.ticket
        for _ in range(3):  # a photo of the screen in another guardian's app, three times: locked
            assert phone_activates(running_service, first.url, LI_NA).json()["outcome"] == "access_denied"
        await let_the_interval_pass(journey, running_service, interval)  # access_denied: this code's poll ends
        await journey.until(lambda: journey.session.view.ticket is not None
                            and journey.session.view.ticket.user_code != first.user_code)
        fresh = await journey.reach(Step.ACTIVATION)
        assert fresh.view.ticket.user_code in screen_text(journey.app)

        running_service.clock.advance(running_service.settings.activation_ttl_seconds + 1)
        journey.kiosk.session.clock.advance(interval)  # expired_token, and no renewal left
        screen = await journey.reach(Step.TAKE_CARD)
        assert screen.view.notice == "SESSION_TIMEOUT"
        assert "长时间没有操作" in screen_text(journey.app)
    assert poll_requests() - polls == 2  # one look at each code, none after its end


# ---------------------------------------------------------------------------------------------- the client
@pytest.fixture
def kiosk(running_service) -> Iterator[ServiceRegistry]:
    registry = ServiceRegistry(running_service.base_url, running_service.kiosk(KIOSK_ID), QUICK)
    yield registry
    registry.close()


@on_sqlite
def test_a_hurried_poll_gets_slow_down_and_the_client_keeps_the_longer_interval(running_service, kiosk) -> None:
    ticket = kiosk.register(ZHANG_CARD, ZHANG_XIAOYU, "kiosk-poll-0001").ticket
    assert ticket is not None
    interval = running_service.settings.activation_poll_seconds
    assert kiosk.ticket_state(ticket.ticket_id).poll_interval_seconds == interval
    hurried = kiosk.ticket_state(ticket.ticket_id)  # at once: the service's clock has not moved
    assert (hurried.state, hurried.poll_interval_seconds) == ("pending", interval + SLOW_DOWN_STEP_SECONDS)
    running_service.clock.advance(interval + SLOW_DOWN_STEP_SECONDS)
    patient = kiosk.ticket_state(ticket.ticket_id)
    assert (patient.state, patient.poll_interval_seconds) == ("pending", interval + SLOW_DOWN_STEP_SECONDS)
    running_service.clock.advance(running_service.settings.activation_ttl_seconds)
    assert kiosk.ticket_state(ticket.ticket_id).state == "expired"  # expired_token


class SlowDownServer:
    """A real tiny HTTP server that answers every poll slow_down without raising its interval (a careless service)."""

    def __init__(self) -> None:
        served = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802 - http.server's name
                served.polls.append(self.path)
                ticket_id = int(self.path.split("/")[4])
                body = json.dumps({"ticket_id": ticket_id, "state": "pending", "error": "slow_down",
                                   "interval_seconds": 1.0, "expires_at": "2026-12-02T10:05:00+00:00"}).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args: object) -> None:
                pass

        self.polls: list[str] = []
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.base_url = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


def test_each_slow_down_adds_five_seconds_for_good_even_from_a_server_that_does_not() -> None:
    server = SlowDownServer()
    client = ServiceRegistry(server.base_url, "k" * 40, QUICK)
    try:
        intervals = [client.ticket_state(7).poll_interval_seconds for _ in range(3)]
        other = client.ticket_state(8).poll_interval_seconds
    finally:
        client.close()
        server.close()
    assert intervals == [5.0, 10.0, 15.0]  # 1 s answered each time: the client's own 5 s steps win
    assert other == 5.0  # per ticket
    assert server.polls == ["/v1/kiosk/tickets/7/poll"] * 3 + ["/v1/kiosk/tickets/8/poll"]
