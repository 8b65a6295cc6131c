"""`kiosk.py activate --as <resident ID> --service <URL>` against a real uvicorn: the guardian succeeds, another is refused."""
from __future__ import annotations

import pytest

from ecard_kiosk.cli import main
from kiosk.registry.service_client import ServiceRegistry, ServiceTimeouts
from tests.unit.core.test_registry_port import LI_NA, ZHANG_CARD, ZHANG_WEI, ZHANG_XIAOYU

pytestmark = pytest.mark.parametrize("running_service", [
    pytest.param("sqlite", marks=pytest.mark.xdist_group("service-sqlite"))], indirect=True)


def test_activate_as_the_guardian_through_the_service(running_service, capsys) -> None:
    kiosk = ServiceRegistry(running_service.base_url, running_service.kiosk("HALL-5"),
                            ServiceTimeouts(connect_seconds=2, read_seconds=5, total_seconds=5, retries=1,
                                            backoff_seconds=0.05))
    try:
        ticket = kiosk.register(ZHANG_CARD, ZHANG_XIAOYU, "phone-cli-0001").ticket
        assert ticket is not None
        assert main(["activate", "--language", "en", "--as", LI_NA, "--service", running_service.base_url, ticket.url]) == 1
        assert capsys.readouterr().err == (
            "access_denied: You are not the guardian who registered this child's e-card: it cannot be activated.\n")
        assert main(["activate", "--language", "zh", "--as", LI_NA, "--service", running_service.base_url, ticket.url]) == 1
        assert capsys.readouterr().err == "access_denied: 您不是为该儿童办理电子社保卡的监护人，不能激活。\n"
        code = ticket.user_code.replace("-", " - ")
        assert main(["activate", "--language", "en", "--as", ZHANG_WEI, "--service", running_service.base_url, *code.split()]) == 0
        assert "activated: e-card" in capsys.readouterr().out
        assert kiosk.ticket_state(ticket.ticket_id).state == "activated"
    finally:
        kiosk.close()


def test_the_service_is_asked_only_for_a_signed_in_guardian(running_service, capsys) -> None:
    assert main(["activate", "--service", running_service.base_url, "BCDF-GHJK"]) == 2
    assert "needs --as" in capsys.readouterr().err
