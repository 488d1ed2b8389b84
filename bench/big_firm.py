"""A big firm: 100,000 clients, 1,000,000 invoices, 255,000 checkouts (a few hundred not
finished), on SQLite and on PostgreSQL, before migration 0007's indexes, before 0011's
index of short pieces, and with every migration.

Times the lookups made often: a client's payable invoices, the invoice a payment code
opens, the client sign-in lookup, the staff client search (texts of 1, 2 and 3+ characters,
common and rare), and the start-up reconciliation's scans. Prints the median of --runs runs
(at least 5; 5x more for the fast lookups) in ms against the goals: 5 ms each, 50 ms for
the client search. Also prints the size of the search indexes and the time to insert
invoices in bulk before and after 0011 (its triggers on SQLite, its indexes on PostgreSQL).

The firm is made once at migration 0006 with bulk inserts (executemany on SQLite, COPY on
PostgreSQL); the SQLite file is kept in /tmp between runs (--fresh makes it again), and
with --keep-postgres so is the PostgreSQL one (as a template each run copies). Each run
measures a copy, upgrades it to 0010 and then to the end (each upgrade timed: 0007 and 0011
build their indexes over the whole firm), measuring after each.

Not a test: run `.venv/bin/python bench/big_firm.py [--db sqlite|postgres|both]`.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import sys
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlparse, urlunparse

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import peewee as pw  # noqa: E402

from bench.big_firm_data import CUTOFF, bulk, generate, sample  # noqa: E402
from billing import ledger  # noqa: E402
from billing.reconcile import unfinished_checkouts, unfinished_refunds  # noqa: E402
from billing.refunds import OPEN_REFUND  # noqa: E402
from models import bind, client_search, database, open_database  # noqa: E402
from models.client_search import indexed_query, pattern_for, search_clients  # noqa: E402
from models.db import is_postgres  # noqa: E402
from models.firm import Case, Client  # noqa: E402
from models.invoices import Invoice  # noqa: E402
from models.payments import Checkout, Refund  # noqa: E402
from models.queries import (  # noqa: E402
    invoice_for_payment_code,
    payable_invoices,
    portal_account_by_email,
)
from models.schema import _runner, upgrade  # noqa: E402

BEFORE = "0006_firm_contact_and_time_zone"
BEFORE_PIECES = "0010_bank_debits"
CACHE = Path("/tmp/paydesk_big_firm_v1_0006.sqlite")  # noqa: S108 - a cache the user may delete
WORK = Path("/tmp/paydesk_big_firm_run.sqlite")  # noqa: S108
GOAL_MS, SEARCH_GOAL_MS = 5.0, 50.0


def old_search(text: str, limit: int = 50) -> list[Client]:
    """The client search before 0007 (billing.clients.find_clients' query, as it was)."""
    pattern = f"%{text.strip().lower()}%"
    by_case = Case.select(Case.client).where(pw.fn.LOWER(Case.number) ** pattern)
    by_invoice = Invoice.select(Invoice.client).where(pw.fn.LOWER(Invoice.number) ** pattern)
    return list(Client.select().order_by(Client.name, Client.id).where(
        (pw.fn.LOWER(Client.name) ** pattern) | (pw.fn.LOWER(Client.email) ** pattern)
        | Client.id.in_(by_case) | Client.id.in_(by_invoice)).limit(limit))


def search_before_0011(text: str, limit: int = 50) -> list[Client]:
    """The client search as it was before 0011: a text of 1 or 2 characters that step 1
    does not answer reads the four columns whole."""
    pattern = pattern_for(text)
    found, read_all = client_search._among_first(pattern, limit)
    if len(found) >= limit or read_all:
        return found
    if client_search._TRIGRAM_RUN.search(pattern):
        return list(indexed_query(pattern, limit))
    return list(client_search._by_name().where(client_search._matching_sets(pattern))
                .limit(limit))


def old_reconcile_scan() -> int:
    """Reconciliation's two scans before 0007: statuses as bound parameters."""
    checkouts = Checkout.select(Checkout.id, Checkout.terminal, Checkout.lease_owner,
                                Checkout.lease_until).where(
        Checkout.status.not_in(ledger.FINAL_CHECKOUT) & Checkout.method.startswith("card_")
        & (Checkout.updated_at <= CUTOFF)).order_by(Checkout.id)
    refunds = Refund.select(Refund.id).where(
        Refund.status.in_(OPEN_REFUND) & (Refund.created_at <= CUTOFF)).order_by(Refund.id)
    return len(list(checkouts)) + len(list(refunds.tuples()))


def reconcile_scan() -> int:
    return (len(list(unfinished_checkouts(CUTOFF)))
            + len(list(unfinished_refunds(CUTOFF).tuples())))


def median_ms(call: Callable[[object], object], inputs: list, runs: int) -> float:
    call(inputs[0])  # warm the caches: the figure is for a desk in use
    times = []
    for n in range(runs):
        started = time.perf_counter()
        call(inputs[n % len(inputs)])
        times.append((time.perf_counter() - started) * 1000)
    return statistics.median(times)


def measure(data: dict, runs: int, *, stage: str) -> dict[str, float]:
    """The figures at `stage`: "0006" (old queries), "0010" (before 0011) or "now"."""
    fast = runs * 5
    after = stage != "0006"
    search = {"0006": old_search, "0010": search_before_0011, "now": search_clients}[stage]
    figures = {
        "payable_invoices": median_ms(payable_invoices, data["clients"], fast),
        "invoice_for_payment_code": median_ms(invoice_for_payment_code, data["codes"], fast),
        "sign-in lookup": median_ms(lambda e: portal_account_by_email(e).first(),
                                    data["emails"], fast),
        "start-up reconciliation scan": median_ms(
            lambda _: reconcile_scan() if after else old_reconcile_scan(), [None], fast),
    }
    for label, text in data["searches"]:
        figures[f"search {label}"] = median_ms(lambda t: search(t, 50), [text],
                                               fast if stage == "now" else runs)
    return figures


def same_answers(data: dict) -> None:
    """The search with 0011 answers every text as the plain LIKE query does."""
    for _label, text in data["searches"]:
        got = [c.id for c in search_clients(text, 50)]
        assert got == [c.id for c in old_search(text, 50)], text


def insert_ms(count: int = 20_000) -> float:
    """Milliseconds to insert `count` invoices in bulk (rolled back)."""
    first = Invoice.select(pw.fn.MAX(Invoice.id)).scalar() + 1
    rows = [(n, 1, 1 + (n % 100_000) * 2, 1 + n % 100_000, f"NEW-{n:08d}", "2026-01-05",
             "2026-02-04", "issued", "USD", 10_000, 0) for n in range(first, first + count)]
    with database.atomic() as tx:
        started = time.perf_counter()
        bulk(database.obj, "invoice", (
            "id", "firm_id", "case_id", "client_id", "number", "issue_date", "due_date",
            "status", "currency", "total_minor", "paid_minor"), rows)
        elapsed = (time.perf_counter() - started) * 1000
        tx.rollback()
    return elapsed


def index_sizes() -> dict[str, int]:
    """Bytes of the search's indexes and of the invoice table."""
    if is_postgres():
        names = [f"{t}_{c}_trigram" for t, c in (
            ("client", "name"), ("client", "email"), ("case", "number"), ("invoice", "number"))]
        names += ["client_pieces", "case_number_pieces", "invoice_number_pieces"]
        sizes = {name: database.execute_sql(
            "SELECT COALESCE(pg_relation_size(to_regclass(%s)), 0)", (name,)).fetchone()[0]
            for name in names}
        sizes["invoice (table)"] = database.execute_sql(
            "SELECT pg_relation_size('invoice')").fetchone()[0]
        return sizes
    rows = database.execute_sql(
        "SELECT name, SUM(pgsize) FROM dbstat WHERE name LIKE '%search%' OR name = 'invoice' "
        "GROUP BY name ORDER BY name").fetchall()
    return {("invoice (table)" if n == "invoice" else n): size for n, size in rows}


def explain(data: dict) -> None:
    queries = {
        "sign-in": portal_account_by_email(data["emails"][0]),
        "reconcile checkouts": unfinished_checkouts(CUTOFF),
        "reconcile refunds": unfinished_refunds(CUTOFF),
    }
    queries["search (indexed step)"] = indexed_query(pattern_for(data["rare_name"]), 50)
    queries["search (short pieces step)"] = client_search.short_text_query("%qz%", "qz", 50)
    for label, query in queries.items():
        sql, params = query.sql()
        prefix = "EXPLAIN" if is_postgres() else "EXPLAIN QUERY PLAN"
        rows = database.execute_sql(f"{prefix} {sql}", params).fetchall()
        print(f"  plan, {label}:")
        for row in rows:
            print(f"    {row[0] if is_postgres() else row[-1]}")


def report(engine: str, stages: dict[str, dict[str, float]]) -> None:
    print(f"\n{engine}: median ms (before 0007 / before 0011 / now), goal")
    for name, ms in stages["now"].items():
        goal = SEARCH_GOAL_MS if name.startswith("search") else GOAL_MS
        verdict = "ok" if ms <= goal else "OVER"
        was = " ".join(f"{stages[s][name]:>8.2f}" if name in stages.get(s, {}) else f"{'-':>8}"
                       for s in ("0006", "0010"))
        print(f"  {name:<46} {was} -> {ms:>7.2f}   <= {goal:g}  {verdict}")


def make_firm(engine: str, url: str) -> None:
    """The firm at 0006, in the database at `url`."""
    db = bind(open_database(url))
    with db.connection_context():
        _runner(db).up(BEFORE)
        started = time.perf_counter()
        counts = generate(db)
        print(f"{engine}: generated {counts} in {time.perf_counter() - started:.0f} s")
        if not is_postgres():
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.close()


def run_engine(engine: str, url: str, runs: int, *, since_0010: bool) -> None:
    db = bind(open_database(url))
    with db.connection_context():
        if is_postgres():
            db.execute_sql("ANALYZE")
        data = sample(db)
        stages: dict[str, dict[str, float]] = {}
        inserts: dict[str, float] = {}
        for stage, target in (("0006", None), ("0010", BEFORE_PIECES), ("now", "")):
            if target is not None:
                started = time.perf_counter()
                applied = _runner(db).up(target) if target else upgrade(db)
                print(f"{engine}: upgrade {', '.join(applied) or '-'} took "
                      f"{time.perf_counter() - started:.1f} s")
                if is_postgres():
                    db.execute_sql("ANALYZE")
            if stage == "0006" and since_0010:
                continue
            stages[stage] = measure(data, runs, stage=stage)
            if stage != "0006":
                inserts[stage] = statistics.median(insert_ms() for _ in range(3))
        same_answers(data)
        report(engine, stages)
        print(f"  {engine}: bulk insert of 20,000 invoices, median of 3 (ms): " + ", ".join(
            f"{'before 0011' if s == '0010' else 'now'} {ms:.0f}" for s, ms in inserts.items()))
        print(f"  {engine}: sizes (MB): " + ", ".join(
            f"{name} {size / 1e6:.1f}" for name, size in index_sizes().items()))
        explain(data)


def sqlite(runs: int, fresh: bool, since_0010: bool) -> None:
    if fresh or not CACHE.exists():
        CACHE.unlink(missing_ok=True)
        make_firm("sqlite", str(CACHE))
        print(f"sqlite: the firm is kept in {CACHE}")
    shutil.copyfile(CACHE, WORK)
    try:
        run_engine("sqlite", str(WORK), runs, since_0010=since_0010)
    finally:
        for path in (WORK, Path(f"{WORK}-wal"), Path(f"{WORK}-shm")):
            path.unlink(missing_ok=True)


def postgres(runs: int, base_url: str, keep: str | None, since_0010: bool) -> None:
    """On a database of its own, dropped at the end. With `keep`, the firm is made once at
    0006 in that database and kept; each run measures a copy of it (CREATE DATABASE ...
    TEMPLATE)."""
    import psycopg2

    name = f"paydesk_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(base_url)
    admin.autocommit = True
    cursor = admin.cursor()

    def url_of(database_name: str) -> str:
        return urlunparse(urlparse(base_url)._replace(path=f"/{database_name}"))

    try:
        if keep:
            cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (keep,))
            if cursor.fetchone() is None:
                cursor.execute(f'CREATE DATABASE "{keep}"')
                make_firm("postgres", url_of(keep))
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{keep}"')
        else:
            cursor.execute(f'CREATE DATABASE "{name}"')
            make_firm("postgres", url_of(name))
        run_engine("postgres", url_of(name), runs, since_0010=since_0010)
    finally:
        if not database.obj.is_closed():
            database.obj.close()
        cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--fresh", action="store_true", help="make the SQLite firm again")
    parser.add_argument("--keep-postgres", metavar="DATABASE",
                        help="make the PostgreSQL firm in this database once and keep it")
    parser.add_argument("--since-0010", action="store_true",
                        help="skip the figures before 0007 (the old queries are slow)")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "PAYDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    runs = max(5, args.runs)
    if args.db in ("sqlite", "both"):
        sqlite(runs, args.fresh, args.since_0010)
    if args.db in ("postgres", "both"):
        postgres(runs, args.postgres_url, args.keep_postgres, args.since_0010)


if __name__ == "__main__":
    main()
