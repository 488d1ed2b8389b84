"""A big firm: 100,000 clients, 1,000,000 invoices, 255,000 checkouts (a few hundred not
finished), on SQLite and on PostgreSQL, before and after migration 0007's indexes.

Times the lookups made often: a client's payable invoices, the invoice a payment code
opens, the client sign-in lookup, the staff client search (several kinds of text), and the
start-up reconciliation's scans. Prints the median of --runs runs (at least 5; 5x more for
the fast lookups) in ms against the goals: 5 ms each, 50 ms for the client search.

The firm is made once at migration 0006 with bulk inserts (executemany on SQLite, COPY on
PostgreSQL); the SQLite file is kept in /tmp between runs (--fresh makes it again). Each
run measures a copy, upgrades it (timed: 0007 builds its indexes over the whole firm), and
measures again. PostgreSQL gets a database of its own, dropped at the end.

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

from bench.big_firm_data import CUTOFF, generate, sample  # noqa: E402
from billing import ledger  # noqa: E402
from billing.reconcile import unfinished_checkouts, unfinished_refunds  # noqa: E402
from billing.refunds import OPEN_REFUND  # noqa: E402
from models import bind, database, open_database  # noqa: E402
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
from models.schema import _runner, pending, upgrade  # noqa: E402

BEFORE = "0006_firm_contact_and_time_zone"
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


def measure(data: dict, runs: int, *, after: bool) -> dict[str, float]:
    fast = runs * 5
    search = search_clients if after else (lambda text, limit: old_search(text, limit))
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
                                               fast if after else runs)
    return figures


def explain(data: dict) -> None:
    queries = {
        "sign-in": portal_account_by_email(data["emails"][0]),
        "reconcile checkouts": unfinished_checkouts(CUTOFF),
        "reconcile refunds": unfinished_refunds(CUTOFF),
    }
    queries["search (indexed step)"] = indexed_query(pattern_for(data["rare_name"]), 50)
    for label, query in queries.items():
        sql, params = query.sql()
        prefix = "EXPLAIN" if is_postgres() else "EXPLAIN QUERY PLAN"
        rows = database.execute_sql(f"{prefix} {sql}", params).fetchall()
        print(f"  plan, {label}:")
        for row in rows:
            print(f"    {row[0] if is_postgres() else row[-1]}")


def report(engine: str, before: dict, after: dict) -> None:
    print(f"\n{engine}: median ms (before 0007 -> after), goal")
    for name, ms in after.items():
        goal = SEARCH_GOAL_MS if name.startswith("search") else GOAL_MS
        verdict = "ok" if ms <= goal else "OVER"
        was = f"{before[name]:>9.2f}" if name in before else f"{'-':>9}"
        print(f"  {name:<42} {was} -> {ms:>8.2f}   <= {goal:g}  {verdict}")


def run_engine(engine: str, url: str, runs: int, *, fresh_db: bool) -> None:
    db = bind(open_database(url))
    with db.connection_context():
        if fresh_db:
            _runner(db).up(BEFORE)
            started = time.perf_counter()
            counts = generate(db)
            print(f"{engine}: generated {counts} in {time.perf_counter() - started:.0f} s")
        if is_postgres():
            db.execute_sql("ANALYZE")
        data = sample(db)
        # A kept PostgreSQL firm is already upgraded: there is no "before" to measure.
        before = measure(data, runs, after=False) if pending(db) else {}
        started = time.perf_counter()
        applied = upgrade(db)
        print(f"{engine}: upgrade {', '.join(applied)} took {time.perf_counter() - started:.1f} s")
        if is_postgres():
            db.execute_sql("ANALYZE")
        after = measure(data, runs, after=True)
        report(engine, before, after)
        explain(data)


def sqlite(runs: int, fresh: bool) -> None:
    if fresh or not CACHE.exists():
        CACHE.unlink(missing_ok=True)
        db = bind(open_database(str(CACHE)))
        with db.connection_context():
            _runner(db).up(BEFORE)
            started = time.perf_counter()
            counts = generate(db)
            print(f"sqlite: generated {counts} in {time.perf_counter() - started:.0f} s "
                  f"(kept in {CACHE})")
            db.execute_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    shutil.copyfile(CACHE, WORK)
    try:
        run_engine("sqlite", str(WORK), runs, fresh_db=False)
    finally:
        for path in (WORK, Path(f"{WORK}-wal"), Path(f"{WORK}-shm")):
            path.unlink(missing_ok=True)


def postgres(runs: int, base_url: str, keep: str | None) -> None:
    """On a database of its own, dropped at the end; with `keep`, that database is made
    once at 0006 and kept (each run then measures it as it is, already upgraded)."""
    import psycopg2

    name = keep or f"paydesk_bench_{uuid.uuid4().hex[:8]}"
    admin = psycopg2.connect(base_url)
    admin.autocommit = True
    cursor = admin.cursor()
    cursor.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,))
    fresh = cursor.fetchone() is None
    if fresh:
        cursor.execute(f'CREATE DATABASE "{name}"')
    url = urlunparse(urlparse(base_url)._replace(path=f"/{name}"))
    try:
        run_engine("postgres", url, runs, fresh_db=fresh)
    finally:
        database.obj.close()
        if not keep:
            cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--db", choices=("sqlite", "postgres", "both"), default="both")
    parser.add_argument("--runs", type=int, default=7)
    parser.add_argument("--fresh", action="store_true", help="make the SQLite firm again")
    parser.add_argument("--keep-postgres", metavar="DATABASE",
                        help="make the PostgreSQL firm in this database once and keep it")
    parser.add_argument("--postgres-url", default=os.environ.get(
        "PAYDESK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"))
    args = parser.parse_args()
    runs = max(5, args.runs)
    if args.db in ("sqlite", "both"):
        sqlite(runs, args.fresh)
    if args.db in ("postgres", "both"):
        postgres(runs, args.postgres_url, args.keep_postgres)


if __name__ == "__main__":
    main()
