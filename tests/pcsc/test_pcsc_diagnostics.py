"""Provides the tests of the maintenance console's reader diagnostics over the real PC/SC stack (pcscd, vpcd)."""
from __future__ import annotations

from datetime import datetime, timezone

import pytest

from devices.diagnostics import PcscDiagnostics
from devices.pcsc import PcscReader
from devices.psam import psam_key_holder_factory
from kiosk.ports import ManualClock

pytestmark = pytest.mark.pcsc

SELECT_SSSE = bytes.fromhex("00A404000F7378312E73682EC9E7BBE1B1A3D5CF")


@pytest.fixture
def diagnostics(pcscd, guardian_slot, psam_slot, guardian_reader: PcscReader, psam_reader: PcscReader):
    found = PcscDiagnostics(guardian_reader, psam_reader, psam_key_holder_factory(psam_reader),
                            ManualClock(datetime(2026, 6, 1, 2, 0, tzinfo=timezone.utc)))
    yield found
    found.close()


def test_slots_roles_atr_and_the_psam_over_pcsc(diagnostics: PcscDiagnostics, pcscd, guardian_slot, card_of) -> None:
    guardian_slot.insert(card_of("li-na-2.00"))
    slots = {slot.name: slot for slot in diagnostics.slots()}
    guardian, psam = slots[pcscd.reader(0)], slots[pcscd.reader(1)]
    assert (guardian.role, guardian.card_present, psam.role) == ("guardian", True, "psam")
    assert guardian.atr_facts is not None and guardian.atr_facts.protocols
    status = diagnostics.psam()
    assert status.present and status.working, status


def test_self_test_and_raw_apdus_over_pcsc(diagnostics: PcscDiagnostics, pcscd, guardian_slot, card_of) -> None:
    guardian_slot.insert(card_of("zhang-wei-3.00"))
    result = diagnostics.self_test()
    assert result.passed and result.authenticated, result
    assert {item.status for item in result.items} == {"ok"}
    first = diagnostics.send_apdu(pcscd.reader(0), SELECT_SSSE)
    assert first.sw >> 8 in (0x61, 0x90)
    if first.sw >> 8 == 0x61:  # the same connection answers GET RESPONSE
        assert diagnostics.send_apdu(pcscd.reader(0), bytes([0, 0xC0, 0, 0, first.sw & 0xFF])).sw == 0x9000
    diagnostics.close()
    guardian_slot.remove()
    assert diagnostics.self_test().error in ("CARD_ABSENT", "CARD_REMOVED")
