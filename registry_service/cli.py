"""Provides the `ecard-registry` command: serve the registry, upgrade or show its schema, and manage kiosk credentials."""
from __future__ import annotations

#     ecard-registry serve [--host H] [--port P] [--workers N]
#     ecard-registry upgrade | status
#     ecard-registry kiosk add KIOSK-ID          # prints the new credential once
#     ecard-registry kiosk revoke KIOSK-ID [--reason TEXT]
#     ecard-registry kiosk list
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
from registry_service.settings import ServiceSettings, ServiceSettingsError, load_service_settings

PROG = "ecard-registry"


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
        return _kiosk(settings, args)
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
