#!/usr/bin/env python3
"""Provides the composition root: the command line, the settings, and the kiosk built from them."""
from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Sequence

from kiosk.errors import KioskError
from kiosk.settings import Settings, SettingsError, load_settings

USAGE_EXAMPLES = """\
examples:
  python kiosk.py                          the kiosk on the embedded defaults
  python kiosk.py --card zhang-wei-3.00    ... with a virtual card already inserted
  python kiosk.py --language en            ... starting in English
  python kiosk.py activate KBCD-FGHJ       play the guardian's phone: activate by code or URL
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
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    argv = list(argv)
    known = {"run", "activate", "-h", "--help"}
    # `kiosk.py --card X` means `kiosk.py run --card X`; --config may stand before the command.
    head = argv[2:] if argv[:1] == ["--config"] else argv
    if not head or head[0] not in known:
        argv.insert(len(argv) - len(head), "run")
    return build_parser().parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    overrides = {key: getattr(args, key) for key in ("language", "reader") if getattr(args, key, None)}
    return load_settings(args.config, overrides=overrides).settings


@dataclass
class Kiosk:
    """Everything a running kiosk is made of."""

    settings: Settings
    session: "object"
    bench: "object | None"
    registry: "object"
    reader: "object"


def open_registry(settings: Settings, clock: "object") -> "object":
    """Open (and on first run create and fill) the registry."""
    from kiosk.registry import Registry, load_demo
    from kiosk import CONFIG_DIR

    try:
        registry = Registry.open(settings.resolved_database_url, clock, kiosk_id=settings.kiosk_id)
        registry.create_all()
        if settings.demo_data and registry.is_empty():
            load_demo(registry, CONFIG_DIR / "demo" / "registry.toml")
    except KioskError as exc:
        raise StartupError(f"the database at {settings.resolved_database_url} cannot be used: {exc.detail}") from None
    return registry


def build_kiosk(settings: Settings, clock: "object | None" = None) -> Kiosk:
    """Build the session and its collaborators from the settings (no UI)."""
    from devices.profiles import load_profiles, psam_master_key
    from devices.psam import VirtualPsam, psam_key_holder_factory
    from devices.service import ReaderCardService
    from devices.simulated import SimulatedBench, SimulatedReader
    from kiosk.eligibility import RegionFileError, load_region
    from kiosk.ports import SystemClock
    from kiosk.session import KioskSession, SessionPolicy

    clock = clock or SystemClock()
    try:
        region = load_region(settings.region_file)
    except (RegionFileError, OSError) as exc:
        raise StartupError(f"setting 'region': {exc}") from None
    registry = open_registry(settings, clock)

    if settings.reader == "pcsc":
        raise StartupError("setting 'reader': the PC/SC reader is not available in this build; use 'simulated'")
    try:
        profiles = load_profiles(settings.card_profiles_dir)
    except (ValueError, OSError) as exc:
        raise StartupError(f"setting 'card_profiles_dir': {exc}") from None
    reader = SimulatedReader("Simulated reader 00")
    psam_reader = SimulatedReader("Simulated PSAM slot 01")
    master_key = psam_master_key(profiles)
    if settings.simulated_psam:
        profile = profiles.get(settings.simulated_psam)
        if profile is None or profile.kind != "psam":
            raise StartupError(f"setting 'simulated_psam': no PSAM profile named {settings.simulated_psam!r}")
        psam_reader.insert(VirtualPsam.from_profile(profile))
    bench = SimulatedBench(reader, profiles, master_key)
    service = ReaderCardService(reader, psam_key_holder_factory(psam_reader) if settings.simulated_psam else lambda: None)

    session = KioskSession(
        service,
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
        ),
    )
    wire_reader(reader, session)
    return Kiosk(settings, session, bench, registry, reader)


def wire_reader(reader: "object", session: "object") -> None:
    """Reader events become session events (on the reader's thread; the session is thread-safe)."""
    from devices.reader import ReaderEventKind

    def on_event(event: "object") -> None:
        if event.kind is ReaderEventKind.CARD_INSERTED:
            session.card_inserted()
        elif event.kind is ReaderEventKind.CARD_REMOVED:
            session.card_removed()

    reader.add_listener(on_event)


def build_app(kiosk: Kiosk, windowed: bool = False) -> "object":
    """The Textual app for a built kiosk; the same factory serves the CLI and the tests."""
    from screens.app import KioskApp

    settings = kiosk.settings
    return KioskApp(
        kiosk.session,
        poll_seconds=settings.activation_poll_seconds,
        farewell_seconds=settings.farewell_seconds,
        tester=kiosk.bench if settings.tester_panel else None,
        kiosk_mode=not windowed,
    )


def command_run(args: argparse.Namespace) -> int:
    from kiosk.logbook import configure_logging

    settings = settings_from(args)
    try:
        configure_logging(settings.data_dir, settings.log_level)
    except OSError as exc:
        raise StartupError(f"setting 'data_dir': cannot write logs under {settings.data_dir}: {exc.strerror}") from None
    kiosk = build_kiosk(settings)
    if args.card:
        if kiosk.bench is None:
            raise StartupError("--card works with the simulated reader only")
        names = [choice.name for choice in kiosk.bench.choices()]
        if args.card not in names:
            raise StartupError(f"--card: no virtual card profile {args.card!r}; profiles: {', '.join(names)}")
        kiosk.bench.insert(args.card)
    app = build_app(kiosk, windowed=args.windowed)
    app.run()
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


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    try:
        if args.command == "activate":
            return command_activate(args)
        return command_run(args)
    except (SettingsError, StartupError) as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
