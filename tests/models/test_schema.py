"""Migrations bring any database to the current schema; the database guards the money."""

from __future__ import annotations

import subprocess
import sys

import peewee
import pytest

from models import (
    ALL_MODELS,
    AppendOnlyError,
    AuditEntry,
    Checkout,
    Client,
    Firm,
    Invoice,
    InvoicePayment,
    bind,
    database,
    open_database,
)
from models.schema import pending, upgrade


def test_upgrade_creates_every_table_and_twice_is_a_no_op(database_url):
    db = bind(open_database(database_url))
    assert upgrade(db) == ["0001_initial", "0002_guards", "0003_cards_on_file",
                           "0004_sign_in_guards", "0005_leases_and_customer_claims",
                           "0006_firm_contact_and_time_zone", "0007_lookup_indexes",
                           "0008_stripe_events", "0009_phone_entries", "0010_bank_debits",
                           "0011_short_search_pieces", "0012_bank_verifications",
                           "0013_phone_short_links"]
    with db.connection_context():
        tables = set(db.get_tables())
    assert {m._meta.table_name for m in ALL_MODELS} <= tables
    assert upgrade(db) == []
    assert pending(db) == []


def test_paydesk_db_upgrade_command_twice(database_url):
    cmd = [sys.executable, "-m", "tui.cli", "--db", database_url, "db", "upgrade"]
    first = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert first.returncode == 0, first.stderr
    assert "0001_initial" in first.stdout
    second = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert second.returncode == 0, second.stderr
    assert "nothing to do" in second.stdout


def test_paydesk_db_upgrade_names_a_bad_database_setting():
    cmd = [sys.executable, "-m", "tui.cli", "--db", "mysql://x/y", "db", "upgrade"]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert result.returncode == 2
    assert "database.url" in result.stderr and "postgresql://" in result.stderr


def _invoice() -> Invoice:
    return Invoice.get(Invoice.number == "INV-1001")


def _integrity(db):
    return pytest.raises(peewee.IntegrityError)


def test_paid_amount_can_never_exceed_the_total(demo_db):
    with _integrity(demo_db), database.atomic():
        Invoice.update(paid_minor=Invoice.total_minor + 1).where(
            Invoice.number == "INV-1001").execute()
    assert _invoice().paid_minor == 0


def test_amounts_are_never_negative(demo_db):
    with _integrity(demo_db), database.atomic():
        Invoice.update(total_minor=-1).where(Invoice.number == "INV-1001").execute()
    with _integrity(demo_db), database.atomic():
        Invoice.update(paid_minor=-5).where(Invoice.number == "INV-1001").execute()


def test_a_float_amount_is_refused_before_and_by_the_database(demo_db):
    with pytest.raises(TypeError, match="whole minor units"):
        Invoice.update(paid_minor=10.5).where(Invoice.number == "INV-1001").execute()
    if isinstance(database.obj, peewee.SqliteDatabase):
        with pytest.raises(peewee.IntegrityError, match="whole minor units"), database.atomic():
            database.execute_sql("UPDATE invoice SET paid_minor = 10.5 WHERE number = 'INV-1001'")
    assert _invoice().paid_minor == 0


def _checkout(key: str) -> Checkout:
    firm, client = Firm.get(), Client.get(Client.email == "dana.whitfield@example.com")
    return Checkout.create(firm=firm, client=client, payer_kind="client", method="card_keyed",
                           currency="USD", total_minor=100, customer_key=key, terminal="t")


def test_idempotency_keys_and_stripe_ids_are_unique(demo_db):
    first = _checkout("key-1")
    with _integrity(demo_db), database.atomic():
        _checkout("key-1")
    invoice = _invoice()
    InvoicePayment.create(checkout=first, invoice=invoice, amount_minor=100,
                          authorize_key="auth-1", stripe_payment_intent_id="pi_1")
    second = _checkout("key-2")
    with _integrity(demo_db), database.atomic():
        InvoicePayment.create(checkout=second, invoice=invoice, amount_minor=100,
                              authorize_key="auth-1")
    with _integrity(demo_db), database.atomic():
        InvoicePayment.create(checkout=second, invoice=invoice, amount_minor=100,
                              authorize_key="auth-2", stripe_payment_intent_id="pi_1")


def test_refunded_never_exceeds_the_payment(demo_db):
    payment = InvoicePayment.create(checkout=_checkout("k"), invoice=_invoice(), amount_minor=100)
    with _integrity(demo_db), database.atomic():
        InvoicePayment.update(refunded_minor=101).where(InvoicePayment.id == payment.id).execute()


def test_audit_entries_are_append_only(demo_db):
    entry = AuditEntry.create(actor="system", action="test", subject="firm:1", result="ok",
                              terminal="t")
    entry.result = "changed"
    with pytest.raises(AppendOnlyError):
        entry.save()
    with pytest.raises(AppendOnlyError):
        entry.delete_instance()
    with pytest.raises(peewee.DatabaseError, match="append-only"), database.atomic():
        AuditEntry.update(result="changed").where(AuditEntry.id == entry.id).execute()
    with pytest.raises(peewee.DatabaseError, match="append-only"), database.atomic():
        AuditEntry.delete().where(AuditEntry.id == entry.id).execute()
    assert AuditEntry.get_by_id(entry.id).result == "ok"
