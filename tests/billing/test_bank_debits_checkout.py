"""Bank debits over several invoices, end to end over the sandbox (SQLite and PostgreSQL):
one debit per invoice, processing while held, settled or failed by Stripe's events."""

from __future__ import annotations

import pytest

from billing.bank_values import BankAccountEntry, BankCheckoutResult, NeedsVerification
from billing.errors import BalancesChanged, BillingError
from billing.event_sync import read_events
from models import AuditEntry, Checkout, InvoicePayment, OutboundEmail
from models.demo import DANA_EMAIL
from tests.billing.bank_support import (
    DELAY,
    FAILS,
    ROUTING,
    THREE,
    emails_to,
    firm_email,
    pay_three,
    web,
)
from tests.billing.conftest import balances, full_balances, invoice, keyed


def _payments(checkout_id: int) -> list[InvoicePayment]:
    return list(InvoicePayment.select().where(InvoicePayment.checkout == checkout_id)
                .order_by(InvoicePayment.position))


def test_dana_pays_three_invoices_by_bank_debit(desk, dana, gateway, sandbox):
    before = balances(THREE)
    amounts, waiting, result = pay_three(desk, dana, sandbox)

    assert isinstance(waiting, NeedsVerification)
    assert isinstance(result, BankCheckoutResult)
    assert [d.status for d in result.debits] == ["processing"] * 3
    assert "one can fail while the others succeed" in result.message
    rows = _payments(result.checkout_id)
    assert [p.status for p in rows] == ["processing"] * 3
    assert {gateway.bank_debit(p.stripe_payment_intent_id).status for p in rows} == {
        "processing"}
    assert len({p.stripe_payment_intent_id for p in rows}) == 3  # one debit per invoice
    # Held, not paid: the balances are unchanged, yet nothing of them is payable.
    assert balances(THREE) == before
    listed = {i.number for i in desk.payable_invoices(dana)}
    assert not listed & set(THREE)
    with pytest.raises(BalancesChanged):
        desk.pay(dana, {invoice("INV-1001").id: amounts[invoice("INV-1001").id]}, keyed())
    read_events(gateway)  # nothing settles before the delay
    assert [p.status for p in _payments(result.checkout_id)] == ["processing"] * 3

    sandbox.advance_clock(DELAY)
    read_events(gateway)

    rows = _payments(result.checkout_id)
    assert [p.status for p in rows] == ["captured"] * 3
    assert all(p.receipt_number for p in rows)
    assert len({p.receipt_number for p in rows}) == 3
    assert {n: balances(THREE)[n] for n in THREE} == {
        n: before[n] - amounts[invoice(n).id].minor for n in THREE}
    settled = [e for e in emails_to(DANA_EMAIL) if "bank payment received" in e.subject]
    assert len(settled) == 3
    assert Checkout.get_by_id(result.checkout_id).status == "succeeded"
    assert AuditEntry.select().where(
        (AuditEntry.action == "bank_debit.settle")
        & AuditEntry.details.contains(f"checkout:{result.checkout_id} ")).count() == 3
    # Each event applied once: syncing again changes nothing.
    read_events(gateway)
    assert len([e for e in emails_to(DANA_EMAIL) if "bank payment received" in e.subject]) == 3


def test_a_returned_debit_makes_the_invoice_payable_again(desk, dana, gateway, sandbox):
    before = balances(THREE)
    _amounts, _waiting, result = pay_three(desk, dana, sandbox, account=FAILS)
    assert [d.status for d in result.debits] == ["processing"] * 3

    sandbox.advance_clock(DELAY)
    read_events(gateway)

    rows = _payments(result.checkout_id)
    assert [p.status for p in rows] == ["failed"] * 3
    assert all(p.receipt_number is None for p in rows)  # no receipt, ever
    assert {p.decline_code for p in rows} == {"R03"}
    assert balances(THREE) == before
    assert set(THREE) <= {i.number for i in desk.payable_invoices(dana)}
    reason = "the bank could not find that account (ACH return R03)"
    to_client = [e for e in emails_to(DANA_EMAIL) if "bank payment failed" in e.subject]
    to_staff = [e for e in emails_to(firm_email()) if "bank payment failed" in e.subject]
    assert len(to_client) == len(to_staff) == 3
    for number in THREE:
        assert any(number in e.subject and reason in _body(e) for e in to_client)
        assert any(number in e.subject and reason in _body(e) for e in to_staff)
    assert not [e for e in OutboundEmail.select() if "bank payment received" in e.subject]
    assert AuditEntry.select().where(
        (AuditEntry.action == "bank_debit.fail")
        & AuditEntry.details.contains(f"checkout:{result.checkout_id} ")).count() == 3
    assert Checkout.get_by_id(result.checkout_id).status == "failed"


def _body(email: OutboundEmail) -> str:
    from billing.emails import parse_message

    msg = parse_message(email.message)
    return msg.get_body(("plain",)).get_content()


@pytest.mark.parametrize(("routing", "account", "words"), [
    ("110000001", "000123456789", "routing number"),
    ("11000000", "000123456789", "routing number"),
    (ROUTING, "12a456", "account number"),
    (ROUTING, "123", "account number"),
])
def test_bad_numbers_change_nothing(desk, dana, sandbox, routing, account, words):
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, amounts)
    bad = BankAccountEntry(routing, account, "Dana Whitfield")
    counts = (Checkout.select().count(), OutboundEmail.select().count(),
              AuditEntry.select().count())
    with pytest.raises(BillingError, match=words):
        desk.pay_by_bank(dana, amounts, bad, context)
    assert (Checkout.select().count(), OutboundEmail.select().count(),
            AuditEntry.select().count()) == counts
    assert sandbox.count("payment_method") == 0


def test_text_not_matching_the_amounts_is_refused(desk, dana, sandbox):
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, full_balances(THREE[:2]))
    count = Checkout.select().count()
    with pytest.raises(BillingError, match="Show it again"):
        desk.pay_by_bank(dana, amounts, entry, context)
    assert Checkout.select().count() == count


def test_a_wrong_code_changes_nothing_then_the_right_one_starts_the_debits(
        desk, dana, gateway, sandbox):
    sandbox.configure_bank_debits(settlement_delay=DELAY)
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, amounts)
    waiting = desk.pay_by_bank(dana, amounts, entry, context)
    again = desk.verify_bank_account(dana, waiting.checkout_id, descriptor_code="SM99ZZ")
    assert isinstance(again, NeedsVerification)
    assert [p.status for p in _payments(waiting.checkout_id)] == [
        "authorizing", "pending", "pending"]
    assert not set(THREE) & {i.number for i in desk.payable_invoices(dana)}  # still held
    done = desk.verify_bank_account(dana, waiting.checkout_id, descriptor_code="SM11AA")
    assert [d.status for d in done.debits] == ["processing"] * 3
