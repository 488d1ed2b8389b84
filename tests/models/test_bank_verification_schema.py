"""Migration 0012: the bank verifications kept for a later visit (SQLite and PostgreSQL):
one per checkout, only the four statuses and the two kinds of deposit, no negative tries;
down and up again. Up makes no row for a bank checkout already under way: the database
cannot tell a debit waiting for microdeposits from one sent and not yet applied;
reconciliation reads Stripe and records the wait (tests/billing/test_bank_verify_fixes.py)."""

from __future__ import annotations

import datetime as dt
import importlib.util

import peewee
import pytest
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator

from models import BankVerification, Checkout, Client, Firm, Invoice, InvoicePayment, is_postgres
from models.schema import MIGRATIONS_DIR

NOW = dt.datetime(2026, 11, 26, 9, 0, 0)


def _checkout() -> Checkout:
    return Checkout.create(firm=Firm.get(), client=Client.get(), payer_kind="client",
                           method="bank_debit", payment_method_type="us_bank_account",
                           currency="USD", total_minor=100, terminal="t1", status="reserved")


def _verification(checkout: Checkout, **fields) -> BankVerification:
    values = dict(checkout=checkout, client=checkout.client_id,
                  stripe_payment_intent_id="pi_123", requested_at=NOW,
                  expires_at=NOW + dt.timedelta(days=10), updated_at=NOW)
    values.update(fields)
    return BankVerification.create(**values)


def test_one_verification_per_checkout_and_only_known_statuses(demo_db):
    checkout = _checkout()
    kept = _verification(checkout)
    assert (kept.status, kept.attempts_left, kept.microdeposit_type) == (
        "waiting", None, "descriptor_code")
    with pytest.raises(peewee.IntegrityError), demo_db.atomic():
        _verification(checkout)
    for bad in ({"status": "done"}, {"attempts_left": -1}, {"microdeposit_type": "both"}):
        with pytest.raises(peewee.IntegrityError), demo_db.atomic():
            _verification(_checkout(), **bad)


def test_down_then_up_again(demo_db):
    spec = importlib.util.spec_from_file_location(
        "m0012", MIGRATIONS_DIR / "0012_bank_verifications.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    migrator = (PostgresqlMigrator if is_postgres() else SqliteMigrator)(demo_db)
    with demo_db.atomic():
        module.down(migrator, demo_db)
    assert "bank_verification" not in demo_db.get_tables()
    # A bank checkout under way before 0012 (waiting for its code, or sent and not yet
    # applied: the database cannot tell): up makes no row; reconciliation reads Stripe.
    waiting = _checkout()
    InvoicePayment.create(checkout=waiting, invoice=Invoice.get(), amount_minor=100,
                          status="authorizing", stripe_payment_intent_id="pi_waiting",
                          payment_method_type="us_bank_account")
    with demo_db.atomic():
        module.up(migrator, demo_db)
    assert "bank_verification" in demo_db.get_tables()
    assert BankVerification.select().count() == 0
    kept = _verification(waiting, microdeposit_type="amounts")
    assert BankVerification.get_by_id(kept.id).microdeposit_type == "amounts"
