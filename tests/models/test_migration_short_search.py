"""Migration 0011 (the index of 1- and 2-character pieces for the client search): an
upgrade from 0010 with clients, cases and invoices already there fills it; down and up
again on SQLite and PostgreSQL."""

from __future__ import annotations

import string
from collections import Counter

from models import bind, client_search, database, open_database
from models.client_search import search_clients
from models.db import is_postgres
from models.firm import Case, Client
from models.invoices import Invoice
from models.schema import _runner, upgrade
from tests.models.many_clients import add_clients
from tests.models.test_client_search import SHORT, old_search

NAME = "0011_short_search_pieces"
PG_INDEXES = {"client_pieces", "case_number_pieces", "invoice_number_pieces"}
_ASCII_LOWER = str.maketrans(string.ascii_uppercase, string.ascii_lowercase)


def _expected_sqlite_pieces() -> Counter:
    """(piece, client id) -> how many of the client's texts hold it, worked out in Python
    as SQLite's LOWER() lowers: ASCII letters only."""
    texts = [(c.id, t) for c in Client.select() for t in (c.name, c.email)]
    texts += [(c.client_id, c.number) for c in Case.select()]
    texts += [(i.client_id, i.number) for i in Invoice.select()]
    counts: Counter = Counter()
    for client, text in texts:
        low = text.translate(_ASCII_LOWER)
        counts.update({(low[k:k + w], client) for w in (1, 2) for k in range(len(low) - w + 1)})
    return counts


def _indexes() -> set[str]:
    return {name for (name,) in database.execute_sql(
        "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()")}


def _index_is_there(db) -> bool:
    if is_postgres():
        return PG_INDEXES <= _indexes()
    return "client_search_piece" in db.get_tables()


def _down_to_0010(db) -> None:
    runner = _runner(db)
    while NAME in {m.name for m in runner.status() if m.applied}:
        runner.down()


def test_upgrade_from_0010_fills_the_index(database_url, monkeypatch):
    db = bind(open_database(database_url))
    with db.connection_context():
        _runner(db).up("0010_bank_debits")
        add_clients(120, seed=21)
        Client.update(name="ÉMILE Ørsted ß").where(Client.id == 7).execute()
        assert not _index_is_there(db)
    assert NAME in upgrade(db)
    with db.connection_context():
        assert _index_is_there(db)
        if not is_postgres():
            rows = db.execute_sql("SELECT piece, client_id, n FROM client_search_piece")
            assert {(p, c): n for p, c, n in rows} == _expected_sqlite_pieces()
        monkeypatch.setattr(client_search, "FIRST_CLIENTS", 3)
        for text in SHORT + ["ém", "ÉM", "ør", "ß", "7:", "inv"]:
            assert [c.id for c in search_clients(text, 20)] == old_search(text, 20), text


def test_up_down_up(database_url):
    db = bind(open_database(database_url))
    assert NAME in upgrade(db)
    with db.connection_context():
        add_clients(30, seed=22)
        assert _index_is_there(db)
        _down_to_0010(db)
        assert not _index_is_there(db)
        if is_postgres():
            assert database.execute_sql(
                "SELECT COUNT(*) FROM pg_proc WHERE proname = 'client_search_pieces' AND "
                "pronamespace = current_schema()::regnamespace").fetchone()[0] == 0
        else:
            assert not [n for (n,) in db.execute_sql(
                "SELECT name FROM sqlite_master WHERE type = 'trigger' "
                "AND name LIKE 'client_search_piece%'")]
    assert NAME in upgrade(db)
    with db.connection_context():
        assert _index_is_there(db)
        if not is_postgres():
            rows = db.execute_sql("SELECT piece, client_id, n FROM client_search_piece")
            assert {(p, c): n for p, c, n in rows} == _expected_sqlite_pieces()

