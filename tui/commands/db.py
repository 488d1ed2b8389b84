"""`paydesk db upgrade` and `paydesk db seed-demo`."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from models import bind, open_database
from models.db import DatabaseUrlError, sqlite_path
from models.demo import seed_demo
from models.schema import upgrade


def register(sub: argparse._SubParsersAction) -> None:
    db = sub.add_parser("db", help="database schema and demo data")
    db_sub = db.add_subparsers(dest="db_command", metavar="ACTION")
    db_sub.required = True
    up = db_sub.add_parser("upgrade", help="bring the database to the current schema")
    up.set_defaults(func=_upgrade)
    seed = db_sub.add_parser("seed-demo", help="create the demo firm (upgrades first)")
    # `--db` is also accepted after the action, as in `paydesk db seed-demo --db URL`.
    for parser in (up, seed):
        parser.add_argument("--db", dest="db_after", metavar="URL", help=argparse.SUPPRESS)
    seed.set_defaults(func=_seed)
    db.set_defaults(setting_overrides=lambda a: {"database.url": getattr(a, "db_after", None)})


def _open(settings):
    path = sqlite_path(settings.database_url)
    if path is not None and settings.database_is_default:
        # The demo firm's database lives in the user data folder, made on first use.
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    try:
        return bind(open_database(settings.database_url))
    except DatabaseUrlError as exc:
        print(f"paydesk: database.url: {exc}", file=sys.stderr)
        return None


def _upgrade(args, settings) -> int:
    db = _open(settings)
    if db is None:
        return 2
    applied = upgrade(db)
    print(f"applied: {', '.join(applied)}" if applied else "the schema is current; nothing to do")
    return 0


def _seed(args, settings) -> int:
    db = _open(settings)
    if db is None:
        return 2
    upgrade(db)
    with db.connection_context():
        created = seed_demo(bank_debits=True)
    print("seeded the demo firm" if created else "the demo firm is already there; nothing to do")
    return 0
