#!/usr/bin/env python3
"""Provides the composition root: the command line, the settings, and the kiosk built from them."""
from __future__ import annotations

import argparse
import threading
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Callable, Sequence

from kiosk.errors import KioskError
from kiosk.settings import Settings, SettingsError, load_settings

if TYPE_CHECKING:
    from devices.psam import KeyHolder
    from devices.reader import CardReader, ReaderEvent
    from devices.simulated import SimulatedBench
    from kiosk.health import ServiceMonitor
    from kiosk.maintenance import MaintenanceMode
    from kiosk.ports import Clock
    from kiosk.registry import Registry
    from kiosk.session import KioskSession
    from kiosk.voice import VoicePrompter
    from screens.app import KioskApp

USAGE_EXAMPLES = """\
examples:
  python kiosk.py                          the kiosk on the embedded defaults
  python kiosk.py --card zhang-wei-3.00    ... with a virtual card already inserted
  python kiosk.py --language en            ... starting in English
  python kiosk.py activate KBCD-FGHJ       play the guardian's phone: activate by code or URL
  python kiosk.py card serve li-na-2.00    a virtual card joins pcscd through vpcd (Ctrl+C removes it)
  python kiosk.py card read --pin          read the card in a PC/SC reader and check its PIN
  python kiosk.py readers --watch          PC/SC readers and timestamped card events
  python kiosk.py --reader pcsc            the kiosk on the real PC/SC stack
  python kiosk.py technician hash --id T0001   make a technician's PIN hash for the settings
  python kiosk.py automate --manual-clock  drive the kiosk headless: JSON lines on stdin/stdout
"""


class StartupError(Exception):
    """Something that stops the kiosk from starting; the message is one line for the operator."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="kiosk.py",
        description="Child e-card kiosk: a guardian registers a child's electronic social security card.",
        epilog=USAGE_EXAMPLES,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="a settings file overriding config/kiosk.toml")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run the kiosk (the default)")
    run.add_argument("--card", metavar="PROFILE", help="simulated reader: start with this virtual card inserted")
    run.add_argument("--language", choices=("zh", "en"), help="the language sessions start in")
    run.add_argument("--reader", choices=("simulated", "pcsc"), help="which card reader to use")
    run.add_argument("--windowed", action="store_true",
                     help="development mode: Ctrl+Q quits and errors show their traceback")

    activate = commands.add_parser("activate", help="play the guardian's phone: activate a QR code or user code")
    activate.add_argument("code", help="the URL in the QR code, or the code typed under it (e.g. KBCD-FGHJ)")

    card = commands.add_parser("card", help="virtual cards over vpcd, and reading cards through PC/SC")
    card_commands = card.add_subparsers(dest="card_command", metavar="CARD_COMMAND", required=True)
    serve = card_commands.add_parser("serve", help="put a virtual card (or PSAM) into vpcd until Ctrl+C")
    serve.add_argument("profile", help="a profile name from config/cards/ (e.g. zhang-wei-3.00, psam-test)")
    serve.add_argument("--slot", type=int, default=0, help="vpcd slot: 0 (port 35963, default) or 1 (35964)")
    read = card_commands.add_parser("read", help="read the card in a PC/SC reader")
    read.add_argument("--reader", dest="reader_pattern", default=None,
                      help="part of the reader's name (default: the reader_name setting)")
    read.add_argument("--psam-reader", default=None, help="part of the PSAM reader's name (default: the psam_reader setting)")
    read.add_argument("--json", action="store_true", help="print JSON")
    read.add_argument("--pin", action="store_true", help="ask for the PIN on the terminal and verify it")
    read.add_argument("--unmasked", action="store_true", help="show names and numbers in full")

    readers = commands.add_parser("readers", help="list PC/SC readers, cards and ATRs")
    readers.add_argument("--watch", action="store_true", help="then print timestamped reader and card events")

    technician = commands.add_parser("technician", help="maintenance technicians: make a PIN hash for the settings")
    technician_commands = technician.add_subparsers(dest="technician_command", metavar="TECHNICIAN_COMMAND",
                                                    required=True)
    make_hash = technician_commands.add_parser("hash", help="ask a PIN twice and print its salted hash to paste")
    make_hash.add_argument("--id", dest="technician_id", help="the technician ID, to print a ready `ID = \"hash\"` line")
    make_hash.add_argument("--scheme", choices=("scrypt", "pbkdf2_sha256"), default="scrypt", help="hash scheme")

    automate = commands.add_parser("automate", help="drive the kiosk headless: JSON-lines commands on stdin, messages on stdout")
    automate.add_argument("--manual-clock", action="store_true",
                          help="the kiosk's clock moves only on ADVANCE_CLOCK (idle and expiry tests)")
    automate.add_argument("--card", metavar="PROFILE", help="start with this virtual card inserted")
    automate.add_argument("--language", choices=("zh", "en"), help="the language sessions start in")
    automate.add_argument("--config", type=Path, default=argparse.SUPPRESS,
                          help="a settings file overriding config/kiosk.toml")
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    argv = list(argv)
    known = {"run", "activate", "card", "readers", "technician", "automate", "-h", "--help"}
    # `kiosk.py --card X` means `kiosk.py run --card X`; --config may stand before the command.
    head = argv[2:] if argv[:1] == ["--config"] else argv
    if not head or head[0] not in known:
        argv.insert(len(argv) - len(head), "run")
    return build_parser().parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(args.config, overrides=_overrides(args)).settings


def _overrides(args: argparse.Namespace) -> dict[str, object]:
    return {key: getattr(args, key) for key in ("language", "reader") if getattr(args, key, None)}


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


def open_registry(settings: Settings, clock: "Clock") -> "Registry":
    """Open (and on first run create and fill) the registry, now or never (for one-shot commands)."""
    registry, prepare = open_registry_lazily(settings, clock)
    if prepare is not None:
        try:
            prepare()
        except KioskError as exc:
            registry.close()
            raise StartupError(f"the database at {settings.resolved_database_url} cannot be used: {exc.detail}") from None
    return registry


def open_registry_lazily(settings: Settings, clock: "Clock") -> "tuple[Registry, Callable[[], None] | None]":
    """Open the registry; when the database does not answer yet, also return what makes it ready later.

    Raises:
        StartupError: for a database URL or SQLite file that can never work (a setting to fix).
    """
    from kiosk.registry import Registry, load_demo
    from kiosk import CONFIG_DIR

    try:
        registry = Registry.open(settings.resolved_database_url, clock, kiosk_id=settings.kiosk_id)
    except KioskError as exc:
        raise StartupError(f"the database at {settings.resolved_database_url} cannot be used: {exc.detail}") from None

    def prepare() -> None:
        registry.upgrade_schema()
        if settings.demo_data and registry.is_empty():
            load_demo(registry, CONFIG_DIR / "demo" / "registry.toml")

    try:
        prepare()
    except KioskError:
        return registry, prepare
    return registry, None


@dataclass
class CardSide:
    """The guardian's reader, where PSAM cryptograms come from, and the tester's bench (simulated only)."""

    reader: "CardReader"
    key_holder_factory: "Callable[[], KeyHolder | None]"
    bench: "SimulatedBench | None"
    psam_reader: "CardReader | None" = None


def build_simulated_side(settings: Settings) -> CardSide:
    """A simulated reader with virtual cards from the profiles, and a virtual PSAM in its own slot."""
    from devices.profiles import load_profiles, psam_master_key
    from devices.psam import VirtualPsam, psam_key_holder_factory
    from devices.simulated import SimulatedBench, SimulatedReader

    try:
        profiles = load_profiles(settings.card_profiles_dir)
    except (ValueError, OSError) as exc:
        raise StartupError(f"setting 'card_profiles_dir': {exc}") from None
    reader = SimulatedReader("Simulated reader 00")
    psam_reader: SimulatedReader | None = None
    key_holder_factory: Callable[[], KeyHolder | None] = lambda: None  # noqa: E731
    if settings.simulated_psam:
        profile = profiles.get(settings.simulated_psam)
        if profile is None or profile.kind != "psam":
            raise StartupError(f"setting 'simulated_psam': no PSAM profile named {settings.simulated_psam!r}")
        psam_reader = SimulatedReader("Simulated PSAM slot 01")
        psam_reader.insert(VirtualPsam.from_profile(profile))
        key_holder_factory = psam_key_holder_factory(psam_reader)
    return CardSide(reader, key_holder_factory, SimulatedBench(reader, profiles, psam_master_key(profiles)), psam_reader)


def build_pcsc_side(settings: Settings) -> CardSide:
    """The guardian's PC/SC reader (and PSAM slot) through pyscard and pcscd."""
    try:
        from devices.pcsc import PcscReader
    except ImportError as exc:
        raise StartupError(f"setting 'reader': PC/SC needs pyscard ({exc}); run `bash .ci/setup`") from None
    from devices.psam import psam_key_holder_factory

    reader = PcscReader(settings.reader_name, exclude_pattern=settings.psam_reader,
                        protocol=settings.reader_protocol, exclusive=settings.reader_exclusive)
    key_holder_factory: Callable[[], KeyHolder | None] = lambda: None  # noqa: E731
    psam = None
    if settings.psam_reader:
        psam = PcscReader(settings.psam_reader, protocol=settings.reader_protocol, exclusive=False)
        key_holder_factory = psam_key_holder_factory(psam)
    return CardSide(reader, key_holder_factory, None, psam)


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
    side = build_pcsc_side(settings) if settings.reader == "pcsc" else build_simulated_side(settings)
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


def start_reader(kiosk: Kiosk) -> None:
    """Start watching the reader (PC/SC); out of service until a usable reader shows up."""
    start = getattr(kiosk.reader, "start_monitoring", None)
    if start is None:
        return
    start()
    if not kiosk.reader.available:
        kiosk.session.out_of_service("READER_UNAVAILABLE")
    elif kiosk.reader.card_present():
        kiosk.session.card_inserted()


def start_services(kiosk: Kiosk) -> None:
    """Start the reader's watcher and the database and rule-file monitor."""
    start_reader(kiosk)
    if kiosk.monitor is not None:
        kiosk.monitor.start()


def stop_services(kiosk: Kiosk) -> None:
    """Stop what start_services started and let go of the card (shutdown)."""
    if kiosk.monitor is not None:
        kiosk.monitor.stop()
    stop_reader(kiosk)


def stop_reader(kiosk: Kiosk) -> None:
    """Stop watching and let go of the card and the PC/SC service (shutdown)."""
    kiosk.session.finish()
    close = getattr(kiosk.reader, "close", None)
    if close is not None:
        close()


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


def command_run(args: argparse.Namespace) -> int:
    from kiosk.logbook import configure_logging

    loaded = load_settings(args.config, overrides=_overrides(args))
    settings = loaded.settings
    try:
        configure_logging(settings.data_dir, settings.log_level)
    except OSError as exc:
        raise StartupError(f"setting 'data_dir': cannot write logs under {settings.data_dir}: {exc.strerror}") from None
    kiosk = build_kiosk(settings, origins=loaded.origins)
    if args.card:
        if kiosk.bench is None:
            raise StartupError("--card works with the simulated reader only")
        names = [choice.name for choice in kiosk.bench.choices()]
        if args.card not in names:
            raise StartupError(f"--card: no virtual card profile {args.card!r}; profiles: {', '.join(names)}")
        kiosk.bench.insert(args.card)
    app = build_app(kiosk, windowed=args.windowed)
    start_services(kiosk)
    try:
        app.run()
    finally:
        stop_services(kiosk)
        if kiosk.voice is not None:
            kiosk.voice.speaker.stop()
    return 0


def command_activate(args: argparse.Namespace) -> int:
    from kiosk.masking import mask_id
    from kiosk.messages import message
    from kiosk.ports import SystemClock

    settings = settings_from(args)
    registry = open_registry(settings, SystemClock())
    try:
        result = registry.activate(args.code)
    except KioskError as exc:
        entry = exc.entry
        print(f"{entry.code}: {entry.text.en} {entry.next_step.en}", file=sys.stderr)
        print(f"{entry.code}: {entry.text.zh}{entry.next_step.zh}", file=sys.stderr)
        return 1
    print(f"activated: e-card {result.ecard_id} for child {mask_id(result.child_resident_id)}")
    print(message("activated.heading", "zh"))
    return 0


def command_automate(args: argparse.Namespace) -> int:
    """The automation interface (kiosk/automation.py) on stdin/stdout, on the simulated reader."""
    import os

    from kiosk.automation import AutomationInterface
    from kiosk.logbook import configure_logging
    from kiosk.ports import ManualClock, SystemClock

    # Silent: a scripted run has nobody to speak to.
    settings = settings_from(args).model_copy(update={"voice_prompts": "off"})
    if settings.reader != "simulated":
        raise StartupError("automate works with the simulated reader only (setting 'reader' is 'pcsc')")
    try:
        configure_logging(settings.data_dir, settings.log_level)
    except OSError as exc:
        raise StartupError(f"setting 'data_dir': cannot write logs under {settings.data_dir}: {exc.strerror}") from None
    clock = ManualClock(SystemClock().now()) if args.manual_clock else SystemClock()
    kiosk = build_kiosk(settings, clock=clock)
    assert kiosk.bench is not None
    if args.card:
        names = [choice.name for choice in kiosk.bench.choices()]
        if args.card not in names:
            kiosk.registry.close()
            raise StartupError(f"--card: no virtual card profile {args.card!r}; profiles: {', '.join(names)}")
        kiosk.bench.insert(args.card)
    out = sys.stdout.buffer
    sys.stdout = sys.stderr  # stdout carries protocol lines and nothing else

    def write(line: str) -> None:
        out.write(line.encode("utf-8") + b"\n")
        out.flush()

    automation = AutomationInterface(
        kiosk.session, write, activate_code=kiosk.registry.activate, bench=kiosk.bench,
        manual_clock=clock if isinstance(clock, ManualClock) else None,
        service_check=kiosk.monitor.check if kiosk.monitor is not None else None,
        farewell_seconds=settings.farewell_seconds, kiosk_id=settings.kiosk_id, reader=settings.reader,
    )
    try:
        automation.run(sys.stdin.buffer)
    except BrokenPipeError:
        # The script stopped reading: end as at the end of its input (and keep Python from flushing into the pipe).
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    except KeyboardInterrupt:
        pass
    finally:
        stop_reader(kiosk)
        kiosk.registry.close()
    return 0


def command_card(args: argparse.Namespace) -> int:
    from devices import commands

    settings = settings_from(args)
    if args.card_command == "serve":
        stop = _stop_on_signals()
        commands.serve_card(settings.card_profiles_dir, args.profile, args.slot, print, stop)
        return 0
    report = commands.read_card(
        settings.reader_name if args.reader_pattern is None else args.reader_pattern,
        settings.psam_reader if args.psam_reader is None else args.psam_reader,
        settings.reader_protocol,
        ask_pin=args.pin,
        unmasked=args.unmasked,
    )
    if args.json:
        commands.dump_json(report.as_dict(), sys.stdout)
    else:
        print(report.as_text())
    return 0


def command_readers(args: argparse.Namespace) -> int:
    from devices import commands

    print(commands.list_readers_text(), flush=True)
    if args.watch:
        commands.watch_readers(lambda line: print(line, flush=True), _stop_on_signals())
    return 0


def command_technician(args: argparse.Namespace) -> int:
    """Ask a technician's PIN twice (not echoed) and print its salted hash for the `technicians` setting."""
    import getpass

    from kiosk.maintenance.passwords import TECHNICIAN_ID_PATTERN, hash_pin

    if args.technician_id is not None and not TECHNICIAN_ID_PATTERN.match(args.technician_id):
        raise StartupError("--id: 1 to 20 letters, digits, '-' or '_'")
    pin = getpass.getpass("Technician PIN (5 to 12 digits): ")
    if getpass.getpass("The same PIN again: ") != pin:
        print("kiosk: the two PINs differ; nothing made", file=sys.stderr)
        return 1
    try:
        stored = hash_pin(pin, scheme=args.scheme)
    except ValueError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 1
    finally:
        del pin
    print(f'{args.technician_id} = "{stored}"' if args.technician_id else stored)
    print("Paste it into the technicians setting: technicians = { ID = \"<hash>\", ... }", file=sys.stderr)
    return 0


def _stop_on_signals() -> threading.Event:
    """An event set by Ctrl+C or SIGTERM (set explicitly: a background job may inherit SIGINT ignored)."""
    import signal
    import threading

    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    return stop


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    from devices.commands import CommandError

    handlers = {"activate": command_activate, "card": command_card, "readers": command_readers, "technician": command_technician,
                "automate": command_automate}
    try:
        return handlers.get(args.command, command_run)(args)
    except (SettingsError, StartupError) as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    except CommandError as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
