"""The whole kiosk on the real PC/SC stack: a Pilot-driven journey, and surviving pcscd going away mid-session."""
from __future__ import annotations

import contextlib

import pytest

from kiosk.session import Step
from tests.conftest import kiosk_root
from tests.functional.harness import Journey
from tests.functional.screen_image import decode_qr_on_screen, screen_text

pytestmark = pytest.mark.pcsc

CHILD = "430102201906010029"


@pytest.fixture
def pcsc_kiosk(settings_for, pcscd, psam_slot, guardian_slot):
    """`async with pcsc_kiosk() as journey:` runs the app headless with reader = pcsc."""

    @contextlib.asynccontextmanager
    async def start(**overrides):
        values = {"reader": "pcsc", "reader_name": pcscd.reader(0), "psam_reader": pcscd.reader(1),
                  "activation_poll_seconds": 0.2, "idle_timeout_seconds": 900, **overrides}
        settings = settings_for(**values)
        kiosk = kiosk_root.build_kiosk(settings)
        app = kiosk_root.build_app(kiosk)
        try:
            async with app.run_test(size=(120, 40)) as pilot:
                kiosk_root.start_reader(kiosk)
                yield Journey(pilot, kiosk)
        finally:
            kiosk_root.stop_reader(kiosk)

    return start


async def test_whole_journey_over_pcscd_and_vpcd(pcsc_kiosk, guardian_slot, card_of):
    async with pcsc_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        assert journey.kiosk.bench is None  # no simulated bench: cards come through vpcd
        guardian_slot.insert(card_of("zhang-wei-3.00"))
        await journey.reach(Step.HOLDER)
        assert "张*" in screen_text(journey.app)
        await journey.pilot.press("enter")
        await journey.enter_pin("123456")
        await journey.register(CHILD)
        [url] = decode_qr_on_screen(journey.app)
        journey.kiosk.registry.activate(url)
        await journey.reach(Step.ACTIVATED)
        await journey.pilot.press("enter")
        await journey.reach(Step.TAKE_CARD)
        guardian_slot.remove()
        await journey.reach(Step.WELCOME)


async def test_card_pulled_at_the_pin_over_pcsc_costs_no_try(pcsc_kiosk, guardian_slot, card_of):
    card = card_of("li-na-2.00")
    async with pcsc_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        guardian_slot.insert(card)
        await journey.reach(Step.HOLDER)
        await journey.pilot.press("enter")
        await journey.reach(Step.PIN)
        await journey.type("123")
        guardian_slot.remove()
        screen = await journey.reach(Step.WELCOME)
        assert screen.view.notice == "CARD_REMOVED"
        assert card.pin_tries_left == card.pin_max_tries


async def test_pcscd_killed_mid_session_goes_out_of_service_and_comes_back_by_itself(
    pcsc_kiosk, pcscd, guardian_slot, card_of
):
    async with pcsc_kiosk() as journey:
        await journey.reach(Step.WELCOME)
        guardian_slot.insert(card_of("li-na-2.00"))
        await journey.reach(Step.HOLDER)
        await journey.pilot.press("enter")
        await journey.enter_pin("123456")
        await journey.enter_child("43010220210214005X")
        await journey.reach(Step.CHILD_CONFIRM)

        pcscd.kill()
        await journey.reach(Step.OUT_OF_SERVICE)
        assert "本机暂停服务" in screen_text(journey.app)
        assert not journey.session.visit_under_way
        # Nothing half-done was written: the child has no e-card.
        assert journey.kiosk.registry.child_ecard("43010220210214005X") is None

        pcscd.start()
        # The reader is back: the kiosk leaves out-of-service without a restart, and since the
        # card is still in the reader, a new visit starts by reading it.
        await journey.reach(Step.HOLDER, timeout=20)


async def test_kiosk_started_without_a_usable_reader_waits_out_of_service(pcsc_kiosk, pcscd):
    pcscd.stop()
    async with pcsc_kiosk() as journey:
        await journey.reach(Step.OUT_OF_SERVICE)
        pcscd.start()
        await journey.reach(Step.WELCOME, timeout=20)


async def test_third_generation_card_in_a_pcsc_kiosk_without_psam_is_explained(pcsc_kiosk, guardian_slot, card_of):
    async with pcsc_kiosk(psam_reader="") as journey:
        await journey.reach(Step.WELCOME)
        guardian_slot.insert(card_of("zhang-wei-3.00"))
        screen = await journey.reach(Step.ERROR)
        assert screen.view.error == "CARD_NEEDS_PSAM"
        assert screen.view.card is not None and screen.view.card.spec_version == "3.00"
