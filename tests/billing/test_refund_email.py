"""A refund tells the payer: invoice, amount, card, reference, and when it reaches the card.
The email is queued in the transaction that records the refund: both or neither."""

from __future__ import annotations

from dataclasses import replace

import pytest

from billing import refunds
from billing.emails import parse_message
from models import Invoice, InvoicePayment, OutboundEmail, Refund
from models.demo import DANA_EMAIL
from models.money import Money
from tests.billing.conftest import full_balances, keyed


def refund_emails() -> list[OutboundEmail]:
    return [e for e in OutboundEmail.select().order_by(OutboundEmail.id)
            if "X-Paydesk-Refund" in parse_message(e.message)]


def body(row: OutboundEmail) -> str:
    return parse_message(row.message).get_body(preferencelist=("plain",)).get_content()


def paid_1012(desk, payer) -> InvoicePayment:
    result = desk.pay(payer, full_balances(["INV-1012"]), keyed())
    assert result.succeeded
    return InvoicePayment.get_by_id(result.transactions[0].invoice_payment_id)


def test_a_refund_emails_its_confirmation_to_the_client(desk, dana):
    payment = paid_1012(desk, dana)
    staff = desk.sign_in_staff("Front Desk", "2468")

    result = desk.refund(staff, payment.id, Money(12500, "USD"), "Client overpaid")

    assert result.status == "succeeded"
    [row] = refund_emails()
    message = parse_message(row.message)
    text = body(row)
    refund = Refund.get_by_id(result.refund_id)
    assert row.recipient == DANA_EMAIL and message["To"] == DANA_EMAIL
    assert message["Subject"] == "Harbor & Vale LLP: refund of $125.00 for invoice INV-1012"
    assert "Dear Dana Whitfield," in text
    assert "Invoice:     INV-1012" in text and "Amount:      $125.00" in text
    assert "Refunded to: Visa •••• 4242" in text
    assert f"Reference:   {refund.receipt_number} / {refund.stripe_refund_id}" in text
    assert f"Refund of:   {payment.receipt_number}" in text
    assert "5-10 business days" in text
    [(name, pdf)] = [(a.get_filename(), a.get_content()) for a in message.iter_attachments()]
    assert name == f"receipt-{refund.receipt_number}.pdf" and pdf.startswith(b"%PDF-")
    assert row.checkout_id is None  # a checkout's own confirmation stays the one linked


def test_a_refund_rolled_back_leaves_no_email(desk, dana, monkeypatch):
    payment = paid_1012(desk, dana)
    staff = desk.sign_in_staff("Front Desk", "2468")
    emails_before = OutboundEmail.select().count()
    paid_before = Invoice.get(Invoice.number == "INV-1012").paid_minor

    def broken_audit(**_):  # the last write of the refund's transaction fails
        raise RuntimeError("disk full")

    monkeypatch.setattr(refunds, "audit", broken_audit)
    with pytest.raises(RuntimeError, match="disk full"):
        desk.refund(staff, payment.id, Money(12500, "USD"), "Client overpaid")

    assert OutboundEmail.select().count() == emails_before
    assert refund_emails() == []
    assert Invoice.get(Invoice.number == "INV-1012").paid_minor == paid_before
    assert Refund.get().status != "succeeded"

    # Recorded later (reconciliation, here by hand): then the email comes with it, once.
    monkeypatch.undo()
    refund = Refund.get()
    refunds.send_refund(desk.gateway, refund.id, terminal="t")
    refunds.send_refund(desk.gateway, refund.id, terminal="t")
    assert len(refund_emails()) == 1


def test_a_code_holders_refund_keeps_each_side_to_itself(desk):
    payer, invoice = desk.payer_for_code("LINK-1013")
    payer = replace(payer, email="sam.payer@example.net")
    result = desk.pay(payer, {invoice.invoice_id: invoice.balance}, keyed())
    assert result.succeeded
    staff = desk.sign_in_staff("Front Desk", "2468")

    desk.refund(staff, result.transactions[0].invoice_payment_id, None, "Paid twice")

    holder, client = refund_emails()
    assert holder.recipient == "sam.payer@example.net"
    assert "Dana" not in body(holder) and DANA_EMAIL not in body(holder)
    assert "Visa •••• 4242" in body(holder) and "5-10 business days" in body(holder)
    assert client.recipient == DANA_EMAIL
    # The client is told, but the card and the address are the holder's own.
    assert "4242" not in body(client) and "sam.payer" not in body(client)
    assert "INV-1013" in body(client) and "$190.00" in body(client)
