"""Provides build_kiosk and build_app: the session and its collaborators made from the settings, and the app over them."""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Callable, cast

from ecard_kiosk.card_side import CardSide, build_card_side, load_bench
from ecard_kiosk.errors import StartupError
from ecard_kiosk.opening import BackgroundOpening, DeferredPort, PendingRegistry
from ecard_kiosk.services import connect_opened, open_registry_lazily
from kiosk.settings import Settings

if TYPE_CHECKING:
    from pathlib import Path

    from devices.reader import CardReader
    from devices.simulated import SimulatedBench
    from kiosk.fleet import HeartbeatSender
    from kiosk.health import ServiceMonitor
    from kiosk.maintenance import MaintenanceMode
    from kiosk.maintenance.managed import ManagedByService
    from kiosk.ports import Clock
    from kiosk.registry import Registry
    from kiosk.eligibility import Region
    from kiosk.registry import LocalRegistry
    from kiosk.registry.port import RegistryPort
    from kiosk.registry.service_client import ServiceRegistry
    from kiosk.session import KioskSession, SessionPolicy
    from kiosk.voice import VoicePrompter
    from screens.app import KioskApp


@dataclass
class Kiosk:
    """Everything a running kiosk is made of."""

    settings: Settings
    session: "KioskSession"
    bench: "SimulatedBench | None"
    registry: "Registry | None"
    """The embedded registry (maintenance console, tester panel's phone); None when the registry is the service."""
    reader: "CardReader"
    voice: "VoicePrompter | None" = None
    """Speaks each step's instruction; None where the kiosk stays silent (setting voice_prompts)."""
    monitor: "ServiceMonitor | None" = None
    """Keeps the kiosk out of service while its database or rule file cannot be used (started by start_services)."""
    maintenance: "MaintenanceMode | None" = None
    """The technicians' maintenance mode (hidden way in, PIN door, console data and actions)."""
    opening: BackgroundOpening | None = None
    """What is still to be opened after the first screen (deferred=True); None when build_kiosk opened everything."""
    port: "RegistryPort | None" = None
    """The registry as the session asks it: LocalRegistry over `registry`, or the registry service's HTTP adapter."""
    heartbeat: "HeartbeatSender | None" = None
    """Reports the kiosk to the registry service and applies its answer (started by start_services); None with the
    embedded registry (registry = "local": no service to report to)."""
    rest: "Callable[[], None] | None" = None
    """What build_kiosk(deferred=True) left to after the first screen: the maintenance mode (reader diagnostics,
    technician door, PIN hashes) and the voice, which the welcome does not need (their settings were checked when
    loaded). build_app's app runs it once its first screen is on the terminal (`finish`); None: nothing left."""

    @property
    def repeat_prompt(self) -> "Callable[[], None] | None":
        """What says the current step's instruction again (the app's repeat key); None without a voice."""
        return self.voice.repeat if self.voice is not None else None

    def finish(self) -> None:
        """Build what was left to after the first screen (`rest`), once."""
        rest, self.rest = self.rest, None
        if rest is not None:
            rest()

    def close_registry(self) -> None:
        """Let go of the registry (its database connections, or the service's HTTP connections)."""
        if self.registry is not None:
            self.registry.close()
        close = getattr(self.port, "close", None)
        if self.registry is None and close is not None:
            close()


def build_kiosk(settings: Settings, clock: "Clock | None" = None, origins: "dict[str, str] | None" = None,
                *, deferred: bool = False) -> Kiosk:
    """Build the session and its collaborators from the settings (no UI); `origins` says where each setting came from.

    Args:
        deferred: leave the registry to `kiosk.opening`, which start_services runs (the kiosk's
            first screen is up sooner; see ecard_kiosk.opening). Otherwise it is opened here, and
            the reader is connected to the session at once.
    """
    from devices.service import ReaderCardService
    from kiosk.health import CONFIGURATION, initial_region
    from kiosk.ports import OffsetClock, SystemClock
    from kiosk.session import KioskSession

    if clock is None:
        # The tester panel jumps this clock (idle timeouts, QR expiry, card expiry); a real kiosk's is fixed.
        clock = OffsetClock() if settings.reader == "simulated" and settings.tester_panel else SystemClock()
    if not settings.region_file.exists():
        raise StartupError(f"setting 'region': no rule file {settings.region_file}")
    side = build_card_side(settings)
    if not deferred or not settings.registry_is_local:
        load_bench(side.bench)  # a deferred kiosk's opening reads the tester's card profiles after its first screen
    # The rules are read now, even for a deferred kiosk: the welcome screen states their age limit.
    # A rule file that does not load leaves the kiosk out of service until the monitor finds it usable.
    region = initial_region(settings.region_file)
    if not settings.registry_is_local:
        return build_service_kiosk(settings, clock, side, region, origins or {})
    pending = PendingRegistry(settings.resolved_database_url) if deferred else None
    if pending is not None:
        registry, prepare = cast("Registry", pending), None
    else:
        registry, prepare = open_registry_lazily(settings, clock)
    # A deferred kiosk makes its port at the first call: the registry's code loads after the first screen.
    if pending is not None:
        port = cast("RegistryPort", DeferredPort(lambda: local_port(settings, registry, region)))
    else:
        port = local_port(settings, registry, region)
    session = KioskSession(ReaderCardService(side.reader, side.key_holder_factory), port, region, clock,
                           session_policy(settings))
    if side.bench is not None:
        side.bench.phone = lambda code: registry.activate(code)  # the tester panel plays the guardian's phone at the QR
    if region is None:
        session.out_of_service(CONFIGURATION)
    kiosk = Kiosk(settings, session, side.bench, registry, side.reader, port=port)

    def build_rest() -> None:
        kiosk.maintenance = build_maintenance(settings, session, registry, side, clock, origins or {})
        kiosk.voice = attach_voice(settings, session)

    if pending is not None:
        kiosk.rest = build_rest  # the welcome needs neither; built once it is on the terminal (build_app)
        kiosk.opening = BackgroundOpening(kiosk, pending, clock)
    else:
        build_rest()
        connect_opened(kiosk, registry, prepare)
    return kiosk


def session_policy(settings: Settings) -> "SessionPolicy":
    from kiosk.session import SessionPolicy

    return SessionPolicy(
        kiosk_id=settings.kiosk_id,
        language=settings.language,
        activation_url_base=settings.activation_url_base,
        activation_ttl_seconds=settings.activation_ttl_seconds,
        activation_max_renewals=settings.activation_max_renewals,
        idle_timeout_seconds=settings.idle_timeout_seconds,
        step_idle_seconds=dict(settings.step_idle_seconds),
        idle_warning_seconds=settings.idle_warning_seconds,
        farewell_seconds=settings.farewell_seconds,
        poll_seconds=settings.activation_poll_seconds,
        work_deadline_seconds=settings.work_deadline_seconds,
    )


def local_port(settings: Settings, registry: "Registry", region: "Region | None") -> "LocalRegistry":
    """The registry port in-process over the embedded registry: the session's rules, tickets as the settings say.

    `registry` may still be opening (a PendingRegistry): the port reads it only when a call comes.
    """
    from kiosk.registry import LocalRegistry, TicketPolicy

    policy = TicketPolicy(settings.activation_url_base, settings.activation_ttl_seconds, settings.activation_poll_seconds)
    # No rules (the file does not load) keeps the kiosk out of service: nothing is judged until the monitor has them.
    return LocalRegistry(registry, cast("Region", region), policy)


def build_service_kiosk(settings: Settings, clock: "Clock", side: CardSide, region: "Region | None",
                        origins: dict[str, str]) -> Kiosk:
    """A kiosk whose registry is the registry service: the HTTP adapter, named by this kiosk's credential.

    Nothing is asked of the service here: the monitor's first check (start_services) finds whether it answers and
    takes the credential, and keeps the kiosk out of service with the reason until it does.
    """
    from ecard_kiosk.services import connect_service
    from kiosk.errors import KioskError
    from kiosk.health import SERVICE_UNREACHABLE
    from kiosk.maintenance.managed import ManagedByService
    from kiosk.registry.credential import read_credential
    from kiosk.session import KioskSession
    from devices.service import ReaderCardService

    try:
        credential = read_credential(settings.registry_credential_file)
    except KioskError as exc:
        raise StartupError(f"setting 'registry_credential_file': {exc.detail}") from None

    def service_port() -> "RegistryPort":
        # httpx and pydantic load with the first call (the monitor's first check, after the first screen).
        from kiosk.registry.service_client import ServiceRegistry

        return ServiceRegistry(settings.registry, credential)

    port = cast("RegistryPort", DeferredPort(service_port))
    # Out of service until the monitor's first check finds the service (connect_service).
    session = KioskSession(ReaderCardService(side.reader, side.key_holder_factory), port, region, clock,
                           session_policy(settings), out_of_service=(SERVICE_UNREACHABLE,))
    if side.bench is not None:
        from kiosk.registry.phone_client import ServicePhone

        # The tester panel plays the guardian's phone: the service's phone route, as the holder of the card in.
        side.bench.phone = ServicePhone(settings.registry, side.bench.holder_resident_id)
    if region is None:
        from kiosk.health import CONFIGURATION

        session.out_of_service(CONFIGURATION)
    maintenance = build_maintenance(settings, session, ManagedByService(port, settings.registry), side, clock, origins)
    kiosk = Kiosk(settings, session, side.bench, None, side.reader, attach_voice(settings, session),
                  maintenance=maintenance, port=port)
    kiosk.heartbeat = build_heartbeat(settings, session, port, side, maintenance)
    connect_service(kiosk, port)
    return kiosk


def build_heartbeat(settings: Settings, session: "KioskSession", port: "ServiceRegistry", side: CardSide,
                    maintenance: "MaintenanceMode") -> "HeartbeatSender":
    """The heartbeat to the registry service: this kiosk's version, settings fingerprint, reader and PSAM states."""
    from ecard_kiosk.card_side import psam_state, reader_state
    from kiosk.fleet import HeartbeatSender, settings_fingerprint
    from kiosk.settings import CREDENTIAL_KEYS, SECRET_SETTINGS

    # Both are made for the first heartbeat, after the first screen: importlib.metadata and hashlib wait till then.
    return HeartbeatSender(
        session, port,
        version=heartbeat_version,
        fingerprint=lambda: settings_fingerprint(settings.as_dict(), frozenset(CREDENTIAL_KEYS) | SECRET_SETTINGS),
        interval_seconds=settings.heartbeat_seconds,
        door=maintenance.door,
        reader_state=lambda: reader_state(side.reader),
        psam_state=lambda: psam_state(side),
    )


def heartbeat_version() -> str:
    """The version the heartbeat reports: the installed package's ("0+unknown" from a bare checkout, still a version
    the service takes)."""
    from kiosk.automation import kiosk_version

    version = kiosk_version()
    return version if version[:1].isdigit() else "0+unknown"


def build_maintenance(settings: Settings, session: "KioskSession", registry: "Registry | ManagedByService",
                      side: CardSide, clock: "Clock", origins: dict[str, str]) -> "MaintenanceMode":
    """The technicians' maintenance mode, with the reader diagnostics for this kind of reader.

    With the registry service, `registry` is ManagedByService: the console's registry pages say the service manages
    them, and the technicians' events are audited through the service.
    """
    from devices.diagnostics import PcscDiagnostics, SimulatedDiagnostics
    from kiosk.logbook import LOG_NAME
    from kiosk.maintenance import MaintenanceMode, TechnicianDoor, parse_key_sequence
    from kiosk.maintenance.door import STATE_FILE_NAME

    diagnostics_type = PcscDiagnostics if settings.reader == "pcsc" else SimulatedDiagnostics
    diagnostics = diagnostics_type(side.reader, side.psam_reader, side.key_holder_factory, clock)  # type: ignore[arg-type]
    # A lambda, not registry.audit: a deferred kiosk's registry is not there to be read until after the first screen.
    door = TechnicianDoor(settings.technicians, clock, lambda kind, detail: registry.audit(kind, detail),
                          state_file=settings.data_dir / STATE_FILE_NAME)
    return MaintenanceMode(
        session, registry, door, clock,
        key_sequence=parse_key_sequence(settings.maintenance_key_sequence),
        idle_seconds=settings.maintenance_idle_seconds,
        purge_hours=settings.ticket_purge_hours,
        diagnostics=diagnostics,
        settings=settings.as_dict(),
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


def build_app(kiosk: Kiosk, windowed: bool = False, on_first_screen: "Callable[[], None] | None" = None,
              stylesheet_folder: "Path | None" = None) -> "KioskApp":
    """The Textual app for a built kiosk; the same factory serves the CLI and the tests.

    Args:
        on_first_screen: called once the first screen is on the terminal (the CLI starts the
            services there: see ecard_kiosk.opening).
        stylesheet_folder: keep the parsed stylesheet in this folder between starts (screens.stylesheet_cache);
            None: parse it at every start.
    """
    from screens.app import KioskApp

    settings = kiosk.settings
    app = KioskApp(
        kiosk.session,
        tester=kiosk.bench if settings.tester_panel else None,
        kiosk_mode=not windowed,
        repeat_prompt=kiosk.repeat_prompt,
        keypad_shuffled=settings.keypad_shuffled,
        maintenance=kiosk.maintenance,
        simulated_pin_pad=kiosk.bench.pin_pad if kiosk.bench is not None else None,
    )
    if stylesheet_folder is not None:
        from screens.stylesheet_cache import use_stored_stylesheet

        use_stored_stylesheet(app, stylesheet_folder)
    if on_first_screen is not None or kiosk.rest is not None:
        def first_screen_up() -> None:
            if kiosk.rest is not None:
                kiosk.finish()  # the maintenance mode and the voice, left to now by a deferred build_kiosk
                app.maintenance, app.repeat_prompt = kiosk.maintenance, kiosk.repeat_prompt
            if on_first_screen is not None:
                on_first_screen()

        # Queued before the app runs: Textual delivers it once the app is up, then it waits for the
        # first refresh, so the first screen is on the terminal before anything else starts.
        app.call_later(app.call_after_refresh, first_screen_up)
    return app
