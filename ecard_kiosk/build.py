"""Provides build_kiosk and build_app: the session and its collaborators made from the settings, and the app over them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from ecard_kiosk.card_side import CardSide, build_card_side, wire_reader
from ecard_kiosk.errors import StartupError
from ecard_kiosk.services import open_registry_lazily
from kiosk.settings import Settings

if TYPE_CHECKING:
    from devices.reader import CardReader
    from devices.simulated import SimulatedBench
    from kiosk.health import ServiceMonitor
    from kiosk.maintenance import MaintenanceMode
    from kiosk.ports import Clock
    from kiosk.registry import Registry
    from kiosk.session import KioskSession
    from kiosk.voice import VoicePrompter
    from screens.app import KioskApp


@dataclass
class Kiosk:
    """Everything a running kiosk is made of."""

    settings: Settings
    session: "KioskSession"
    bench: "SimulatedBench | None"
    registry: "Registry"
    reader: "CardReader"
    voice: "VoicePrompter | None" = None
    """Speaks each step's instruction; None where the kiosk stays silent (setting voice_prompts)."""
    monitor: "ServiceMonitor | None" = None
    """Keeps the kiosk out of service while its database or rule file cannot be used (started by start_services)."""
    maintenance: "MaintenanceMode | None" = None
    """The technicians' maintenance mode (hidden way in, PIN door, console data and actions)."""


def build_kiosk(settings: Settings, clock: "Clock | None" = None, origins: "dict[str, str] | None" = None) -> Kiosk:
    """Build the session and its collaborators from the settings (no UI); `origins` says where each setting came from."""
    from devices.service import ReaderCardService
    from kiosk.health import CONFIGURATION, DATABASE, ServiceMonitor, initial_region
    from kiosk.ports import OffsetClock, SystemClock
    from kiosk.session import KioskSession, SessionPolicy

    if clock is None:
        # The tester panel jumps this clock (idle timeouts, QR expiry, card expiry); a real kiosk's is fixed.
        clock = OffsetClock() if settings.reader == "simulated" and settings.tester_panel else SystemClock()
    if not settings.region_file.exists():
        raise StartupError(f"setting 'region': no rule file {settings.region_file}")
    # A rule file that does not load, or a database that does not answer, leaves the kiosk out of
    # service until the monitor finds them usable.
    region = initial_region(settings.region_file)
    registry, prepare = open_registry_lazily(settings, clock)
    side = build_card_side(settings)
    session = KioskSession(
        ReaderCardService(side.reader, side.key_holder_factory),
        registry,
        region,
        clock,
        SessionPolicy(
            kiosk_id=settings.kiosk_id,
            language=settings.language,
            activation_url_base=settings.activation_url_base,
            activation_ttl_seconds=settings.activation_ttl_seconds,
            activation_max_renewals=settings.activation_max_renewals,
            idle_timeout_seconds=settings.idle_timeout_seconds,
            step_idle_seconds=dict(settings.step_idle_seconds),
            idle_warning_seconds=settings.idle_warning_seconds,
        ),
    )
    wire_reader(side.reader, session)
    if side.bench is not None:
        side.bench.phone = registry.activate  # the tester panel plays the guardian's phone at the QR
    monitor = ServiceMonitor(session, registry, settings.region_file, prepare=prepare)
    if region is None:
        session.out_of_service(CONFIGURATION)
    if prepare is not None:
        session.out_of_service(DATABASE)
    maintenance = build_maintenance(settings, session, registry, side, clock, origins or {})
    return Kiosk(settings, session, side.bench, registry, side.reader, attach_voice(settings, session), monitor,
                 maintenance)


def build_maintenance(settings: Settings, session: "KioskSession", registry: "Registry", side: CardSide,
                      clock: "Clock", origins: dict[str, str]) -> "MaintenanceMode":
    """The technicians' maintenance mode, with the reader diagnostics for this kind of reader."""
    from devices.diagnostics import PcscDiagnostics, SimulatedDiagnostics
    from kiosk.logbook import LOG_NAME
    from kiosk.maintenance import MaintenanceMode, TechnicianDoor, parse_key_sequence

    diagnostics_type = PcscDiagnostics if settings.reader == "pcsc" else SimulatedDiagnostics
    diagnostics = diagnostics_type(side.reader, side.psam_reader, side.key_holder_factory, clock)  # type: ignore[arg-type]
    door = TechnicianDoor(settings.technicians, clock, registry.audit)
    return MaintenanceMode(
        session, registry, door, clock,
        key_sequence=parse_key_sequence(settings.maintenance_key_sequence),
        idle_seconds=settings.maintenance_idle_seconds,
        purge_hours=settings.ticket_purge_hours,
        diagnostics=diagnostics,
        settings=settings.model_dump(),
        origins=origins,
        log_file=settings.data_dir / "logs" / LOG_NAME,
        export_dir=settings.data_dir / "exports",
    )


def attach_voice(settings: Settings, session: "KioskSession") -> "VoicePrompter | None":
    """Voice prompts for the session, by the voice_prompts setting; None without a voice to speak with."""
    from devices.speech import build_speaker
    from kiosk.voice import VoicePrompter

    speaker = build_speaker(settings.voice_prompts, settings.voice_volume)
    if not speaker.available:
        return None
    prompter = VoicePrompter(speaker)
    prompter.attach(session)
    return prompter


def build_app(kiosk: Kiosk, windowed: bool = False) -> "KioskApp":
    """The Textual app for a built kiosk; the same factory serves the CLI and the tests."""
    from screens.app import KioskApp

    settings = kiosk.settings
    return KioskApp(
        kiosk.session,
        poll_seconds=settings.activation_poll_seconds,
        farewell_seconds=settings.farewell_seconds,
        tester=kiosk.bench if settings.tester_panel else None,
        kiosk_mode=not windowed,
        repeat_prompt=kiosk.voice.repeat if kiosk.voice is not None else None,
        keypad_shuffled=settings.keypad_shuffled,
        maintenance=kiosk.maintenance,
    )
