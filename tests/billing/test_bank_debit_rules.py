"""The rules a bank debit is checked against before anything is kept or sent: the mandate
says what the record says (WEB: the payer's IP address and user agent), a TEL debit's
notice can go out, the holder named is the one who authorizes, US dollars only; and the
records each debit leaves are written once (SQLite and PostgreSQL)."""

from __future__ import annotations

import dataclasses
import importlib

import peewee
import pytest

from billing import bank_checkout
from billing.bank_authorization import authorization_text, record_mandate
from billing.bank_values import BankAccountEntry
from billing.errors import BillingError, PaymentsDisabled
from models import (
    AuditEntry,
    BankAuthorization,
    BankMandate,
    Checkout,
    Client,
    Firm,
    InvoicePayment,
    database,
)
from tests.billing.bank_support import ROUTING, SUCCEEDS, THREE, pay_three, tel, web
from tests.billing.conftest import dana_client, full_balances


def _counts() -> tuple[int, int]:
    return Checkout.select().count(), AuditEntry.select().count()


@pytest.mark.parametrize("missing", ["ip_address", "user_agent"])
def test_an_online_authorization_without_ip_or_user_agent_is_refused(desk, dana, sandbox,
                                                                     missing):
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, amounts)
    context = dataclasses.replace(context, **{missing: None})
    before = _counts()
    with pytest.raises(BillingError, match="IP address"):
        desk.pay_by_bank(dana, amounts, entry, context)
    assert _counts() == before


def test_a_telephone_debit_without_the_clients_email_is_refused(desk, sandbox):
    client_id = dana_client().id
    Client.update(email="").where(Client.id == client_id).execute()
    staff = desk.sign_in_staff("Front Desk", "2468")
    payer = desk.payer_for_client(staff, client_id)
    amounts = full_balances(THREE)
    entry, context = tel(desk, payer, amounts)
    before = _counts()
    with pytest.raises(BillingError, match="email address"):
        desk.pay_by_bank(payer, amounts, entry, context)
    assert _counts() == before


def test_the_authorization_names_the_account_holder(desk, dana, sandbox):
    amounts = full_balances(THREE)
    entry = BankAccountEntry(ROUTING, SUCCEEDS, "Sam Whitfield")
    _, context = web(desk, dana, amounts)  # the text names the client, not the holder
    with pytest.raises(BillingError, match="must name the account holder, Sam Whitfield"):
        desk.pay_by_bank(dana, amounts, entry, context)
    text = authorization_text(Firm.get(), dana, amounts, context.kind, desk._today(),
                              last4=entry.last4, holder=entry.holder_name)
    assert "I, Sam Whitfield, authorize" in text
    waiting = desk.pay_by_bank(dana, amounts, entry, dataclasses.replace(context, text=text))
    row = BankAuthorization.get(BankAuthorization.checkout == waiting.checkout_id)
    assert "I, Sam Whitfield, authorize" in row.text


def test_bank_debits_are_refused_for_a_firm_not_in_us_dollars(desk, dana, sandbox):
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, amounts)
    Firm.update(currency="CAD").execute()
    with pytest.raises(PaymentsDisabled, match="US dollars"):
        desk.pay_by_bank(dana, amounts, entry, context)
    assert sandbox.count("payment_method") == 0


def test_the_same_answer_applied_twice_is_audited_once(desk, dana, gateway, sandbox):
    _amounts, _waiting, result = pay_three(desk, dana, sandbox, numbers=THREE[:1])
    payment = InvoicePayment.get(InvoicePayment.checkout == result.checkout_id)
    checkout = Checkout.get_by_id(result.checkout_id)
    authorization = BankAuthorization.get(BankAuthorization.checkout == checkout.id)
    pi = gateway.bank_debit(payment.stripe_payment_intent_id)
    started = AuditEntry.select().where(
        (AuditEntry.action == "bank_debit.start")
        & AuditEntry.details.contains(f"invoice_payment:{payment.id} "))
    before = started.count()

    bank_checkout._after_sent(payment, pi, authorization, checkout)  # a double press

    assert started.count() == before == 1


def test_a_mandate_recorded_by_another_process_meanwhile_is_kept_once(
        desk, dana, gateway, sandbox, monkeypatch):
    _amounts, _waiting, result = pay_three(desk, dana, sandbox, numbers=THREE[:1])
    kept = BankMandate.select().order_by(BankMandate.id.desc()).get()
    # The other process inserts between this one's check and its insert.
    monkeypatch.setattr(BankMandate, "get_or_none", classmethod(lambda cls, *a: None))
    with database.atomic():
        record_mandate(kept.authorization_id, kept.stripe_mandate_id, "Bank")
        same = BankMandate.select().where(
            BankMandate.stripe_mandate_id == kept.stripe_mandate_id)
        assert same.count() == 1  # the transaction is still usable
    assert same.count() == 1


def test_the_sqlite_check_edit_stops_when_the_definition_is_not_found(tmp_path):
    migration = importlib.import_module("models.migrations.0010_bank_debits")
    db = peewee.SqliteDatabase(str(tmp_path / "m.db"))
    db.execute_sql("CREATE TABLE t (s TEXT CHECK (s IN ('a')))")
    with pytest.raises(RuntimeError, match="CHECK"):
        migration._sqlite_checks(db, [("t", "IN ('x')", "IN ('x', 'y')")])
    migration._sqlite_checks(db, [("t", "IN ('a')", "IN ('a', 'b')")])
    db.execute_sql("INSERT INTO t VALUES ('b')")  # widened
