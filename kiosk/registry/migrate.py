"""Provides `python -m kiosk.registry.migrate`: the registry schema's status, upgrade and history, for operators."""
from __future__ import annotations

#     python -m kiosk.registry.migrate status               # current / behind (run: ...) / ahead/unknown
#     python -m kiosk.registry.migrate upgrade              # to this release's head
#     python -m kiosk.registry.migrate history              # the revisions this release knows
#     python -m kiosk.registry.migrate --database-url URL status
#
# The database is the kiosk's (its settings: config file, KIOSK_* variables), or `--database-url`.
# Exit status: 0 current (or upgraded), 1 behind, 2 ahead/unknown or unusable; one line on stderr.

import argparse
import sys
from pathlib import Path
from typing import Sequence

from kiosk.errors import KioskError
from kiosk.registry import schema
from kiosk.registry.database import Database


def _database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return args.database_url
    from kiosk.settings import load_settings

    return load_settings(args.config).settings.resolved_database_url


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m kiosk.registry.migrate", description=__doc__.splitlines()[0])
    parser.add_argument("--database-url", help="the database (default: the kiosk's settings)")
    parser.add_argument("--config", type=Path, help="a kiosk settings file, as `kiosk.py --config`")
    parser.add_argument("action", choices=("status", "upgrade", "history"))
    args = parser.parse_args(argv)
    if args.action == "history":
        scripts = schema.scripts()
        for revision in scripts.walk_revisions():
            print(f"{revision.revision}  {revision.doc.splitlines()[0] if revision.doc else ''}")
        return 0
    from kiosk.settings import SettingsError

    try:
        database = Database.open(_database_url(args))
    except (KioskError, SettingsError) as exc:
        print(f"migrate: {getattr(exc, 'detail', exc)}", file=sys.stderr)
        return 2
    try:
        status = schema.upgrade(database) if args.action == "upgrade" else schema.schema_status(database)
    except KioskError as exc:
        print(f"migrate: {exc.detail}", file=sys.stderr)
        return 2
    finally:
        database.dispose()
    command = schema.UPGRADE_COMMAND
    if args.database_url:
        shown = database.engine.url.render_as_string(hide_password=True) if database.dialect != "sqlite" else args.database_url
        command = f"python -m kiosk.registry.migrate --database-url '{shown}' upgrade"
    print(f"registry schema: {status.advice(command)}")
    return {"current": 0, "behind": 1}.get(status.state, 2)


if __name__ == "__main__":
    sys.exit(main())
