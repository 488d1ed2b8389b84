"""Bringing a database to the current schema with the numbered migration scripts."""

from __future__ import annotations

from pathlib import Path

import peewee
from playhouse.migrations import Runner

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _runner(db: peewee.Database) -> Runner:
    return Runner(db, directory=str(MIGRATIONS_DIR), table_name="schema_migration")


def upgrade(db: peewee.Database) -> list[str]:
    """Apply every pending migration in order; returns the names applied (none when the
    database is already current, so running it twice is harmless)."""
    with db.connection_context():
        return _runner(db).up()


def pending(db: peewee.Database) -> list[str]:
    """The migrations not yet applied to `db`."""
    with db.connection_context():
        return [m.name for m in _runner(db).status() if not m.applied]
