"""The one database binding: a `DatabaseProxy` bound at start-up to SQLite or PostgreSQL."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from urllib.parse import parse_qs, unquote, urlparse

import peewee

database = peewee.DatabaseProxy()


class BaseModel(peewee.Model):
    class Meta:
        database = database
        legacy_table_names = False


class DatabaseUrlError(ValueError):
    """The database setting is neither a SQLite path nor a postgresql:// URL."""


SQLITE_PRAGMAS = {
    "journal_mode": "wal",
    "foreign_keys": 1,
    "busy_timeout": 15000,
    "synchronous": "normal",
}


def open_database(url: str) -> peewee.Database:
    """A peewee database (not yet connected) for a SQLite file path or a postgresql:// URL.

    PostgreSQL URLs may carry `?schema=NAME` to work inside one schema (the tests use it).
    """
    if url.startswith(("postgresql://", "postgres://")):
        parsed = urlparse(url)
        query = {k: v[-1] for k, v in parse_qs(parsed.query).items()}
        kwargs: dict[str, object] = {
            "host": parsed.hostname or "127.0.0.1",
            "port": parsed.port or 5432,
            "user": unquote(parsed.username) if parsed.username else None,
            "password": unquote(parsed.password) if parsed.password else None,
            "connect_timeout": int(query.pop("connect_timeout", "10")),
        }
        schema = query.pop("schema", None)
        if schema:
            kwargs["options"] = f"-csearch_path={schema}"
        name = parsed.path.lstrip("/") or "postgres"
        return peewee.PostgresqlDatabase(
            name, **{k: v for k, v in kwargs.items() if v is not None}
        )
    url = sqlite_path(url) or ""
    if "://" in url or not url:
        raise DatabaseUrlError(
            "the database must be a SQLite file path or a postgresql:// URL"
        )
    # Every transaction takes the write lock when it begins (`BEGIN IMMEDIATE`): Paydesk's
    # transactions all write, and one begun DEFERRED that read before another process
    # committed fails at its first write with "database is locked" at once (a stale
    # snapshot cannot wait for the lock, so the busy timeout never applies).
    return peewee.SqliteDatabase(url, pragmas=SQLITE_PRAGMAS, timeout=15,
                                 lock_type="IMMEDIATE")


def sqlite_path(url: str) -> str | None:
    """The file of a SQLite database setting, or None for PostgreSQL."""
    if url.startswith(("postgresql://", "postgres://")):
        return None
    return url[len("sqlite:///") :] if url.startswith("sqlite:///") else url


def bind(db: peewee.Database) -> peewee.Database:
    """Bind the models to `db` (once at start-up; the tests re-bind per test)."""
    database.initialize(db)
    return db


def is_postgres() -> bool:
    return isinstance(database.obj, peewee.PostgresqlDatabase)


@contextlib.contextmanager
def write_transaction() -> Iterator[None]:
    """A transaction that takes the write lock up front.

    SQLite: `BEGIN IMMEDIATE`, so two writers never both read a balance and then both
    write. PostgreSQL: an ordinary transaction; callers lock rows with `FOR UPDATE`.
    """
    if is_postgres():
        with database.atomic():
            yield
    else:
        with database.atomic("IMMEDIATE"):
            yield


def for_update(query: peewee.ModelSelect) -> peewee.ModelSelect:
    """`SELECT ... FOR UPDATE` on PostgreSQL; SQLite's IMMEDIATE transaction already locks."""
    return query.for_update() if is_postgres() else query


class MinorUnitsField(peewee.BigIntegerField):
    """An amount in the currency's minor unit: only Python ints get in (never a float,
    a Decimal or a bool that would be silently rounded)."""

    def db_value(self, value):
        if value is None or isinstance(value, peewee.Node):
            return value
        if isinstance(value, bool) or not isinstance(value, int):
            raise TypeError(
                f"{self.name} takes whole minor units (int), not {type(value).__name__}"
            )
        return value
