"""Provides the fixtures of the card-layer tests: demo profiles, readers with virtual cards and a PSAM, a scripted connection."""
from __future__ import annotations

from typing import Callable

import pytest

from devices.profiles import CardProfile, load_profiles, psam_master_key
from devices.psam import KeyHolder, psam_key_holder_factory
from devices.reader import CardConnection
from devices.service import ReaderCardService
from devices.simulated import SimulatedReader
from devices.virtual_card import VirtualCard, virtual_device
from kiosk import CONFIG_DIR

CARDS_DIR = CONFIG_DIR / "cards"


class ScriptedConnection(CardConnection):
    """A connection that answers from a script and records what was sent."""

    def __init__(self, answers: list[str]) -> None:
        self.answers = [bytes.fromhex(a.replace(" ", "")) for a in answers]
        self.sent: list[bytes] = []

    @property
    def atr(self) -> bytes:
        return bytes.fromhex("3B00")

    def transmit(self, command: bytes) -> bytes:
        self.sent.append(command)
        return self.answers.pop(0)

    def close(self) -> None:
        pass


@pytest.fixture
def scripted() -> Callable[..., ScriptedConnection]:
    """A connection answering the given hex responses in order."""
    return lambda *answers: ScriptedConnection(list(answers))


@pytest.fixture(scope="session")
def profiles() -> dict[str, CardProfile]:
    return load_profiles(CARDS_DIR)


@pytest.fixture(scope="session")
def master_key(profiles: dict[str, CardProfile]) -> bytes:
    key = psam_master_key(profiles)
    assert key is not None
    return key


@pytest.fixture
def card_of(profiles: dict[str, CardProfile], master_key: bytes) -> Callable[[str], VirtualCard]:
    """A fresh virtual card personalised from a demo profile."""

    def build(name: str) -> VirtualCard:
        return VirtualCard.from_profile(profiles[name], master_key)

    return build


@pytest.fixture
def psam_reader(profiles: dict[str, CardProfile], master_key: bytes) -> SimulatedReader:
    reader = SimulatedReader("PSAM slot")
    reader.insert(virtual_device(profiles["psam-test"], master_key))
    return reader


@pytest.fixture
def key_holder_factory(psam_reader: SimulatedReader) -> Callable[[], KeyHolder | None]:
    return psam_key_holder_factory(psam_reader)


@pytest.fixture
def guardian_reader() -> SimulatedReader:
    return SimulatedReader("Guardian slot")


@pytest.fixture
def service(guardian_reader: SimulatedReader, key_holder_factory: Callable[[], KeyHolder | None]) -> ReaderCardService:
    return ReaderCardService(guardian_reader, key_holder_factory)
