"""Provides the PC/SC test bench: a private pcscd with the vpcd driver, virtual cards in its two slots, readers over it.

Fixtures (all for tests under tests/pcsc/, marked `@pytest.mark.pcsc`):
- `pcscd`: the running private pcscd (`PcscDaemon`): `start()`, `stop()`, `kill()`, `restart()`,
  `reader(slot)` (the PC/SC reader name), `wait_card(slot, present)`. One per test session; a test
  that stopped it gets it started again by the next test.
- `guardian_slot` / `psam_slot`: `CardSlot`s for vpcd slot 0 (empty at the start of each test) and
  slot 1 (holding the virtual test PSAM for the whole session): `insert(card)` and `remove()`
  return once pcscd reports the change; `server` is the `VpcdCardServer`.
- `guardian_reader` (exclusive, slot 0) and `psam_reader` (shared, slot 1): `PcscReader`s.
- `service`: `ReaderCardService` over `guardian_reader`, with the PSAM in slot 1 as key holder.
- `profiles`, `master_key`, `card_of(name)`: the demo profiles of config/cards/ and fresh virtual cards.

Only one process at a time can own pcscd and the vpcd ports: a lock file (`LOCK_FILE`, taken in
tests/pcscd_daemon.py) makes a second pytest run, or the PC/SC benchmark (bench/pcsc/), wait
for the first one's PC/SC work to end.
"""
from __future__ import annotations

import contextlib
import sys
from typing import Callable, Iterator

import pytest

from devices.pcsc import PcscReader
from devices.profiles import CardProfile, load_profiles, psam_master_key
from devices.psam import VirtualPsam, psam_key_holder_factory
from devices.service import ReaderCardService
from devices.virtual_card import VirtualCard
from kiosk import CONFIG_DIR
# The private pcscd and its slots live in tests/pcscd_daemon.py (the PC/SC benchmark uses them too).
from tests.pcscd_daemon import LOCK_FILE, MARKER, CardSlot, PcscDaemon, private_pcscd

__all__ = ["LOCK_FILE", "CardSlot", "PcscDaemon"]


def _notifier(config: pytest.Config) -> Callable[[str], None]:
    """Tell the person at the terminal (past pytest's capture) that the lock is held by another run."""

    def notify(text: str) -> None:
        capture = config.pluginmanager.getplugin("capturemanager")
        with capture.global_and_fixture_disabled() if capture else contextlib.nullcontext():
            print(f"\n{text}", file=sys.stderr)

    return notify


@pytest.fixture(scope="session")
def pcscd_session(tmp_path_factory: pytest.TempPathFactory, pytestconfig: pytest.Config) -> Iterator[PcscDaemon]:
    with private_pcscd(tmp_path_factory.mktemp(MARKER), fail=pytest.fail, notify=_notifier(pytestconfig)) as daemon:
        yield daemon


@pytest.fixture
def pcscd(pcscd_session: PcscDaemon) -> PcscDaemon:
    """The private pcscd, running (started again when an earlier test left it stopped)."""
    pcscd_session.start()
    return pcscd_session


@pytest.fixture(scope="session")
def profiles() -> dict[str, CardProfile]:
    return load_profiles(CONFIG_DIR / "cards")


@pytest.fixture(scope="session")
def master_key(profiles: dict[str, CardProfile]) -> bytes:
    key = psam_master_key(profiles)
    assert key is not None
    return key


@pytest.fixture
def card_of(profiles: dict[str, CardProfile], master_key: bytes) -> Callable[[str], VirtualCard]:
    """A fresh virtual card personalised from a demo profile."""
    return lambda name: VirtualCard.from_profile(profiles[name], master_key)


@pytest.fixture(scope="session")
def psam_slot_session(pcscd_session: PcscDaemon, profiles: dict[str, CardProfile]) -> Iterator[CardSlot]:
    slot = CardSlot(pcscd_session, 1)
    slot.server.insert(VirtualPsam.from_profile(profiles["psam-test"]))
    yield slot
    slot.close()


@pytest.fixture
def psam_slot(pcscd: PcscDaemon, psam_slot_session: CardSlot) -> CardSlot:
    """Slot 1 with the virtual test PSAM in it (put back if a test took it out), reported present."""
    if not psam_slot_session.server.inserted:
        psam_slot_session.server.insert()
    pcscd.wait_card(1, present=True)
    return psam_slot_session


@pytest.fixture
def guardian_slot(pcscd: PcscDaemon) -> Iterator[CardSlot]:
    """Slot 0, empty in pcscd's eyes at the start of the test."""
    pcscd.wait_card(0, present=False)
    slot = CardSlot(pcscd, 0)
    yield slot
    slot.close()


@pytest.fixture
def guardian_reader(pcscd: PcscDaemon) -> PcscReader:
    return PcscReader(pcscd.reader(0), exclude_pattern=pcscd.reader(1))


@pytest.fixture
def psam_reader(pcscd: PcscDaemon) -> PcscReader:
    return PcscReader(pcscd.reader(1), exclusive=False)


@pytest.fixture
def service(guardian_slot: CardSlot, psam_slot: CardSlot, guardian_reader: PcscReader,
            psam_reader: PcscReader) -> Iterator[ReaderCardService]:
    """The kiosk's card service over PC/SC: slot 0 for the guardian's card, the PSAM in slot 1."""
    service = ReaderCardService(guardian_reader, psam_key_holder_factory(psam_reader))
    yield service
    service.release()
