"""Provides the `ecard-registry` command: serve the registry, upgrade or show its schema, manage kiosk credentials, technicians and operators."""
from __future__ import annotations

#     ecard-registry serve [--host H] [--port P] [--workers N]
#     ecard-registry upgrade | status
#     ecard-registry kiosk add KIOSK-ID          # prints the new credential once
#     ecard-registry kiosk revoke KIOSK-ID [--reason TEXT]
#     ecard-registry kiosk list
#     ecard-registry technician add T0001 [--pin-stdin] | revoke T0001 | list
#     ecard-registry operator add OPS-1 [--password-stdin] | remove OPS-1 | unlock OPS-1 | list
#
# A PIN or password is asked twice, not echoed; with --pin-stdin / --password-stdin one line is read
# from standard input instead (for scripts). Only salted scrypt hashes are kept.
#
# Settings: registry_service/registry.toml, a file given with --config, ECARD_REGISTRY_* variables.
# Exit status: 0 done; 1 the schema is behind (status) or a credential command could not be done;
# 2 unusable settings, database or schema (one line on stderr, never a traceback).

import argparse
import re
import sys
from pathlib import Path
from typing import Any, Sequence

from kiosk.errors import KioskError
from registry_service.credentials import KIOSK_ID_PATTERN, CredentialProblem
from registry_service.operators import OperatorProblem
from registry_service.technicians import TechnicianProblem
from registry_service.settings import ServiceSettings, ServiceSettingsError, load_service_settings

PROG = "ecard-registry"


class SecretNotGiven(Exception):
    """A PIN or password that was not given (the two typed differ, or standard input had none)."""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description=__doc__.splitlines()[0])
    parser.add_argument("--config", type=Path, help="a settings file with the keys of registry_service/registry.toml")
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the service (uvicorn) until Ctrl+C")
    serve.add_argument("--host", help="listen address (setting host)")
    serve.add_argument("--port", help="listen port (setting port)")
    serve.add_argument("--workers", help="uvicorn worker processes (setting workers)")
    commands.add_parser("upgrade", help="bring the database's schema to this release's (Alembic migrations)")
    commands.add_parser("status", help="where the database's schema stands")
    kiosk = commands.add_parser("kiosk", help="kiosk credentials")
    kiosk_commands = kiosk.add_subparsers(dest="kiosk_command", required=True)
    add = kiosk_commands.add_parser("add", help="make a kiosk's credential and print it once")
    add.add_argument("kiosk_id")
    revoke = kiosk_commands.add_parser("revoke", help="revoke a kiosk's credential (the kiosk is refused from then on)")
    revoke.add_argument("kiosk_id")
    revoke.add_argument("--reason", default="", help="told to the kiosk's technician (up to 200 characters)")
    kiosk_commands.add_parser("list", help="every kiosk credential: kiosk, made, revoked")
    technician = commands.add_parser("technician", help="technician accounts (kiosks fetch them with their heartbeat)")
    technician_commands = technician.add_subparsers(dest="technician_command", required=True)
    add = technician_commands.add_parser("add", help="a technician's maintenance PIN (5 to 12 digits), asked twice")
    add.add_argument("technician_id")
    add.add_argument("--pin-stdin", action="store_true", help="read the PIN from one line of standard input")
    revoke = technician_commands.add_parser("revoke", help="revoke a technician (kiosks drop them at the next heartbeat)")
    revoke.add_argument("technician_id")
    technician_commands.add_parser("list", help="every technician account: ID, made, revoked")
    operator = commands.add_parser("operator", help="operator accounts of the console (/console)")
    operator_commands = operator.add_subparsers(dest="operator_command", required=True)
    add = operator_commands.add_parser("add", help="an operator with a password (10 to 128 characters), asked twice")
    add.add_argument("operator_id")
    add.add_argument("--password-stdin", action="store_true", help="read the password from one line of standard input")
    for name, says in (("remove", "remove an operator and end their sessions"),
                       ("unlock", "lift the lock after too many wrong passwords")):
        operator_commands.add_parser(name, help=says).add_argument("operator_id")
    operator_commands.add_parser("list", help="every operator: ID, made, wrong tries, locked")
    return parser


def _overrides(args: argparse.Namespace) -> dict[str, Any]:
    return {key: getattr(args, key) for key in ("host", "port", "workers") if getattr(args, key, None) is not None}


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        overrides = _overrides(args)
        settings = load_service_settings(args.config, overrides=overrides)
        if args.command == "serve":
            from registry_service.server import serve

            return serve(settings, args.config, overrides)
        if args.command in ("upgrade", "status"):
            return _schema(settings, args.command)
        if args.command == "technician":
            return _technician(settings, args)
        if args.command == "operator":
            return _operator(settings, args)
        return _kiosk(settings, args)
    except (TechnicianProblem, OperatorProblem, SecretNotGiven) as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except ServiceSettingsError as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 2
    except KioskError as exc:
        print(f"{PROG}: {exc.detail or exc.code}", file=sys.stderr)
        return 2
    except CredentialProblem as exc:
        print(f"{PROG}: {exc}", file=sys.stderr)
        return 1
    except OSError as exc:  # the listen address taken, a file that cannot be read
        print(f"{PROG}: {exc.strerror or exc}", file=sys.stderr)
        return 2


def _schema(settings: ServiceSettings, action: str) -> int:
    from kiosk.registry import schema
    from registry_service.service import UPGRADE_COMMAND, open_database

    database = open_database(settings)
    try:
        status = schema.upgrade(database) if action == "upgrade" else schema.schema_status(database)
    finally:
        database.dispose()
    print(f"registry schema: {status.advice(UPGRADE_COMMAND)}")
    return {"current": 0, "behind": 1}.get(status.state, 2)


def _kiosk(settings: ServiceSettings, args: argparse.Namespace) -> int:
    from registry_service.service import Service

    if args.kiosk_command in ("add", "revoke") and not re.match(KIOSK_ID_PATTERN, args.kiosk_id):
        print(f"{PROG}: kiosk ID {args.kiosk_id!r} must be 1 to 40 letters, digits, '.', '_' or '-'", file=sys.stderr)
        return 2
    service = Service.open(settings)
    try:
        credentials = service.credentials
        if args.kiosk_command == "add":
            secret = credentials.add(args.kiosk_id)
            print(secret)
            print(f"the credential of kiosk {args.kiosk_id} (shown only now: put it in the kiosk's credential file)",
                  file=sys.stderr)
        elif args.kiosk_command == "revoke":
            credentials.revoke(args.kiosk_id, args.reason)
            print(f"kiosk {args.kiosk_id}: credential revoked")
        else:
            for record in credentials.records():
                revoked = (f"revoked {record.revoked_at:%Y-%m-%d %H:%M} ({record.revoked_reason})"
                           if record.revoked_at else "live")
                print(f"{record.kiosk_id:<40} made {record.created_at:%Y-%m-%d %H:%M}  {revoked}")
    finally:
        service.close()
    return 0


def _secret(what: str, from_stdin: bool) -> str:
    """A PIN or password: one line of standard input, or asked twice without echo.

    Raises:
        SecretNotGiven: the two differ, or standard input is empty.
    """
    if from_stdin:
        line = sys.stdin.readline().rstrip("\r\n")
        if not line:
            raise SecretNotGiven(f"no {what} on standard input; nothing made")
        return line
    import getpass

    secret = getpass.getpass(f"{what[0].upper()}{what[1:]}: ")
    if getpass.getpass(f"The same {what} again: ") != secret:
        raise SecretNotGiven(f"the two {what}s differ; nothing made")
    return secret


def _technician(settings: ServiceSettings, args: argparse.Namespace) -> int:
    from registry_service.service import Service

    service = Service.open(settings)
    try:
        technicians = service.technicians
        if args.technician_command == "add":
            technicians.add(args.technician_id, _secret("technician PIN (5 to 12 digits)", args.pin_stdin))
            print(f"technician {args.technician_id}: added (kiosks fetch it at their next heartbeat)")
        elif args.technician_command == "revoke":
            technicians.revoke(args.technician_id)
            print(f"technician {args.technician_id}: revoked (kiosks drop it at their next heartbeat)")
        else:
            for record in technicians.records():
                revoked = f"revoked {record.revoked_at:%Y-%m-%d %H:%M}" if record.revoked_at else "live"
                print(f"{record.technician_id:<20} made {record.created_at:%Y-%m-%d %H:%M}  {revoked}")
    finally:
        service.close()
    return 0


def _operator(settings: ServiceSettings, args: argparse.Namespace) -> int:
    from registry_service.service import Service

    service = Service.open(settings)
    try:
        operators = service.operators
        if args.operator_command == "add":
            operators.add(args.operator_id, _secret("password (10 to 128 characters)", args.password_stdin))
            print(f"operator {args.operator_id}: added")
        elif args.operator_command == "remove":
            operators.remove(args.operator_id)
            print(f"operator {args.operator_id}: removed, sessions ended")
        elif args.operator_command == "unlock":
            operators.unlock(args.operator_id)
            print(f"operator {args.operator_id}: unlocked")
        else:
            for record in operators.records():
                locked = f"locked {record.locked_at:%Y-%m-%d %H:%M}" if record.locked_at else "open"
                print(f"{record.operator_id:<40} made {record.created_at:%Y-%m-%d %H:%M}  wrong tries "
                      f"{record.wrong_tries}  {locked}")
    finally:
        service.close()
    return 0
