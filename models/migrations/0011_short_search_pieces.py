"""0011: an index of the 1- and 2-character pieces the client search looks in.

The trigram indexes of 0007 cannot look up a text of 1 or 2 characters. This index holds
every piece of 1 or 2 characters of LOWER(client.name), LOWER(client.email),
LOWER(case.number) and LOWER(invoice.number), each computed by the database's own LOWER()
(on SQLite it lowers ASCII letters only, as the search's LIKE compares them), so a text
with no LIKE wildcard is found exactly where `LOWER(column) LIKE '%text%'` finds it:

- SQLite: client_search_piece (piece, client_id, n), WITHOUT ROWID, primary key (piece,
  client_id): one row per client and piece, n = how many of the client's searched texts
  (name, email, each case number, each invoice number) hold the piece. Triggers on client,
  case and invoice insert, delete and update (of those columns and of the client a case or
  invoice belongs to) keep it in step. A trigger cannot use WITH, so a text's positions come
  from json_each over a JSON array as long as the text; a piece is counted once per text (at
  its first place: instr()). At 100,000 clients and 1,000,000 invoices: 8.2 million rows,
  about 110 MB (bench/big_firm.py). A later migration that rebuilds client, case or
  invoice on SQLite drops these triggers with the table: it must make them again
  (_sqlite_triggers) and refill the table (_sqlite_fill), as 0007's search tables must be.
  INSERT OR REPLACE into those tables would delete rows without the delete trigger (as for
  0007's): Paydesk never writes them so.
- PostgreSQL: GIN indexes of client_search_pieces(LOWER(column)), an IMMUTABLE function
  giving a text's pieces as an array: client_pieces (the pieces of the name and those of
  the email, one array: a client is read once), case_number_pieces and
  invoice_number_pieces. The database keeps them itself (no trigger), and GIN compresses
  its lists of rows: at 1,000,000 invoices about 45 MB where a table of (piece, client)
  rows would take several hundred.
"""

from peewee import *

TABLE = 'client_search_piece'
# (table, the client id column, searched columns)
SOURCES = (
    ('client', 'id', ('name', 'email')),
    ('case', 'client_id', ('number',)),
    ('invoice', 'client_id', ('number',)),
)
# PostgreSQL: index name, table, indexed expression (models.client_search repeats them).
PG_INDEXES = (
    ('client_pieces', 'client',
     'client_search_pieces(LOWER(name)) || client_search_pieces(LOWER(email))'),
    ('case_number_pieces', 'case', 'client_search_pieces(LOWER(number))'),
    ('invoice_number_pieces', 'invoice', 'client_search_pieces(LOWER(number))'),
)
# Its characters (string_to_array with no separator) and its pieces of 2 characters; a
# piece may come twice (GIN keeps each key once). plpgsql: about 5 times quicker than the
# same in SQL with generate_series, which counts at every insert and index build.
PIECES_FUNCTION = (
    "CREATE FUNCTION client_search_pieces(t text) RETURNS text[] "
    "LANGUAGE plpgsql IMMUTABLE STRICT PARALLEL SAFE AS $$ "
    "DECLARE pieces text[] := string_to_array(t, NULL); "
    "BEGIN FOR k IN 1 .. length(t) - 1 LOOP pieces := pieces || substr(t, k, 2); END LOOP; "
    "RETURN pieces; END $$"
)


def piece_rows(text, client, tables=''):
    """SQLite: a SELECT of (piece, client_id), each 1- or 2-character piece of LOWER(text)
    once. `text` and `client` are SQL expressions over `tables` (or a trigger's new/old)."""
    low = f'LOWER({text})'
    # '[0,0,...]' with length(low) elements: json_each numbers them 0, 1, ...
    series = (f"json_each('[' || rtrim(replace(hex(zeroblob(length({low}))), '00', '0,'), "
              f"',') || ']')")
    piece = f'substr({low}, k.key + 1, w.value)'
    return (f'SELECT {piece} AS piece, {client} AS client_id '
            f"FROM {tables}{series} AS k, json_each('[1,2]') AS w "
            f'WHERE k.key + w.value <= length({low}) AND instr({low}, {piece}) = k.key + 1')


def _add(ref, client, column):
    return (f'INSERT INTO {TABLE} (piece, client_id, n) '
            f'SELECT piece, client_id, 1 FROM ({piece_rows(f"{ref}.{column}", f"{ref}.{client}")}) '
            f'WHERE true ON CONFLICT (piece, client_id) DO UPDATE SET n = n + 1;')


def _remove(client, column):
    pieces = f'SELECT piece FROM ({piece_rows(f"old.{column}", f"old.{client}")})'
    return (f'UPDATE {TABLE} SET n = n - 1 WHERE client_id = old.{client} '
            f'AND piece IN ({pieces}); '
            f'DELETE FROM {TABLE} WHERE client_id = old.{client} AND n = 0 '
            f'AND piece IN ({pieces});')


def _sqlite_triggers(db):
    for table, client, columns in SOURCES:
        add = ' '.join(_add('new', client, c) for c in columns)
        remove = ' '.join(_remove(client, c) for c in columns)
        watched = (client, *columns)
        changed = ' OR '.join(f'old.{c} IS NOT new.{c}' for c in watched)
        db.execute_sql(f'CREATE TRIGGER {TABLE}_{table}_insert AFTER INSERT ON "{table}" '
                       f'BEGIN {add} END')
        db.execute_sql(f'CREATE TRIGGER {TABLE}_{table}_delete AFTER DELETE ON "{table}" '
                       f'BEGIN {remove} END')
        # Only when a searched column changes: invoices are updated at every payment.
        db.execute_sql(f'CREATE TRIGGER {TABLE}_{table}_update AFTER UPDATE OF '
                       f'{", ".join(watched)} ON "{table}" WHEN {changed} '
                       f'BEGIN {remove} {add} END')


def _sqlite_fill(db):
    db.execute_sql(f'DELETE FROM {TABLE}')
    rows = ' UNION ALL '.join(
        piece_rows(f's.{column}', f's.{client}', f'"{table}" AS s, ')
        for table, client, columns in SOURCES for column in columns)
    db.execute_sql(f'INSERT INTO {TABLE} (piece, client_id, n) SELECT piece, client_id, '
                   f'COUNT(*) FROM ({rows}) GROUP BY piece, client_id')


def up(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        db.execute_sql(PIECES_FUNCTION)
        for name, table, expression in PG_INDEXES:
            db.execute_sql(f'CREATE INDEX {name} ON "{table}" USING gin (({expression}))')
        return
    db.execute_sql(f'CREATE TABLE {TABLE} (piece TEXT NOT NULL, client_id INTEGER NOT NULL, '
                   f'n INTEGER NOT NULL, PRIMARY KEY (piece, client_id)) WITHOUT ROWID')
    _sqlite_fill(db)
    _sqlite_triggers(db)


def down(migrator, db):
    if isinstance(db, PostgresqlDatabase):
        for name, _table, _expression in PG_INDEXES:
            db.execute_sql(f'DROP INDEX IF EXISTS {name}')
        db.execute_sql('DROP FUNCTION IF EXISTS client_search_pieces(text)')
        return
    for table, _client, _columns in SOURCES:
        for op in ('insert', 'delete', 'update'):
            db.execute_sql(f'DROP TRIGGER IF EXISTS {TABLE}_{table}_{op}')
    db.execute_sql(f'DROP TABLE IF EXISTS {TABLE}')
