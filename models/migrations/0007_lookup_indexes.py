"""0007: indexes for the lookups a large firm makes often.

- checkout_open, refund_open: partial indexes holding only the checkouts and refunds not yet
  final, which reconciliation reads at every start. The query must write the same condition
  with the same literal values (not bound parameters): SQLite uses a partial index only when
  the query's WHERE repeats the index's.
- portal_account_email_lower: client sign-in looks the account up by LOWER(email).
- client_name: the staff client search reads clients in name order (models.client_search).
- Client search by part of a name, email, case number or invoice number ("LIKE '%q%'"):
  on SQLite, FTS5 tables with the trigram tokenizer over those columns (external content,
  kept in step by triggers); on PostgreSQL, pg_trgm GIN indexes on LOWER(column). pg_trgm
  is created in schema public, so that dropping any other schema never drops it; where it
  cannot be created, the search still gives the same results by reading the tables, and
  the upgrade says so in the log. A later migration that rebuilds client, case or invoice
  on SQLite (as the migrator does to change a column) drops the triggers with the table: it
  must make them again and rebuild the search tables ('rebuild'), as _sqlite_search does.
"""

import logging

from peewee import *

log = logging.getLogger("models.schema")

OPEN_CHECKOUT = "status NOT IN ('succeeded', 'failed', 'cancelled')"
OPEN_REFUND = "status IN ('pending', 'verifying')"
# (table, column) of what the client search looks in.
SEARCHED = (('client', 'name'), ('client', 'email'), ('case', 'number'), ('invoice', 'number'))
SQLITE_SEARCH = {
    # search table: (content table, its columns)
    'client_search': ('client', ('name', 'email')),
    'case_number_search': ('case', ('number',)),
    'invoice_number_search': ('invoice', ('number',)),
}


def _plain_indexes(db):
    db.execute_sql(f'CREATE INDEX checkout_open ON checkout (id) WHERE {OPEN_CHECKOUT}')
    db.execute_sql(f'CREATE INDEX refund_open ON refund (id) WHERE {OPEN_REFUND}')
    db.execute_sql('CREATE INDEX portal_account_email_lower ON portal_account (LOWER(email))')
    db.execute_sql('CREATE INDEX client_name ON client (name, id)')


def _sqlite_search(db):
    for search, (table, columns) in SQLITE_SEARCH.items():
        names = ', '.join(columns)
        new = ', '.join(f'new.{c}' for c in columns)
        old = ', '.join(f'old.{c}' for c in columns)
        db.execute_sql(
            f"CREATE VIRTUAL TABLE {search} USING fts5({names}, content='{table}', "
            f"content_rowid='id', tokenize='trigram')")
        db.execute_sql(f"INSERT INTO {search} ({search}) VALUES ('rebuild')")
        insert = f'INSERT INTO {search} (rowid, {names}) VALUES (new.id, {new});'
        delete = (f"INSERT INTO {search} ({search}, rowid, {names}) "
                  f"VALUES ('delete', old.id, {old});")
        db.execute_sql(f'CREATE TRIGGER {search}_insert AFTER INSERT ON "{table}" '
                       f'BEGIN {insert} END')
        db.execute_sql(f'CREATE TRIGGER {search}_delete AFTER DELETE ON "{table}" '
                       f'BEGIN {delete} END')
        # Only when a searched column changes: invoices are updated at every payment.
        db.execute_sql(f'CREATE TRIGGER {search}_update AFTER UPDATE OF {names} '
                       f'ON "{table}" BEGIN {delete} {insert} END')


def _trigram_schema(db):
    """The schema pg_trgm lives in, creating it in public if it is missing; None when
    this server cannot have it."""
    found = "SELECT extnamespace::regnamespace::text FROM pg_extension WHERE extname = 'pg_trgm'"
    row = db.execute_sql(found).fetchone()
    if row:
        return row[0]
    try:
        with db.atomic():  # a savepoint: a refusal must not end the migration's transaction
            db.execute_sql('CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public')
    except DatabaseError as exc:
        # Another upgrade may have created it at the same moment.
        row = db.execute_sql(found).fetchone()
        if row:
            return row[0]
        log.warning('pg_trgm is not available on this server (%s): the client search '
                    'reads the tables instead of an index, which is slower on a large '
                    'firm. Install the PostgreSQL contrib package and upgrade again, or run '
                    'CREATE EXTENSION pg_trgm SCHEMA public as a superuser.',
                    str(exc).strip().splitlines()[0])
        return None
    return db.execute_sql(found).fetchone()[0]


def _postgres_search(db):
    schema = _trigram_schema(db)
    if schema is None:
        return
    for table, column in SEARCHED:
        db.execute_sql(f'CREATE INDEX {table}_{column}_trigram ON "{table}" '
                       f'USING gin (LOWER({column}) "{schema}".gin_trgm_ops)')


def up(migrator, db):
    _plain_indexes(db)
    if isinstance(db, PostgresqlDatabase):
        _postgres_search(db)
    else:
        _sqlite_search(db)


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        # pg_trgm stays: other schemas of the server may use it.
        for table, column in SEARCHED:
            db.execute_sql(f'DROP INDEX IF EXISTS {table}_{column}_trigram')
    else:
        for search in SQLITE_SEARCH:
            for op in ('insert', 'delete', 'update'):
                db.execute_sql(f'DROP TRIGGER IF EXISTS {search}_{op}')
            db.execute_sql(f'DROP TABLE IF EXISTS {search}')
    for name in ('client_name', 'portal_account_email_lower', 'refund_open', 'checkout_open'):
        db.execute_sql(f'DROP INDEX IF EXISTS {name}')
