"""Migration 0010: bank debit columns and statuses, and the append-only authorization
records (SQLite and PostgreSQL), up and down."""

from __future__ import annotations

import peewee
import pytest
from playhouse.migrate import PostgresqlMigrator, SqliteMigrator

from models import (
    AppendOnlyError,
    BankAuthorization,
    BankMandate,
    Checkout,
    Client,
    Firm,
    Invoice,
    InvoicePayment,
    database,
    is_postgres,
)
from models.schema import MIGRATIONS_DIR


def _authorization() -> BankAuthorization:
    client = Client.get()
    checkout = Checkout.create(firm=Firm.get(), client=client, payer_kind="client",
                               method="bank_debit", payment_method_type="us_bank_account",
                               currency="USD", total_minor=100, terminal="t1",
                               status="processing")
    InvoicePayment.create(checkout=checkout, invoice=Invoice.get(Invoice.number == "INV-1001"),
                          amount_minor=100, status="processing",
                          payment_method_type="us_bank_account")
    return BankAuthorization.create(
        checkout=checkout, client=client, kind="WEB", terminal="t1", text="I agree",
        text_sha256="0" * 64, confirmation="Confirmed on screen", last4="6789")


def test_bank_debit_statuses_and_method_are_accepted(demo_db):
    auth = _authorization()
    checkout = Checkout.get_by_id(auth.checkout_id)
    assert (checkout.method, checkout.status) == ("bank_debit", "processing")
    assert InvoicePayment.get(InvoicePayment.checkout == checkout).status == "processing"
    assert Firm.get().bank_debits_enabled is True


def test_unknown_statuses_are_still_refused(demo_db):
    auth = _authorization()
    with pytest.raises(peewee.IntegrityError), database.atomic():
        database.execute_sql("UPDATE invoice_payment SET status = 'settled' "
                             f"WHERE checkout_id = {auth.checkout_id}")
    with pytest.raises(peewee.IntegrityError), database.atomic():
        database.execute_sql("UPDATE checkout SET payment_method_type = 'sepa_debit'")


@pytest.mark.parametrize("statement", [
    "UPDATE bank_authorization SET text = 'something else'",
    "DELETE FROM bank_authorization",
    "UPDATE bank_mandate SET stripe_mandate_id = 'mandate_other'",
    "DELETE FROM bank_mandate",
])
def test_authorizations_and_mandates_cannot_be_changed(demo_db, statement):
    auth = _authorization()
    BankMandate.create(authorization=auth, stripe_mandate_id="mandate_1")
    with pytest.raises(peewee.DatabaseError, match="append-only"), database.atomic():
        database.execute_sql(statement)
    assert BankAuthorization.get_by_id(auth.id).text == "I agree"
    assert BankMandate.get().stripe_mandate_id == "mandate_1"


def test_models_refuse_changes_too(demo_db):
    auth = _authorization()
    auth.text = "changed"
    with pytest.raises(AppendOnlyError):
        auth.save()
    with pytest.raises(AppendOnlyError):
        auth.delete_instance()


def _migration():
    import importlib.util
    spec = importlib.util.spec_from_file_location("m0010", MIGRATIONS_DIR / "0010_bank_debits.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_down_then_up_again_keeps_the_rows_and_the_guards(demo_db):
    """On a database holding payments: 0010 goes down and up again without rebuilding
    tables (which the foreign keys to them would refuse) and without losing their guards."""
    module = _migration()
    db = demo_db
    migrator = (PostgresqlMigrator if is_postgres() else SqliteMigrator)(db)
    checkouts = Checkout.select().count()
    with db.atomic():
        module.down(migrator, db)
    assert not {"bank_authorization", "bank_mandate"} & set(db.get_tables())
    with pytest.raises(peewee.IntegrityError), db.atomic():
        db.execute_sql("UPDATE checkout SET method = 'bank_debit'")
    with db.atomic():
        module.up(migrator, db)
    assert {"bank_authorization", "bank_mandate"} <= set(db.get_tables())
    assert Checkout.select().count() == checkouts
    assert {c.payment_method_type for c in Checkout.select()} == {"card"}
    if not is_postgres():  # 0002's whole-minor-units guard survived (no table rebuilt)
        with pytest.raises(peewee.IntegrityError, match="whole minor units"), db.atomic():
            db.execute_sql("UPDATE invoice_payment SET amount_minor = 1.5")
    _authorization()  # and bank debits can be stored again
