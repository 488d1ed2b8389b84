"""Bringing a database to the current schema with the numbered migration scripts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import peewee

if TYPE_CHECKING:
    from playhouse.migrations import Runner

MIGRATIONS_DIR = Path(__file__).with_name("migrations")


def _runner(db: peewee.Database) -> Runner:
    # The migration runner (and the database drivers it loads) only when there is work.
    from playhouse.migrations import Runner

    return Runner(db, directory=str(MIGRATIONS_DIR), table_name="schema_migration")


def _is_current(db: peewee.Database) -> bool:
    """Every migration script is recorded as applied: one query, without the runner (every
    start opens the database; it is rarely behind)."""
    scripts = {path.stem for path in MIGRATIONS_DIR.glob("[0-9]*.py")}
    try:
        applied = {row[0] for row in db.execute_sql("SELECT name FROM schema_migration")}
    except peewee.DatabaseError:
        return False  # no history yet: the runner creates it
    return scripts <= applied


def upgrade(db: peewee.Database) -> list[str]:
    """Apply every pending migration in order; returns the names applied (none when the
    database is already current, so running it twice is harmless)."""
    with db.connection_context():
        if _is_current(db):
            return []
        return _runner(db).up()


def pending(db: peewee.Database) -> list[str]:
    """The migrations not yet applied to `db`."""
    with db.connection_context():
        return [m.name for m in _runner(db).status() if not m.applied]
