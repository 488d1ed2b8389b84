"""The engine end to end, through the real gateway against the sandbox (SQLite and
PostgreSQL): all captured or none, one transaction per invoice, one email."""

from __future__ import annotations

import datetime as dt

from billing import emails
from billing.receipts import payment_receipt_number
from models import AuditEntry, Case, Checkout, Invoice, InvoicePayment, InvoiceShare, OutboundEmail
from tests.billing.conftest import (
    DANA_PAYABLE,
    DECLINED,
    balances,
    dana_client,
    full_balances,
    invoice,
    keyed,
)


def test_paying_danas_five_invoices_makes_five_captured_transactions_and_one_email(
        desk, dana, sandbox):
    before = balances()
    result = desk.pay(dana, full_balances(), keyed())

    assert result.succeeded, result.message
    assert [t.invoice_number for t in result.transactions] == list(DANA_PAYABLE)
    captured = [pi for pi in sandbox.objects("payment_intent") if pi["status"] == "succeeded"]
    assert len(captured) == 5
    assert sorted(pi["amount_received"] for pi in captured) == sorted(before.values())
    assert {pi["metadata"]["invoice_number"] for pi in captured} == set(DANA_PAYABLE)
    assert {pi["capture_method"] for pi in captured} == {"manual"}
    assert {pi["id"] for pi in captured} == {t.payment_intent_id for t in result.transactions}
    assert balances() == dict.fromkeys(DANA_PAYABLE, 0)
    payments = list(InvoicePayment.select().where(InvoicePayment.checkout == result.checkout_id))
    assert len(payments) == 5 and {p.status for p in payments} == {"captured"}
    assert sorted(p.receipt_number for p in payments) == sorted(
        payment_receipt_number(p.id) for p in payments)
    assert {t.reference for t in result.transactions} == {p.receipt_number for p in payments}
    assert {t.statement_descriptor for t in result.transactions} == {
        f"HARBORVALE* {n}" for n in DANA_PAYABLE}
    outbox = list(OutboundEmail.select().where(OutboundEmail.checkout == result.checkout_id))
    assert len(outbox) == 1
    message = emails.parse_message(outbox[0].message)
    attachments = [part for part in message.iter_attachments()]
    assert len(attachments) == 5
    body = message.get_body(("plain",)).get_content()
    assert all(number in body for number in DANA_PAYABLE)
    audits = AuditEntry.select().where(AuditEntry.action == "payment.capture")
    assert audits.count() == 5
    assert desk.payable_invoices(dana) == []


def test_a_declining_card_captures_nothing_and_leaves_every_balance(desk, dana, sandbox):
    before = balances()
    result = desk.pay(dana, full_balances(), keyed(DECLINED))

    assert result.status == "failed"
    assert "declined" in result.message.lower()
    assert not [pi for pi in sandbox.objects("payment_intent") if pi["status"] == "succeeded"]
    assert balances() == before
    assert not InvoicePayment.select().where(
        (InvoicePayment.checkout == result.checkout_id)
        & InvoicePayment.status.in_(("captured", "pending", "authorized", "verifying"))).exists()
    assert OutboundEmail.select().count() == 0
    assert AuditEntry.select().where(AuditEntry.action == "checkout.fail").count() == 1
    # The reservation is released: the page shows the full balances again.
    assert {i.number: i.balance.minor for i in desk.payable_invoices(dana)} == before


def _huge_invoice() -> Invoice:
    """An invoice above Stripe's largest single charge: its authorization alone fails."""
    dana = dana_client()
    case = Case.get(Case.number == "WHI-2025-021")
    inv = Invoice.create(firm=dana.firm, case=case, client=dana, number="INV-1099",
                         issue_date=dt.date(2026, 9, 20), due_date=dt.date(2026, 10, 20),
                         status="issued", currency="USD", total_minor=150_000_000)
    InvoiceShare.create(invoice=inv, channel="email", recipient=dana.email)
    return inv


def test_one_failed_authorization_cancels_the_others_and_paying_the_rest_captures_only_them(
        desk, dana, sandbox):
    _huge_invoice()
    numbers = (*DANA_PAYABLE, "INV-1099")
    before = balances(numbers)
    result = desk.pay(dana, full_balances(numbers), keyed())

    assert result.status == "failed"
    assert "INV-1099" in result.message
    failed = [t for t in result.transactions if t.status == "failed"]
    assert [t.invoice_number for t in failed] == ["INV-1099"]
    others = [t for t in result.transactions if t.invoice_number != "INV-1099"]
    assert {t.status for t in others} == {"cancelled"}
    pis = sandbox.objects("payment_intent")
    assert len(pis) == 5 and {pi["status"] for pi in pis} == {"canceled"}
    assert balances(numbers) == before

    # "Pay the others": a new checkout for the invoices that were authorized.
    rest = {t.invoice_id: t.amount for t in others}
    second = desk.pay(dana, rest, keyed())
    assert second.succeeded, second.message
    captured = [pi for pi in sandbox.objects("payment_intent") if pi["status"] == "succeeded"]
    assert {pi["id"] for pi in captured} == {t.payment_intent_id for t in second.transactions}
    assert len(captured) == 5
    assert balances(DANA_PAYABLE) == dict.fromkeys(DANA_PAYABLE, 0)
    assert invoice("INV-1099").paid_minor == 0
    assert Checkout.get_by_id(result.checkout_id).status == "failed"


def test_progress_reports_each_invoice_from_authorizing_to_captured(desk, dana):
    events = []
    result = desk.pay(dana, full_balances(["INV-1001", "INV-1012"]), keyed(), events.append)
    assert result.succeeded
    for number in ("INV-1001", "INV-1012"):
        seen = [e.status for e in events if e.invoice_number == number]
        assert seen == ["authorizing", "authorized", "capturing", "captured"]


def test_a_partial_amount_pays_part_of_the_invoice(desk, dana):
    inv = invoice("INV-1009")
    result = desk.pay(dana, {inv.id: desk.parse_amount(
        dana, next(i for i in desk.payable_invoices(dana) if i.number == "INV-1009"),
        "600.00")}, keyed())
    assert result.succeeded
    assert invoice("INV-1009").paid_minor == 60000
    page = {i.number: i for i in desk.payable_invoices(dana)}
    assert page["INV-1009"].balance.minor == 240000 - 60000


def test_a_code_payer_pays_the_one_invoice_of_the_code(desk, sandbox):
    payer, inv = desk.payer_for_code("LINK-1013")
    assert inv.number == "INV-1013"
    assert [i.number for i in desk.payable_invoices(payer)] == ["INV-1013"]
    result = desk.pay(payer, {inv.invoice_id: inv.balance}, keyed())
    assert result.succeeded
    assert invoice("INV-1013").balance_minor == 0
    # The link holder's card is not saved on the client's customer.
    assert desk.saved_cards(payer) == []
    client = dana_client()
    assert client.stripe_customer_id is None or all(
        pm.get("customer") != client.stripe_customer_id
        for pm in sandbox.objects("payment_method"))
