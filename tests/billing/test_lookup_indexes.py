"""Migration 0007's indexes serve the lookups made often: reconciliation's scans of what is
not final, client sign-in by LOWER(email); the migration goes down and up again; and a
PostgreSQL server without pg_trgm still upgrades."""

from __future__ import annotations

import contextlib
import datetime as dt
import importlib.util
import logging

import peewee as pw
import pytest

from billing import ledger
from billing.reconcile import unfinished_checkouts, unfinished_refunds
from billing.refunds import OPEN_REFUND
from models import client_search, database
from models.db import is_postgres
from models.firm import Client, PortalAccount, Staff
from models.invoices import Invoice
from models.payments import Checkout, InvoicePayment, Refund
from models.queries import portal_account_by_email, status_literally_in
from models.schema import MIGRATIONS_DIR, _runner, upgrade
from tests.models.many_clients import add_clients
from tests.models.plans import plan_of
from tests.models.test_client_search import old_search

INDEXES = ("checkout_open", "refund_open", "portal_account_email_lower", "client_name")
NOW = dt.datetime(2026, 3, 1, 12, 0)


def _history(client_ids: list[int], open_count: int) -> None:
    """Many finished card checkouts and refunds, and `open_count` of each not final."""
    firm = Client.get_by_id(client_ids[0]).firm_id
    staff = Staff.create(firm=firm, name="Pat Index", role="admin", pin_hash="unused")
    invoice = Invoice.select(Invoice.id).where(Invoice.client == client_ids[0]).scalar()
    rows = []
    for n in range(3000):
        status = "reserved" if n % (3000 // open_count) == 0 else "succeeded"
        rows.append({"firm": firm, "client": client_ids[n % len(client_ids)],
                     "payer_kind": "staff", "method": "card_keyed", "status": status,
                     "currency": "USD", "total_minor": 500, "terminal": "t",
                     "created_at": NOW, "updated_at": NOW})
    with database.atomic():
        for start in range(0, len(rows), 500):
            Checkout.insert_many(rows[start:start + 500]).execute()
        checkout_ids = [c.id for c in Checkout.select(Checkout.id).order_by(Checkout.id)]
        payments = [{"checkout": c, "invoice": invoice, "amount_minor": 500,
                     "refunded_minor": 0, "status": "captured"} for c in checkout_ids]
        for start in range(0, len(payments), 500):
            InvoicePayment.insert_many(payments[start:start + 500]).execute()
        payment_ids = [p.id for p in InvoicePayment.select(InvoicePayment.id)]
        refunds = [{"invoice_payment": p, "amount_minor": 100, "reason": "r", "staff": staff.id,
                    "status": "pending" if n % (3000 // open_count) == 0 else "succeeded",
                    "idempotency_key": f"k{n}", "terminal": "t", "created_at": NOW}
                   for n, p in enumerate(payment_ids)]
        for start in range(0, len(refunds), 500):
            Refund.insert_many(refunds[start:start + 500]).execute()


def _index_names() -> set[str]:
    if is_postgres():
        sql = "SELECT indexname FROM pg_indexes WHERE schemaname = current_schema()"
    else:
        sql = "SELECT name FROM sqlite_master WHERE type IN ('index', 'table')"
    return {row[0] for row in database.execute_sql(sql).fetchall()}


def test_reconciliation_reads_only_what_is_not_final_through_partial_indexes(db):
    ids = add_clients(30, seed=21, invoices_each=1)
    _history(ids, open_count=5)
    cutoff = NOW + dt.timedelta(minutes=5)
    assert "checkout_open" in plan_of(unfinished_checkouts(cutoff))
    assert "checkout_open" in plan_of(unfinished_checkouts(None))
    assert "refund_open" in plan_of(unfinished_refunds(cutoff))
    assert len(list(unfinished_checkouts(cutoff))) == 5
    assert len(list(unfinished_refunds(cutoff))) == 5


def test_a_status_list_with_bound_values_would_miss_the_partial_index(sqlite_db):
    # Why reconciliation writes its statuses into the SQL: SQLite does not match a bound
    # parameter against the index's condition (PostgreSQL proves it with bound values too).
    add_clients(5, seed=22, invoices_each=1)
    bound = Checkout.select(Checkout.id).where(Checkout.status.not_in(ledger.FINAL_CHECKOUT))
    literal = Checkout.select(Checkout.id).where(
        status_literally_in(Checkout.status, ledger.FINAL_CHECKOUT, negate=True))
    assert "checkout_open" not in plan_of(bound)
    assert "checkout_open" in plan_of(literal)
    assert "refund_open" in plan_of(
        Refund.select(Refund.id).where(status_literally_in(Refund.status, OPEN_REFUND)))


def test_status_literally_in_refuses_anything_but_status_words():
    with pytest.raises(ValueError, match="status words"):
        status_literally_in(Checkout.status, ("paid'); DROP TABLE checkout; --",))
    with pytest.raises(ValueError, match="status words"):
        status_literally_in(Checkout.status, ())


def test_client_sign_in_finds_the_account_through_the_lower_email_index(db):
    ids = add_clients(200, seed=23, invoices_each=1)
    email = f"client{ids[17]}@x.io".lower()
    plan = plan_of(portal_account_by_email(email))
    assert "portal_account_email_lower" in plan, plan
    # Stored with capitals, found by the lower-cased address typed.
    PortalAccount.update(email="Mixed.Case@Example.COM").where(
        PortalAccount.client == ids[5]).execute()
    assert portal_account_by_email("mixed.case@example.com").get().client_id == ids[5]


def test_0007_goes_down_and_up_again_with_its_search_tables_filled(db, monkeypatch):
    add_clients(60, seed=24)
    runner = _runner(db)
    reverted = runner.down("0007_lookup_indexes")
    assert reverted[-1] == "0007_lookup_indexes"
    names = _index_names()
    assert not names & set(INDEXES)
    assert not any(n.endswith(("_trigram", "_search")) for n in names)
    assert "0007_lookup_indexes" in upgrade(db)
    assert set(INDEXES) <= _index_names()
    # Rows made before the upgrade are found through the indexes it built.
    monkeypatch.setattr(client_search, "FIRST_CLIENTS", 5)
    for text in ("whit", "ørsted", "example.org", "24:1:", "2021-0000", "mat-0003"):
        assert [c.id for c in client_search.search_clients(text, 50)] == old_search(text, 50)
    assert len(old_search("24:1:", 50)) == 50


class _NoTrigramServer:
    """A PostgreSQL connection where CREATE EXTENSION is refused."""

    def __init__(self) -> None:
        self.statements: list[str] = []

    def atomic(self):
        return contextlib.nullcontext()

    def execute_sql(self, sql: str, params=None):
        self.statements.append(sql)
        if sql.startswith("CREATE EXTENSION"):
            raise pw.ProgrammingError('permission denied to create extension "pg_trgm"\n')

        class Rows:
            def fetchone(self):
                return None

        return Rows()


def test_without_pg_trgm_the_upgrade_goes_on_and_says_the_search_reads_the_tables(caplog):
    spec = importlib.util.spec_from_file_location(
        "lookup_indexes", MIGRATIONS_DIR / "0007_lookup_indexes.py")
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    server = _NoTrigramServer()
    with caplog.at_level(logging.WARNING, logger="models.schema"):
        migration._postgres_search(server)
    assert not any("gin_trgm_ops" in s for s in server.statements)
    assert "pg_trgm is not available on this server (permission denied" in caplog.text
    assert "client search reads the tables" in caplog.text
