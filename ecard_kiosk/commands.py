"""Provides the kiosk's commands: run the kiosk, drive it headless, play the phone, and the card and technician tools."""
from __future__ import annotations

import argparse
import contextlib
import gc
import os
import sys
import threading
from types import ModuleType
from typing import Iterator

from ecard_kiosk.build import build_app, build_kiosk
from ecard_kiosk.card_side import load_bench
from ecard_kiosk.cli import overrides_from, settings_from
from ecard_kiosk.errors import StartupError
from ecard_kiosk.services import open_registry, start_services, stop_reader, stop_services
from ecard_kiosk.watchdog import Notifier, watch_app
from kiosk.errors import KioskError
from kiosk.settings import Settings, load_settings


class ToolFailed(Exception):
    """A card or reader tool (devices.commands) could not do what was asked; the message is one line."""


@contextlib.contextmanager
def _card_tools() -> Iterator[ModuleType]:
    # devices.commands is imported by the tools that use it: the kiosk's own start-up needs none of it.
    from devices import commands

    try:
        yield commands
    except commands.CommandError as exc:
        raise ToolFailed(str(exc)) from None


def command_run(args: argparse.Namespace) -> int:
    # No garbage collection until the first screen is up: start-up makes objects that almost all live on (modules,
    # classes, styles, widgets), so the collector's passes over them there would free next to nothing and only hold
    # the screen back. It runs as usual from the first screen on (over what is made from then on: see first_screen).
    gc.disable()
    try:
        return _run_kiosk(args)
    finally:
        gc.enable()


def _run_kiosk(args: argparse.Namespace) -> int:
    loaded = load_settings(args.config, overrides=overrides_from(args))
    settings = loaded.settings
    _start_logging(settings)
    # The registry is opened once the welcome screen is up (ecard_kiosk.opening).
    kiosk = build_kiosk(settings, origins=loaded.origins, deferred=True)
    if args.card:
        if kiosk.bench is None:
            raise StartupError("--card works with the simulated reader only")
        load_bench(kiosk.bench)
        names = [choice.name for choice in kiosk.bench.choices()]
        if args.card not in names:
            raise StartupError(f"--card: no virtual card profile {args.card!r}; profiles: {', '.join(names)}")
        kiosk.bench.insert(args.card)

    def unusable(error: StartupError) -> None:
        # A setting found unusable after the first screen stops the kiosk as one found before it would.
        app.call_from_thread(app.exit, None, 2)

    notifier = Notifier.from_environment()

    def first_screen() -> None:
        # What start-up made is moved out of the collector's way (gc.freeze) before it runs again: its first pass
        # would otherwise scan all of it (tens of thousands of objects, tens of ms holding the GIL) just as the first
        # frame is on its way to the terminal (Textual's writer thread waits for the GIL), to free almost nothing.
        # The few cycles start-up left behind go at the app's first pass between visits, once the screen is drawn
        # (screens/collector.py: it thaws, collects everything, freezes again).
        gc.freeze()
        gc.enable()
        start_services(kiosk, on_failure=unusable)
        watch_app(app, notifier, kiosk.session)  # READY=1 now, then WATCHDOG=1 from the app's loop (under systemd only)

    from screens.stylesheet_cache import cache_folder

    app = build_app(kiosk, windowed=args.windowed, on_first_screen=first_screen,
                    stylesheet_folder=cache_folder(os.environ))
    try:
        app.run()
    finally:
        stop_services(kiosk)
        if kiosk.voice is not None:
            kiosk.voice.speaker.stop()
    if kiosk.opening is not None and kiosk.opening.failure is not None:
        raise kiosk.opening.failure
    return 0


def command_activate(args: argparse.Namespace) -> int:
    from kiosk.masking import mask_id
    from kiosk.messages import message
    from kiosk.ports import SystemClock

    presented = "".join(args.code)  # a URL pasted across lines arrives in pieces
    settings = settings_from(args)
    lang = args.language or settings.language
    if args.service or args.phone_user:
        return _activate_as(args, presented, lang)
    registry = open_registry(settings, SystemClock())
    try:
        result = registry.activate(presented)
    except KioskError as exc:
        _say_error(exc, lang)
        return 1
    finally:
        registry.close()
    print(_ACTIVATED[lang].format(heading=message("activated.heading", lang), ecard=result.ecard_id,
                                  child=mask_id(result.child_resident_id)))
    return 0


# `activate` speaks the kiosk's language (its `language` setting, or --language), one at a time: the
# catalogue code in front of every refusal stays the same in both, for scripts.
_ACTIVATED = {
    "zh": "{heading}（电子社保卡 {ecard}，孩子 {child}）",
    "en": "{heading} (activated: e-card {ecard} for child {child})",
}


def _say_error(exc: KioskError, lang: str) -> None:
    entry = exc.entry
    gap = "" if lang == "zh" else " "
    print(f"{entry.code}: {entry.text.get(lang)}{gap}{entry.next_step.get(lang)}", file=sys.stderr)


def _activate_as(args: argparse.Namespace, presented: str, lang: str) -> int:
    """The phone bound to its user: in-process on the kiosk's registry, or over HTTP to --service."""
    from kiosk.messages import message
    from kiosk.ports import SystemClock
    from kiosk.registry.phone import PhoneDesk
    from kiosk.registry.phone_client import activate_over_http
    from kiosk.registry.phone_words import OUTCOME_KEYS, answer_outcome

    if not args.phone_user:
        raise StartupError("--service needs --as <resident ID>: the service activates for a signed-in guardian only")
    try:
        if args.service:
            answer = activate_over_http(args.service, presented, args.phone_user)
        else:
            registry = open_registry(settings_from(args), SystemClock())
            try:
                answer = PhoneDesk(registry).activate(presented, args.phone_user, "kiosk.py activate")
            finally:
                registry.close()
    except KioskError as exc:
        _say_error(exc, lang)
        return 1
    if not answer.ok:
        shown = answer_outcome(answer)
        refusal = message(OUTCOME_KEYS[shown], lang, seconds=answer.retry_after_seconds)
        print(f"{answer.outcome}: {refusal}", file=sys.stderr)
        return 1
    print(_ACTIVATED[lang].format(heading=message("activated.heading", lang), ecard=answer.ecard_id,
                                  child=answer.child_masked_id))
    return 0


def command_automate(args: argparse.Namespace) -> int:
    """The automation interface (kiosk/automation.py) on stdin/stdout, on the simulated reader."""
    import os

    from kiosk.automation import AutomationInterface
    from kiosk.ports import ManualClock, SystemClock

    # Silent: a scripted run has nobody to speak to.
    settings = settings_from(args).replaced(voice_prompts="off")
    if not settings.registry_is_local:
        raise StartupError("automate plays the guardian's phone on the embedded registry: setting 'registry' must be "
                           "\"local\"")
    if settings.reader != "simulated":
        raise StartupError("automate works with the simulated reader only (setting 'reader' is 'pcsc')")
    _start_logging(settings)
    clock = ManualClock(SystemClock().now()) if args.manual_clock else SystemClock()
    kiosk = build_kiosk(settings, clock=clock)
    assert kiosk.bench is not None
    if args.card:
        names = [choice.name for choice in kiosk.bench.choices()]
        if args.card not in names:
            kiosk.close_registry()
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
        kiosk_id=settings.kiosk_id, reader=settings.reader,
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
        kiosk.close_registry()
    return 0


def command_card(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    with _card_tools() as commands:
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
    with _card_tools() as commands:
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


def _start_logging(settings: Settings) -> None:
    from kiosk.logbook import configure_logging, journal_socket

    try:
        configure_logging(settings.data_dir, settings.log_level, journal=journal_socket())
    except OSError as exc:
        raise StartupError(f"setting 'data_dir': cannot write logs under {settings.data_dir}: {exc.strerror}") from None


def _stop_on_signals() -> threading.Event:
    """An event set by Ctrl+C or SIGTERM (set explicitly: a background job may inherit SIGINT ignored)."""
    import signal

    stop = threading.Event()
    for number in (signal.SIGINT, signal.SIGTERM):
        signal.signal(number, lambda *_: stop.set())
    return stop
