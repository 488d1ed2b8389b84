"""The staff client search: clients whose name, email, case number or invoice number
contains the text typed, case-insensitively, listed by name.

What matches is exactly the condition `LOWER(column) LIKE '%text%'` (ILIKE on PostgreSQL),
whatever the path taken to find it:

1. The first clients in name order are read with that condition; when they hold a full
   page of matches, that page is the answer (a common text is answered here, however
   many clients match).
2. Otherwise, a text with at least 3 characters in a row that are not LIKE wildcards is
   looked up in the trigram indexes of migration 0007 (SQLite FTS5, PostgreSQL pg_trgm),
   which read only the rows holding its three-letter pieces; SQLite checks each candidate
   against the LIKE itself, PostgreSQL rechecks the index's rows.
3. A shorter text (1 or 2 characters) that is rare in the first clients has no piece
   an index could look up: it is answered by reading the four columns whole, as the
   search always did (the same results; 0.4 to 1 s on a firm of 100,000 clients and
   1,000,000 invoices, see bench/big_firm.py). One more character typed makes it step 2.
"""

from __future__ import annotations

import json
import re

import peewee as pw

from models.db import is_postgres
from models.firm import Case, Client
from models.invoices import Invoice

# How many clients, in name order, step 1 reads before turning to the indexes.
FIRST_CLIENTS = 1000
_TRIGRAM_RUN = re.compile(r"[^%_]{3}")
# Client ids whose name, email, case number or invoice number is LIKE the pattern, through
# the trigram tables (FTS5 serves LIKE on its columns; it rechecks every row it returns).
_SQLITE_CANDIDATES = (
    "SELECT rowid FROM client_search WHERE name LIKE ? "
    "UNION SELECT rowid FROM client_search WHERE email LIKE ? "
    'UNION SELECT client_id FROM "case" WHERE id IN '
    "(SELECT rowid FROM case_number_search WHERE number LIKE ?) "
    "UNION SELECT client_id FROM invoice WHERE id IN "
    "(SELECT rowid FROM invoice_number_search WHERE number LIKE ?)"
)


def pattern_for(text: str) -> str:
    """The LIKE pattern the search matches `text` with (wildcards typed are kept)."""
    return f"%{text.strip().lower()}%"


def _matching_sets(pattern: str) -> pw.Expression:
    """The search's condition on a client row, each table's matches read once as a set."""
    by_case = Case.select(Case.client).where(pw.fn.LOWER(Case.number) ** pattern)
    by_invoice = Invoice.select(Invoice.client).where(pw.fn.LOWER(Invoice.number) ** pattern)
    return ((pw.fn.LOWER(Client.name) ** pattern) | (pw.fn.LOWER(Client.email) ** pattern)
            | Client.id.in_(by_case) | Client.id.in_(by_invoice))


def _by_name() -> pw.ModelSelect:
    return Client.select().order_by(Client.name, Client.id)


def _one_of(field: pw.Field, ids: list[int]) -> pw.Expression:
    """`field IN ids` with the ids as one value (an array, a JSON list): a thousand
    parameters would take longer to write into the SQL than the query takes to run."""
    if is_postgres():
        return pw.Expression(field, pw.OP.EQ, pw.fn.ANY(pw.Value(ids, unpack=False)))
    return pw.Expression(field, pw.OP.IN,
                         pw.SQL("(SELECT value FROM json_each(?))", [json.dumps(ids)]))


def _among_first(pattern: str, limit: int) -> tuple[list[Client], bool]:
    """The matches among the first FIRST_CLIENTS clients by name, and whether those were
    all the clients. Their ids are read first and then named to each table, so that the
    database reads those clients' rows through their indexes and nothing else, whatever
    it guesses of how many rows the pattern matches."""
    ids = [i for (i,) in Client.select(Client.id).order_by(Client.name, Client.id)
           .limit(FIRST_CLIENTS).tuples()]
    if not ids:
        return [], True
    hits = (
        Client.select(Client.id).where(_one_of(Client.id, ids) & (
            (pw.fn.LOWER(Client.name) ** pattern) | (pw.fn.LOWER(Client.email) ** pattern)))
        | Case.select(Case.client).where(
            _one_of(Case.client, ids) & (pw.fn.LOWER(Case.number) ** pattern))
        | Invoice.select(Invoice.client).where(
            _one_of(Invoice.client, ids) & (pw.fn.LOWER(Invoice.number) ** pattern))
    )
    found = {i for (i,) in hits.tuples()}
    chosen = [i for i in ids if i in found][:limit]
    rows = {c.id: c for c in Client.select().where(Client.id.in_(chosen))} if chosen else {}
    return [rows[i] for i in chosen], len(ids) < FIRST_CLIENTS


def indexed_query(pattern: str, limit: int) -> pw.ModelSelect:
    """Step 2: the matches found through the trigram indexes."""
    if is_postgres():
        candidates = (
            Client.select(Client.id).where(pw.fn.LOWER(Client.name) ** pattern)
            | Client.select(Client.id).where(pw.fn.LOWER(Client.email) ** pattern)
            | Case.select(Case.client).where(pw.fn.LOWER(Case.number) ** pattern)
            | Invoice.select(Invoice.client).where(pw.fn.LOWER(Invoice.number) ** pattern)
        )
        return _by_name().where(Client.id.in_(candidates)).limit(limit)
    # FTS5's LIKE on SQLite is LIKE itself, which ignores ASCII case as LOWER() does.
    candidates = pw.SQL(f"({_SQLITE_CANDIDATES})", [pattern] * 4)
    return _by_name().where(Client.id.in_(candidates)).limit(limit)


def search_clients(text: str, limit: int) -> list[Client]:
    """The first `limit` clients by name (then id) matching `text`; all clients by name
    when the text is blank."""
    if not text.strip():
        return list(_by_name().limit(limit))
    pattern = pattern_for(text)
    found, read_all = _among_first(pattern, limit)
    if len(found) >= limit or read_all:
        return found
    if _TRIGRAM_RUN.search(pattern):
        return list(indexed_query(pattern, limit))
    return list(_by_name().where(_matching_sets(pattern)).limit(limit))
