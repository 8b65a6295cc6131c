"""A service kiosk's tester panel and maintenance console (Pilot) against the real registry service: the panel's phone
scan goes through the phone route as the card holder and the kiosk learns it by its own poll; the console's pages
say what the service answers."""
from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from rich.console import Console
from textual.widgets import Button, Static

from kiosk.errors import CATALOGUE
from kiosk.i18n import message
from kiosk.registry import schema
from kiosk.session import Step
from screens import tester
from screens.maintenance.console import MaintenanceConsole
from tests.functional.screen_image import screen_text
from tests.service.conftest import SERVICE_KIOSK_ID
from tests.service.test_kiosk_polls_the_service import poll_requests
from tests.unit.core.test_registry_port import ZHANG_XIAOYU

on_sqlite = pytest.mark.parametrize("running_service", [
    pytest.param("sqlite", marks=pytest.mark.xdist_group("service-sqlite"))], indirect=True)
SEQUENCE = ("f12", "f12", "m", "a", "i", "n", "t")  # the default maintenance_key_sequence
TECHNICIAN, PIN = "T0001", "24680"  # the demo technician of config/kiosk.toml


def shown(screen, selector: str) -> str:
    """What a Static shows, as plain text, wide enough not to wrap."""
    content = screen.query_one(selector, Static).render()
    console = Console(width=400, file=io.StringIO(), record=True)
    console.print(content)
    return console.export_text().strip()


async def settle(journey) -> None:
    for _ in range(3):
        await journey.pilot.pause()
        await journey.app.workers.wait_for_complete()
    await journey.pilot.pause()


@on_sqlite
async def test_the_panels_phone_scan_activates_through_the_phone_route_and_the_kiosk_sees_it_by_its_own_poll(
    service_kiosk, running_service
) -> None:
    interval = running_service.settings.activation_poll_seconds  # the kiosk's own pace (0.2 s) is faster
    polls = poll_requests()
    async with service_kiosk() as journey:
        await journey.to_child_id("zhang-wei-3.00")
        await journey.register(ZHANG_XIAOYU)
        await journey.pilot.press("f9")
        await journey.pilot.pause()
        panel = journey.app.screen
        assert isinstance(panel, tester.TesterPanel)
        await journey.pilot.press("s")  # the card holder's phone, through POST /v1/phone/activations
        await settle(journey)
        panel.refresh_state()
        status = shown(panel, "#tester-status")
        assert status.startswith("手机：电子社保卡 ") and status.endswith(" 已激活"), status
        await journey.pilot.press("s")  # the same QR again: the service says it was used
        await settle(journey)
        status = shown(panel, "#tester-status")
        assert "ACTIVATION_USED" in status and message("err.ACTIVATION_USED", "zh") in status, status
        await journey.pilot.press("escape")
        await settle(journey)
        assert journey.session.step is Step.ACTIVATION  # no look before the service's interval has passed
        journey.kiosk.session.clock.advance(interval)
        running_service.clock.advance(interval)
        await journey.reach(Step.ACTIVATED)
        assert "激活成功" in screen_text(journey.app)
    assert poll_requests() - polls == 1  # the RFC 8628 route, for the one code shown
    with running_service.service.database.connection("test: the child's e-cards") as connection:
        rows = connection.execute(sa.text(
            "SELECT e.state, e.kiosk_id FROM ecard e JOIN person p ON p.id = e.child_id WHERE p.resident_id = :c"
        ), {"c": ZHANG_XIAOYU}).all()
    assert [tuple(row) for row in rows] == [("active", SERVICE_KIOSK_ID)]


async def enter_console(journey) -> MaintenanceConsole:
    await journey.pilot.press(*SEQUENCE)
    await settle(journey)
    await journey.type(TECHNICIAN)
    await journey.pilot.press("enter")
    await journey.type(PIN)
    await journey.pilot.press("enter")
    await settle(journey)
    assert isinstance(journey.app.screen, MaintenanceConsole), type(journey.app.screen).__name__
    return journey.app.screen


def audited(running_service, kind: str) -> list[tuple[str, str]]:
    """(kiosk, detail) of the service's audit events of `kind`, newest first."""
    return [(event.kiosk_id, event.detail) for event in running_service.service.registry.audit_events([kind])]


@on_sqlite
async def test_the_console_pages_of_a_service_kiosk_show_the_services_answers(service_kiosk, running_service) -> None:
    managed = CATALOGUE["REGISTRY_MANAGED_BY_SERVICE"]
    async with service_kiosk(language="en") as journey:
        await journey.reach(Step.WELCOME)
        console = await enter_console(journey)
        assert audited(running_service, "maintenance_enter") == [(SERVICE_KIOSK_ID, f"technician={TECHNICIAN}")]

        await journey.pilot.press("2")  # Database: the service's health, not "not reachable"
        await settle(journey)
        report = shown(console, "#db-report")
        assert "reachable: yes" in report and running_service.base_url in report, report
        assert "registry service (no database at this kiosk)" in report
        assert f"schema: current ({schema.head()})" in report
        assert managed.text.en in report  # the counts are the service operator's, said once
        await journey.pilot.press("c")
        await settle(journey)
        assert shown(console, "#database .page-result").startswith("REGISTRY_MANAGED_BY_SERVICE: ")

        await journey.pilot.press("3")  # Activations: the operator's; nothing to cancel or purge here
        await settle(journey)
        assert shown(console, "#activations .page-result").startswith(f"REGISTRY_MANAGED_BY_SERVICE: {managed.text.en}")
        assert console.query_one("#act-cancel", Button).disabled and console.query_one("#act-purge", Button).disabled

        await journey.pilot.press("4")  # Audit log: the same, and no export of a trail the kiosk does not hold
        await settle(journey)
        assert shown(console, "#audit .page-result").startswith("REGISTRY_MANAGED_BY_SERVICE: ")
        assert console.query_one("#audit-export", Button).disabled

        running_service.service.credentials.revoke(SERVICE_KIOSK_ID, "box replaced")
        await journey.pilot.press("2", "r")  # the service refuses this kiosk now: the page says so, with the reason
        await settle(journey)
        report = shown(console, "#db-report")
        assert "reachable: no" in report and "SERVICE_CREDENTIAL_REFUSED" in report and "box replaced" in report, report
        await journey.pilot.press("escape")
        await settle(journey)
    assert audited(running_service, "maintenance_action") == []  # nothing done to the service's registry
