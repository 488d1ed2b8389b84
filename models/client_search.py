"""The staff client search: clients whose name, email, case number or invoice number
contains the text typed, case-insensitively, listed by name.

What matches is exactly the condition `LOWER(column) LIKE '%text%'` (ILIKE on PostgreSQL),
whatever the path taken to find it:

0. On SQLite, a text of 1 or 2 characters without a LIKE wildcard is answered by the index
   of 1- and 2-character pieces of migration 0011 alone: the clients holding it as a piece
   are exactly the matches (short_text_query; in name order through client_name when many
   clients hold it, so that a common text stops at the first page).
1. The first clients in name order are read with that condition; when they hold a full
   page of matches, that page is the answer (a common text is answered here, however
   many clients match).
2. Otherwise, a text with at least 3 characters in a row that are not LIKE wildcards is
   looked up in the trigram indexes of migration 0007 (SQLite FTS5, PostgreSQL pg_trgm),
   which read only the rows holding its three-letter pieces; SQLite checks each candidate
   against the LIKE itself, PostgreSQL rechecks the index's rows.
3. A text with no such run but 1 or 2 characters in a row that are not wildcards is looked
   up in 0011's index of its pieces: on PostgreSQL GIN indexes of each column's pieces,
   whose rows are checked against the LIKE; on SQLite the clients holding the piece are
   candidates (the text has a wildcard), each checked against the LIKE in name order.
4. A text of wildcards only (matching nearly every client, so step 1 answers it on any
   firm of some size) is answered by reading the four columns whole.
"""

from __future__ import annotations

import json
import re

import peewee as pw

from models.db import database, is_postgres
from models.firm import Case, Client
from models.invoices import Invoice

# How many clients, in name order, step 1 reads before turning to the indexes.
FIRST_CLIENTS = 1000
_TRIGRAM_RUN = re.compile(r"[^%_]{3}")
# Characters of a typed text that LIKE does not take as themselves: its wildcards, and on
# PostgreSQL its escape character (SQLite's LIKE has none unless told).
_SPECIAL = {"sqlite": "%_", "postgres": "%_\\"}
# How many clients in name order a text with a wildcard checks at a time (step 3).
CHECK_CHUNK = 500
# From how many clients holding a piece step 3 on SQLite reads clients in name order and
# looks each up, rather than reading every holder and sorting them.
MANY_HOLDERS = 20_000
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


def matches_among(ids: list[int], pattern: str) -> set[int]:
    """Which of the clients `ids` match. The ids are named to each table, so that the
    database reads those clients' rows through their indexes and nothing else, whatever
    it guesses of how many rows the pattern matches."""
    hits = (
        Client.select(Client.id).where(_one_of(Client.id, ids) & (
            (pw.fn.LOWER(Client.name) ** pattern) | (pw.fn.LOWER(Client.email) ** pattern)))
        | Case.select(Case.client).where(
            _one_of(Case.client, ids) & (pw.fn.LOWER(Case.number) ** pattern))
        | Invoice.select(Invoice.client).where(
            _one_of(Invoice.client, ids) & (pw.fn.LOWER(Invoice.number) ** pattern))
    )
    return {i for (i,) in hits.tuples()}


def _clients(chosen: list[int]) -> list[Client]:
    rows = {c.id: c for c in Client.select().where(Client.id.in_(chosen))} if chosen else {}
    return [rows[i] for i in chosen]


def _among_first(pattern: str, limit: int) -> tuple[list[Client], bool]:
    """The matches among the first FIRST_CLIENTS clients by name, and whether those were
    all the clients."""
    ids = [i for (i,) in Client.select(Client.id).order_by(Client.name, Client.id)
           .limit(FIRST_CLIENTS).tuples()]
    if not ids:
        return [], True
    found = matches_among(ids, pattern)
    return _clients([i for i in ids if i in found][:limit]), len(ids) < FIRST_CLIENTS


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


def piece_for(pattern: str) -> tuple[str, bool] | None:
    """The piece of 1 or 2 characters step 3 looks up for `pattern` ('%text%'), and whether
    the clients holding it are exactly the matches (the text is that piece, no wildcard);
    None for a text of wildcards only."""
    text = pattern[1:-1]
    special = _SPECIAL["postgres" if is_postgres() else "sqlite"]
    if 0 < len(text) <= 2 and not any(ch in special for ch in text):
        return text, True
    runs = re.findall(f"[^{re.escape(special)}]+", text)
    if not runs:
        return None
    return max(runs, key=len)[:2], False


def _pieces_of(field: pw.Field) -> pw.Node:
    return pw.fn.client_search_pieces(pw.fn.LOWER(field))


def _holds(pieces: pw.Node, piece: str) -> pw.Expression:
    return pw.Expression(pieces, "@>", pw.SQL("ARRAY[LOWER(%s)]", [piece]))


def _like(field: pw.Field, pattern: str) -> pw.Expression:
    """PostgreSQL: `field` ILIKE the pattern, written on `LOWER(field) || ''` (the same
    text) so that the planner does not also read the trigram index, which would return
    every row for so short a text."""
    return pw.fn.LOWER(field).concat("") ** pattern


def _postgres_short(pattern: str, piece: str, limit: int) -> pw.ModelSelect:
    """PostgreSQL: the matches through 0011's GIN indexes (their expressions repeated
    exactly), each row checked against the pattern. The first `limit` are chosen by
    (id, name) read with the matching rows, and only they are read whole."""
    by_name_or_email = Client.select(Client.id, Client.name).where(
        _holds(_pieces_of(Client.name).concat(_pieces_of(Client.email)), piece)
        & (_like(Client.name, pattern) | _like(Client.email, pattern)))
    owners = (Case.select(Case.client).where(
                  _holds(_pieces_of(Case.number), piece) & _like(Case.number, pattern))
              | Invoice.select(Invoice.client).where(
                  _holds(_pieces_of(Invoice.number), piece) & _like(Invoice.number, pattern)))
    matches = (by_name_or_email
               | Client.select(Client.id, Client.name).where(Client.id.in_(owners))).alias("m")
    first = (pw.Select([matches], [matches.c.id])
             .order_by(matches.c.name, matches.c.id).limit(limit))
    return _by_name().where(Client.id.in_(first)).limit(limit)


class _Piece(pw.Model):
    """SQLite: a row of migration 0011's client_search_piece (read only here)."""

    piece = pw.TextField()
    client = pw.IntegerField(column_name="client_id")
    n = pw.IntegerField()

    class Meta:
        database = database
        table_name = "client_search_piece"
        primary_key = pw.CompositeKey("piece", "client")


def _many_hold(piece: str) -> bool:
    """SQLite: whether at least MANY_HOLDERS clients hold `piece` (counted up to that)."""
    held = _Piece.select(pw.SQL("1")).where(_Piece.piece == piece).limit(MANY_HOLDERS)
    return pw.Select([held], [pw.fn.COUNT(pw.SQL("*"))]).bind(database).scalar() >= MANY_HOLDERS


def short_text_query(pattern: str, piece: str, limit: int, *,
                     walk: bool = False) -> pw.ModelSelect:
    """Step 3's query: on PostgreSQL the matches (each index row is checked against the
    pattern); on SQLite the clients holding `piece`, which are the matches only when the
    text is the piece. With `walk` (SQLite), the clients are read in name order and each
    looked up in the index, which is quicker when many hold the piece: reading them all
    and sorting them would take longer than finding the first `limit`."""
    if is_postgres():
        return _postgres_short(pattern, piece, limit)
    if walk:
        held = _Piece.select(pw.SQL("1")).where(
            (_Piece.piece == piece) & (_Piece.client == Client.id))
        return _by_name().where(pw.fn.EXISTS(held)).limit(limit)
    holders = _Piece.select(_Piece.client).where(_Piece.piece == piece)
    return _by_name().where(Client.id.in_(holders)).limit(limit)


def short_text_search(pattern: str, piece: tuple[str, bool], limit: int) -> list[Client]:
    """Step 3: a text with no trigram run, through the pieces of migration 0011."""
    text, exact = piece
    if is_postgres():
        return list(short_text_query(pattern, text, limit))
    walk = _many_hold(text)
    if exact:
        return list(short_text_query(pattern, text, limit, walk=walk))
    candidates = short_text_query(pattern, text, -1, walk=walk).select(Client.id).tuples()
    chosen: list[int] = []
    chunk: list[int] = []
    for (i,) in candidates.iterator():
        chunk.append(i)
        if len(chunk) == CHECK_CHUNK:
            found = matches_among(chunk, pattern)
            chosen += [i for i in chunk if i in found]
            chunk = []
            if len(chosen) >= limit:
                break
    if chunk and len(chosen) < limit:
        found = matches_among(chunk, pattern)
        chosen += [i for i in chunk if i in found]
    return _clients(chosen[:limit])


def search_clients(text: str, limit: int) -> list[Client]:
    """The first `limit` clients by name (then id) matching `text`; all clients by name
    when the text is blank."""
    if not text.strip():
        return list(_by_name().limit(limit))
    pattern = pattern_for(text)
    trigram = _TRIGRAM_RUN.search(pattern) is not None
    piece = None if trigram else piece_for(pattern)
    if piece is not None and piece[1] and not is_postgres():
        return short_text_search(pattern, piece, limit)
    found, read_all = _among_first(pattern, limit)
    if len(found) >= limit or read_all:
        return found
    if trigram:
        return list(indexed_query(pattern, limit))
    if piece is not None:
        return short_text_search(pattern, piece, limit)
    return list(_by_name().where(_matching_sets(pattern)).limit(limit))
