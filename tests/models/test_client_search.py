"""The client search finds exactly what the plain LIKE query found, by whichever path,
and the trigram indexes serve it (SQLite FTS5, PostgreSQL pg_trgm)."""

from __future__ import annotations

import peewee as pw
import pytest

from models import client_search, database
from models.client_search import search_clients
from models.db import is_postgres
from models.firm import Case, Client
from models.invoices import Invoice
from tests.models.many_clients import add_clients
from tests.models.plans import plan_of

TEXTS = [
    "", "a", "A", "é", "É", "ö", "ng", "NG", "zz", "_", "%", "a_b", "100%", "smith_jones",
    "whit", "WHITFIELD", "ørsted", "ØRSTED", "example", "EXAMPLE.ORG", "inv-2021", "INV",
    "2020/", "-ü", "-Ü", "b_00", "@x.io", "qqq", "cs-0001", "7-c", "mat-000", "o'n",
    "de la", " dana ", "dana", "zoë", "12", "0001", "7:2:inv", "ab%", "\\", "x\\_",
]


def old_search(text: str, limit: int) -> list[int]:
    """The search as it was before the indexes: the semantics to keep."""
    text = text.strip()
    clients = Client.select(Client.id).order_by(Client.name, Client.id)
    if text:
        pattern = f"%{text.lower()}%"
        by_case = Case.select(Case.client).where(pw.fn.LOWER(Case.number) ** pattern)
        by_invoice = Invoice.select(Invoice.client).where(pw.fn.LOWER(Invoice.number) ** pattern)
        clients = clients.where(
            (pw.fn.LOWER(Client.name) ** pattern) | (pw.fn.LOWER(Client.email) ** pattern)
            | Client.id.in_(by_case) | Client.id.in_(by_invoice))
    return [c.id for c in clients.limit(limit)]


@pytest.fixture
def paths(monkeypatch) -> list[str]:
    """Which step answered each search (see models.client_search)."""
    taken: list[str] = []
    among_first, indexed = client_search._among_first, client_search.indexed_query

    def first(pattern, limit):
        found, read_all = among_first(pattern, limit)
        taken.append("first" if len(found) >= limit or read_all else "scan")
        return found, read_all

    def by_index(pattern, limit):
        taken[-1] = "index"
        return indexed(pattern, limit)

    monkeypatch.setattr(client_search, "_among_first", first)
    monkeypatch.setattr(client_search, "indexed_query", by_index)
    return taken


def _compare(limits=(1, 5, 50)) -> None:
    for text in TEXTS:
        for limit in limits:
            assert [c.id for c in search_clients(text, limit)] == old_search(text, limit), \
                (text, limit)


def test_search_finds_what_the_like_query_found_by_every_path(db, monkeypatch, paths):
    add_clients(300, seed=7)
    add_clients(40, seed=8, invoices_each=1)
    monkeypatch.setattr(client_search, "FIRST_CLIENTS", 25)
    _compare()
    assert {"first", "index", "scan"} <= set(paths)
    monkeypatch.setattr(client_search, "FIRST_CLIENTS", 1000)  # every client read at once
    _compare()


def test_search_follows_names_numbers_and_emails_as_they_change(db, monkeypatch):
    ids = add_clients(120, seed=9)
    monkeypatch.setattr(client_search, "FIRST_CLIENTS", 10)
    assert search_clients("quillfeather", 5) == []
    Client.update(name="Petra Quillfeather").where(Client.id == ids[70]).execute()
    Client.update(email="QUILLFEATHER@post.example").where(Client.id == ids[3]).execute()
    invoice = Invoice.select().where(Invoice.client == ids[40]).first()
    Invoice.update(number="QF-77-quillfeather").where(Invoice.id == invoice.id).execute()
    Case.update(number="ZQ-quillfeather").where(Case.client == ids[90]).execute()
    assert sorted(c.id for c in search_clients("quillfeather", 50)) == sorted(
        [ids[70], ids[3], ids[40], ids[90]])
    old_number = Invoice.get_by_id(Invoice.select(Invoice.id).where(
        Invoice.client == ids[11]).scalar()).number
    Invoice.delete().where(Invoice.number == old_number).execute()
    Client.update(name="Someone Else").where(Client.id == ids[70]).execute()
    assert ids[70] not in [c.id for c in search_clients("quillfeather", 50)]
    assert ids[11] not in [c.id for c in search_clients(old_number, 50)]
    _compare(limits=(3, 50))


def test_the_trigram_indexes_serve_the_search(db):
    add_clients(4000, seed=10, invoices_each=1)
    plan = plan_of(client_search.indexed_query("%quillfeather%", 50))
    if is_postgres():
        for index in ("client_name_trigram", "client_email_trigram", "case_number_trigram",
                      "invoice_number_trigram"):
            assert index in plan, plan
    else:
        for table in ("client_search", "case_number_search", "invoice_number_search"):
            assert f"SCAN {table} VIRTUAL TABLE INDEX 0:L" in plan, plan


@pytest.mark.postgres
def test_pg_trgm_is_kept_out_of_the_schemas_tests_drop(postgres_db):
    schema = database.execute_sql(
        "SELECT extnamespace::regnamespace::text FROM pg_extension "
        "WHERE extname = 'pg_trgm'").fetchone()[0]
    assert schema == "public"
    assert database.execute_sql("SELECT current_schema()").fetchone()[0] != schema
