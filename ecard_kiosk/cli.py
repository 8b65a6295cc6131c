"""Provides the kiosk's command line: the parser, the settings it selects, and main(), which runs one command."""
from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Sequence

from ecard_kiosk.errors import StartupError
from kiosk.settings import Settings, SettingsError, load_settings

USAGE_EXAMPLES = """\
examples:
  {prog}                          the kiosk on the embedded defaults
  {prog} --card zhang-wei-3.00    ... with a virtual card already inserted
  {prog} --language en            ... starting in English
  {prog} activate KBCD-FGHJ       play the guardian's phone: activate by code or URL
  {prog} activate --as 430102198803150016 KBCD-FGHJ   ... as that signed-in guardian
  {prog} card serve li-na-2.00    a virtual card joins pcscd through vpcd (Ctrl+C removes it)
  {prog} card read --pin          read the card in a PC/SC reader and check its PIN
  {prog} readers --watch          PC/SC readers and timestamped card events
  {prog} --reader pcsc            the kiosk on the real PC/SC stack
  {prog} technician hash --id T0001   make a technician's PIN hash for the settings
  {prog} automate --manual-clock  drive the kiosk headless: JSON lines on stdin/stdout
"""
COMMANDS = ("run", "activate", "card", "readers", "technician", "automate")


def program_name(argv0: str) -> str:
    """How the operator started the kiosk, for usage lines: `python kiosk.py`, `ecard-kiosk`, `python -m ecard_kiosk`."""
    name = Path(argv0).name
    return {"kiosk.py": "python kiosk.py", "__main__.py": "python -m ecard_kiosk", "": "ecard-kiosk"}.get(name, name)


def build_parser(prog: str = "python kiosk.py") -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=prog,
        description="Child e-card kiosk: a guardian registers a child's electronic social security card.",
        epilog=USAGE_EXAMPLES.format(prog=prog),
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--config", type=Path, help="a settings file overriding the embedded defaults (config/kiosk.toml)")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND")

    run = commands.add_parser("run", help="run the kiosk (the default)")
    run.add_argument("--card", metavar="PROFILE", help="simulated reader: start with this virtual card inserted")
    run.add_argument("--language", choices=("zh", "en"), help="the language sessions start in")
    run.add_argument("--reader", choices=("simulated", "pcsc"), help="which card reader to use")
    run.add_argument("--windowed", action="store_true",
                     help="development mode: Ctrl+Q quits and errors show their traceback")

    activate = commands.add_parser("activate", help="play the guardian's phone: activate a QR code or user code")
    activate.add_argument("code", nargs="+", help="the URL in the QR code, or the code typed under it (e.g. KBCD-FGHJ); "
                          "spaces and line breaks in it are ignored")
    activate.add_argument("--as", dest="phone_user", metavar="RESIDENT_ID",
                          help="the phone app's signed-in user: only the guardian the code was issued to succeeds")
    activate.add_argument("--service", metavar="URL",
                          help="activate through the registry service at URL (e.g. http://192.168.1.20:8080) instead of "
                               "the kiosk's own registry; needs --as")

    card = commands.add_parser("card", help="virtual cards over vpcd, and reading cards through PC/SC")
    card_commands = card.add_subparsers(dest="card_command", metavar="CARD_COMMAND", required=True)
    serve = card_commands.add_parser("serve", help="put a virtual card (or PSAM) into vpcd until Ctrl+C")
    serve.add_argument("profile", help="a virtual card profile name (e.g. zhang-wei-3.00, psam-test)")
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
                          help="a settings file overriding the embedded defaults")
    return parser


def parse_args(argv: Sequence[str], prog: str = "python kiosk.py") -> argparse.Namespace:
    argv = list(argv)
    known = {*COMMANDS, "-h", "--help"}
    # `kiosk.py --card X` means `kiosk.py run --card X`; --config may stand before the command.
    head = argv[2:] if argv[:1] == ["--config"] else argv
    if not head or head[0] not in known:
        argv.insert(len(argv) - len(head), "run")
    return build_parser(prog).parse_args(argv)


def settings_from(args: argparse.Namespace) -> Settings:
    return load_settings(args.config, overrides=overrides_from(args)).settings


def overrides_from(args: argparse.Namespace) -> dict[str, object]:
    """The settings given on the command line (strongest of all)."""
    return {key: getattr(args, key) for key in ("language", "reader") if getattr(args, key, None)}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command `argv` names (the kiosk itself by default); returns the exit status."""
    args = parse_args(sys.argv[1:] if argv is None else argv, program_name(sys.argv[0] if sys.argv else ""))
    from ecard_kiosk import commands

    handlers = {"activate": commands.command_activate, "card": commands.command_card,
                "readers": commands.command_readers, "technician": commands.command_technician,
                "automate": commands.command_automate}
    try:
        return handlers.get(args.command, commands.command_run)(args)
    except (SettingsError, StartupError) as exc:
        print(f"kiosk: {exc}", file=sys.stderr)
        return 2
    except commands.ToolFailed as exc:  # the card and reader tools' one-line failures
        print(f"kiosk: {exc}", file=sys.stderr)
        return 1
