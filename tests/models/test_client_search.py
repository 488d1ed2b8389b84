"""The client search finds exactly what the plain LIKE query found, by whichever path,
and the indexes serve it: trigrams (SQLite FTS5, PostgreSQL pg_trgm) and the 1- and
2-character pieces of migration 0011."""

from __future__ import annotations

import random

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
    short, scan = client_search.short_text_search, client_search._matching_sets

    def first(pattern, limit):
        found, read_all = among_first(pattern, limit)
        if len(found) >= limit or read_all:
            taken.append("first")
        return found, read_all

    def by_index(pattern, limit):
        taken.append("index")
        return indexed(pattern, limit)

    def by_pieces(pattern, piece, limit):
        taken.append("pieces")
        return short(pattern, piece, limit)

    def by_scan(pattern):
        taken.append("scan")
        return scan(pattern)

    monkeypatch.setattr(client_search, "_among_first", first)
    monkeypatch.setattr(client_search, "indexed_query", by_index)
    monkeypatch.setattr(client_search, "short_text_search", by_pieces)
    monkeypatch.setattr(client_search, "_matching_sets", by_scan)
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
    assert {"first", "index", "pieces", "scan"} <= set(paths)
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


# Texts of 1 and 2 characters beyond TEXTS: absent ones, digits, wildcards, non-ASCII in
# both cases (SQLite's LOWER and LIKE fold ASCII only; PostgreSQL's fold every letter),
# PostgreSQL's escape character, spaces around.
SHORT = [
    "q", "Q", "x", "9", "0", "1", "-", ":", "/", "@", ".", "'", "é", "É", "ø", "Ø", "ü", "Ü",
    "ł", "Ł", "ë", "Ë", "ö", "Ö", "á", "Á", "ß", "ä", "zz", "qz", "Zy", "øR", "ØR", "ül",
    "-Ü", "ÜB", "9-", "00", "07", "70", "%%", "__", "_%", "a_", "_a", "%a", "a%", "é_",
    "_Ü", "\\", "\\_", "\\%", "a\\", "\\a", "x\\", " q ", " é", "k ", "o'", "'b", " ",
    # Letters whose lowercase differs between Python, SQLite and PostgreSQL.
    "İ", "i̇", "ẞ", "Σ", "σ", "ς", "\u212a", "ǅ", "ǆ", "ΣΟ", "οσ", "ος",
]


def _short_texts(rng: random.Random) -> list[str]:
    """SHORT, and pieces cut from the firm's own texts (rare ones included)."""
    texts = list(SHORT)
    words = [c.name for c in Client.select(Client.name)] + [
        i.number for i in Invoice.select(Invoice.number)] + [
        c.number for c in Case.select(Case.number)] + [c.email for c in Client.select()]
    for word in rng.sample(words, 40):
        at = rng.randrange(len(word))
        texts.append(word[at:at + rng.choice((1, 2))])
        texts.append(texts[-1].upper())
    return texts


def _compare_short(texts: list[str], limits=(1, 5, 50)) -> None:
    for text in texts:
        for limit in limits:
            assert [c.id for c in search_clients(text, limit)] == old_search(text, limit), \
                (text, limit)


def test_short_texts_find_what_the_like_query_found(db, monkeypatch, paths):
    add_clients(300, seed=11)
    add_clients(60, seed=12, invoices_each=1)
    last = Client.select(Client.id).order_by(Client.id.desc())
    Client.update(name="Åsa ÉLODIE Łukasz").where(Client.id == last.limit(1)).execute()
    Client.update(name="İlkay ΣΟΦΟΣ \u212aelvin ǅemal", email="ẞ@σος.example").where(
        Client.id == last.offset(1).limit(1)).execute()
    texts = _short_texts(random.Random(3))
    monkeypatch.setattr(client_search, "FIRST_CLIENTS", 5)  # step 1 rarely answers
    _compare_short(texts)
    assert paths.count("pieces") > 100
    monkeypatch.setattr(client_search, "MANY_HOLDERS", 3)  # SQLite: clients in name order
    monkeypatch.setattr(client_search, "CHECK_CHUNK", 7)
    _compare_short(texts, limits=(1, 20))
    monkeypatch.setattr(client_search, "FIRST_CLIENTS", 1000)
    _compare_short(texts, limits=(5,))


def _pieces_table() -> dict[tuple[str, int], int]:
    return {(p, c): n for p, c, n in database.execute_sql(
        "SELECT piece, client_id, n FROM client_search_piece")}


def _pieces_from_scratch() -> dict[tuple[str, int], int]:
    """What migration 0011's fill writes for the rows as they are now."""
    fill = __import__("importlib").import_module(
        "models.migrations.0011_short_search_pieces")
    database.execute_sql("SAVEPOINT refill")
    fill._sqlite_fill(database.obj)
    rows = _pieces_table()
    database.execute_sql("ROLLBACK TO refill")
    database.execute_sql("RELEASE refill")
    return rows


def test_the_pieces_follow_names_numbers_and_emails_as_they_change(db, monkeypatch):
    ids = add_clients(150, seed=13)
    others = add_clients(20, seed=14, invoices_each=2)
    rng = random.Random(4)
    for n in range(0, 150, 7):
        Client.update(name=f"Zoë Ørsted-{n}").where(Client.id == ids[n]).execute()
        Client.update(email=f"QZ{n}@Ünïcode.example").where(Client.id == ids[n + 1]).execute()
    for invoice in Invoice.select().where(Invoice.client.in_(ids[:60])).limit(40):
        invoice.number = f"Ÿ{invoice.id}-{rng.choice(['qz', 'QZ', '%', '_', 'ß'])}"
        invoice.save()
    Invoice.update(client=others[0]).where(Invoice.client == ids[5]).execute()
    Invoice.update(total_minor=Invoice.total_minor + 1).execute()  # no searched column
    Case.update(number=pw.fn.UPPER(Case.number).concat("-Ä")).where(Case.client.in_(ids[:30])).execute()
    Invoice.delete().where(Invoice.client == ids[9]).execute()
    Invoice.delete().where(Invoice.client == ids[10]).execute()
    Case.delete().where(Case.client == ids[10]).execute()
    from models.firm import PortalAccount

    PortalAccount.delete().where(PortalAccount.client == ids[10]).execute()
    Client.delete().where(Client.id == ids[10]).execute()
    if not is_postgres():
        assert _pieces_table() == _pieces_from_scratch()
    monkeypatch.setattr(client_search, "FIRST_CLIENTS", 5)
    _compare_short(_short_texts(random.Random(5)) + ["qz", "QZ", "ÿ", "Ÿ", "-ä", "ØR"],
                   limits=(5, 50))


def test_the_pieces_serve_short_texts(db):
    add_clients(3000, seed=15, invoices_each=1)
    for text, exact in (("%qz%", True), ("%a_%", False)):
        piece = client_search.piece_for(text)
        assert piece is not None and piece[1] is exact
        plan = plan_of(client_search.short_text_query(text, piece[0], 50))
        if is_postgres():
            for index in ("client_pieces", "case_number_pieces", "invoice_number_pieces"):
                assert index in plan, plan
        else:
            # The holders of the piece (client_search_piece's key), then each client by id.
            assert "USING PRIMARY KEY (piece=?)" in plan, plan
            assert "USING INTEGER PRIMARY KEY (rowid=?)" in plan and "SCAN" not in plan, plan
            plan = plan_of(client_search.short_text_query(text, piece[0], 50, walk=True))
            assert "USING INDEX client_name" in plan, plan
            assert "USING PRIMARY KEY (piece=? AND client_id=?)" in plan, plan
