"""Provides the card side of a kiosk: the guardian's reader, where PSAM cryptograms come from, the tester's bench."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable

from ecard_kiosk.errors import StartupError
from kiosk.settings import Settings

if TYPE_CHECKING:
    from devices.psam import KeyHolder
    from devices.reader import CardReader, ReaderEvent
    from devices.simulated import SimulatedBench
    from kiosk.session import KioskSession


@dataclass
class CardSide:
    """The guardian's reader, where PSAM cryptograms come from, and the tester's bench (simulated only)."""

    reader: "CardReader"
    key_holder_factory: "Callable[[], KeyHolder | None]"
    bench: "SimulatedBench | None"
    psam_reader: "CardReader | None" = None


def build_card_side(settings: Settings) -> CardSide:
    """The card side the `reader` setting names."""
    return build_pcsc_side(settings) if settings.reader == "pcsc" else build_simulated_side(settings)


def build_simulated_side(settings: Settings) -> CardSide:
    """A simulated reader with virtual cards from the profiles, and a virtual PSAM in its own slot.

    Only the PSAM's profile is read here; the tester's bench reads the card profiles at its first use
    (`load_bench`: a kiosk does it after its first screen, which needs none of them).
    """
    from devices.profiles import load_profile
    from devices.psam import VirtualPsam, psam_key_holder_factory
    from devices.simulated import SimulatedBench, SimulatedReader

    directory = settings.card_profiles_dir
    if not directory.is_dir():
        raise StartupError(f"setting 'card_profiles_dir': {directory}: no such directory of card profiles")
    from devices.pinpad import VirtualPinPad

    reader = SimulatedReader("Simulated reader 00", VirtualPinPad() if settings.simulated_pin_pad else None)
    psam_reader: SimulatedReader | None = None
    key_holder_factory: Callable[[], KeyHolder | None] = lambda: None  # noqa: E731
    if settings.simulated_psam:
        path = directory / f"{settings.simulated_psam}.toml"
        try:
            profile = load_profile(path) if path.is_file() else None
        except (ValueError, OSError) as exc:
            raise StartupError(f"setting 'card_profiles_dir': {exc}") from None
        if profile is None or profile.kind != "psam":
            raise StartupError(f"setting 'simulated_psam': no PSAM profile named {settings.simulated_psam!r}")
        psam_reader = SimulatedReader("Simulated PSAM slot 01")
        psam_reader.insert(VirtualPsam.from_profile(profile))
        key_holder_factory = psam_key_holder_factory(psam_reader)
    return CardSide(reader, key_holder_factory, SimulatedBench.from_directory(reader, directory), psam_reader)


def load_bench(bench: "SimulatedBench | None") -> None:
    """Read the tester's card profiles now (if there is a bench and they were not read yet).

    Raises:
        StartupError: for a profile that does not load, as for any setting the kiosk cannot work with.
    """
    if bench is None:
        return
    try:
        bench.load()
    except (ValueError, OSError) as exc:
        raise StartupError(f"setting 'card_profiles_dir': {exc}") from None


def build_pcsc_side(settings: Settings) -> CardSide:
    """The guardian's PC/SC reader (and PSAM slot) through pyscard and pcscd."""
    from kiosk.optional import OptionalPartMissing, optional_part

    try:
        with optional_part("reader 'pcsc'"):
            from devices.pcsc import PcscReader
    except OptionalPartMissing as exc:
        raise StartupError(f"setting 'reader': {exc}") from None
    from devices.psam import psam_key_holder_factory

    reader = PcscReader(settings.reader_name, exclude_pattern=settings.psam_reader,
                        protocol=settings.reader_protocol, exclusive=settings.reader_exclusive)
    key_holder_factory: Callable[[], KeyHolder | None] = lambda: None  # noqa: E731
    psam = None
    if settings.psam_reader:
        psam = PcscReader(settings.psam_reader, protocol=settings.reader_protocol, exclusive=False)
        key_holder_factory = psam_key_holder_factory(psam)
    return CardSide(reader, key_holder_factory, None, psam)


def wire_reader(reader: "CardReader", session: "KioskSession") -> None:
    """Reader events become session events (on the reader's thread; the session is thread-safe).

    A reader that goes away takes the kiosk out of service; it comes back by itself when the
    reader (or the PC/SC service) returns.
    """
    from devices.reader import ReaderEventKind

    def on_event(event: "ReaderEvent") -> None:
        if event.kind is ReaderEventKind.CARD_INSERTED:
            session.card_inserted()
        elif event.kind is ReaderEventKind.CARD_REMOVED:
            session.card_removed()
        elif event.kind is ReaderEventKind.READER_REMOVED:
            session.out_of_service("READER_UNAVAILABLE")
        elif event.kind is ReaderEventKind.READER_ADDED:
            session.back_in_service("READER_UNAVAILABLE")
            if reader.card_present():
                session.card_inserted()

    reader.add_listener(on_event)


def reader_state(reader: "CardReader") -> str:
    """The guardian's reader as the heartbeat reports it: "ok" (a card in), "no_card", "no_reader" (gone)."""
    if not getattr(reader, "available", True):
        return "no_reader"
    return "ok" if reader.card_present() else "no_card"


def psam_state(side: CardSide) -> str:
    """The PSAM as the heartbeat reports it: "ok" (in its slot), "absent", "not_needed" (no PSAM slot configured)."""
    if side.psam_reader is None:
        return "not_needed"
    if not getattr(side.psam_reader, "available", True):
        return "absent"
    return "ok" if side.psam_reader.card_present() else "absent"
