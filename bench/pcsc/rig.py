"""Provides the benchmark's rig: kiosk settings for the private pcscd's two vpcd slots, virtual cards whose challenge is fixed, and the timed read."""
from __future__ import annotations

import tempfile
import time
from pathlib import Path
from typing import Any, NoReturn

from bench.common import PIN, BenchError, DemoCard, settings_in

PSAM_PROFILE = "psam-test"
FIXED_CHALLENGE = bytes.fromhex("0123456789ABCDEF")
GAP_S = 0.05  # quiet time before every timed read or pass (see bench/README.md)


def fail(message: str) -> NoReturn:
    """Stop the benchmark with `message` (also what tests/pcscd_daemon.py calls when pcscd will not start)."""
    raise BenchError(f"pcsc: {message}")


def pcsc_settings(daemon: Any, scratch: Path, **overrides: Any) -> Any:
    """Returns:
        Kiosk settings for reader = pcsc on the private pcscd (guardian's card in slot 0, PSAM in slot 1),
        on a fresh data dir under `scratch`.
    """
    data_dir = Path(tempfile.mkdtemp(prefix="bench-pcsc-", dir=scratch)) / "data"
    values = {"reader": "pcsc", "reader_name": daemon.reader(0), "psam_reader": daemon.reader(1)}
    values.update(overrides)
    return settings_in(data_dir, **values)


def fixed_challenge_card(profile: Any, master_key: bytes | None) -> Any:
    """A virtual card of `profile` whose GET CHALLENGE always answers FIXED_CHALLENGE.

    So an EXTERNAL AUTHENTICATE recorded from the kiosk stays right when the floor replays it, and
    the reference reader's sequence matches the kiosk's byte for byte. VirtualCard takes its random
    source as a constructor argument but `from_profile` does not pass one on, so it is set here, the
    benchmark's one use of a private member of devices/.
    """
    from devices.virtual_card import VirtualCard

    card = VirtualCard.from_profile(profile, master_key)
    card._random_bytes = lambda n: FIXED_CHALLENGE[:n]
    return card


def one_read(service: Any) -> tuple[float, Any, Any]:
    """Returns:
        (seconds, the card read, the PIN result) of one timed `read_card()` + `verify_pin(PIN)`.
    """
    start = time.perf_counter()
    card = service.read_card()
    result = service.verify_pin(PIN)
    return time.perf_counter() - start, card, result


def check_read(card: Any, result: Any, demo: DemoCard) -> None:
    """Raises:
        BenchError: the read gave no holder, or the PIN was not verified.
    """
    from kiosk.domain import PinStatus

    if card.holder is None:
        raise BenchError(f"pcsc: {demo.profile}: read_card returned no holder (PSAM not used?)")
    if result.status is not PinStatus.VERIFIED:
        raise BenchError(f"pcsc: {demo.profile}: verify_pin({PIN}) gave {result}")
