"""The confirmation email: every transaction listed, in text and HTML, receipts attached,
queued once per checkout."""

from __future__ import annotations

import pytest

from billing.emails import build_confirmation, parse_message, queue_confirmation
from billing.errors import BillingError
from models import Case, Checkout, Client, Firm, Invoice, InvoicePayment, OutboundEmail
from models.demo import DANA_EMAIL
from tests.billing.test_receipts import card_checkout, payments_of, pdf_text

DANA_FIVE = {"INV-1001": 125000, "INV-1004": 53050, "INV-1009": 240000, "INV-1012": 47500,
             "INV-1021": 9525}


def parts(message):
    """(plain text, html, [(filename, bytes)]) of a confirmation email."""
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    attachments = [(a.get_filename(), a.get_content()) for a in message.iter_attachments()]
    return text, html, attachments


def test_email_lists_every_transaction_in_text_and_html(demo_db):
    checkout = card_checkout(DANA_FIVE, brand="mastercard", last4="4444",
                             payer_email="payer@example.net")
    payments = payments_of(checkout)

    message = build_confirmation(checkout.id, sender="Harbor & Vale <billing@harborvale.test>")
    text, html, _ = parts(message)

    assert message["To"] == "payer@example.net"
    assert message["From"] == "Harbor & Vale <billing@harborvale.test>"
    assert message["Subject"] == "Harbor & Vale LLP: payment received (5 transactions)"
    for body in (text, html):
        assert "5 separate transactions will appear on your statement" in body
        assert body.count("Mastercard •••• 4444") == 5
        for payment in payments:
            assert payment.invoice.number in body
            assert payment.invoice.case.number in body
            assert f"{payment.receipt_number} / {payment.stripe_payment_intent_id}" in body
        for amount in ("$1,250.00", "$530.50", "$2,400.00", "$475.00", "$95.25"):
            assert amount in body
        assert "$4,750.75" in body  # the total
        assert "on Nov 2, 2026, 9:30 AM EST" in body  # when it was paid, the firm's time
    assert "Whitfield v. Marlow Construction" in text
    assert "Estate of Harold Whitfield" in html


def test_each_receipt_is_attached_as_its_pdf(demo_sqlite):
    checkout = card_checkout({"INV-1001": 125000, "INV-1012": 47500, "INV-1021": 9525})
    numbers = [p.receipt_number for p in payments_of(checkout)]

    _, _, attachments = parts(build_confirmation(checkout.id))

    assert [name for name, _ in attachments] == [f"receipt-{n}.pdf" for n in numbers]
    for (_, data), number in zip(attachments, numbers, strict=True):
        assert data.startswith(b"%PDF-")
        assert number.encode() in pdf_text(data)


def test_html_escapes_names_from_the_database(demo_sqlite):
    firm = Firm.get()
    eve = Client.create(firm=firm, name="<b>Eve & Co</b>", email="eve@example.com")
    case = Case.create(firm=firm, client=eve, number="EVE-1", title='<script>alert("x")</script>')
    Invoice.create(firm=firm, case=case, client=eve, number="INV-<i>", issue_date="2026-10-01",
                   due_date="2026-10-31", status="issued", currency="USD", total_minor=10000)
    checkout = card_checkout({"INV-<i>": 10000}, client=eve, payer_email="eve@example.com")

    text, html, _ = parts(build_confirmation(checkout.id))

    assert "&lt;b&gt;Eve &amp; Co&lt;/b&gt;" in html
    assert "<b>Eve" not in html
    assert "<script>" not in html and "&lt;script&gt;" in html
    assert "INV-&lt;i&gt;" in html
    assert "<b>Eve & Co</b>" in text  # the plain text part is plain


def test_one_transaction_is_singular_and_offline_payments_mention_no_statement(demo_sqlite):
    checkout = card_checkout({"INV-1012": 47500, "INV-1021": 9525}, method="check",
                             reference="CHK-5521")

    message = build_confirmation(checkout.id)
    text, html, attachments = parts(message)

    assert message["Subject"].endswith("(2 transactions)")
    assert "Check CHK-5521" in text and "Check CHK-5521" in html
    assert "statement" not in text
    assert len(attachments) == 2

    single = card_checkout({"INV-1001": 1000})
    assert build_confirmation(single.id)["Subject"] == (
        "Harbor & Vale LLP: payment received (1 transaction)"
    )
    text = parts(build_confirmation(single.id))[0]
    # One invoice: one transaction, said for its count (not "1 separate transaction", not
    # "made as 1 transaction, one per invoice").
    assert "1 transaction will appear on your statement." in text
    assert "separate" not in text and "one per invoice" not in text
    assert "Your receipt is attached as a PDF." in text


def test_only_captured_payments_are_listed(demo_sqlite):
    checkout = card_checkout({"INV-1001": 125000, "INV-1012": 47500})
    declined = payments_of(checkout)[1]
    declined.status = "cancelled"
    declined.save()

    message = build_confirmation(checkout.id)
    text, _, attachments = parts(message)

    assert "(1 transaction)" in message["Subject"]
    assert "INV-1012" not in text
    assert len(attachments) == 1


def test_missing_payer_email_falls_back_to_the_client(demo_sqlite):
    checkout = card_checkout({"INV-1012": 47500}, payer_email=None)
    assert build_confirmation(checkout.id)["To"] == DANA_EMAIL


def test_queue_confirmation_stores_the_whole_message_once_per_checkout(demo_db):
    checkout = card_checkout({"INV-1001": 125000, "INV-1012": 47500})

    first = queue_confirmation(checkout.id)
    second = queue_confirmation(checkout.id)

    assert first.id == second.id
    assert OutboundEmail.select().where(OutboundEmail.checkout == checkout.id).count() == 1
    row = OutboundEmail.get_by_id(first.id)
    assert row.status == "queued" and row.attempts == 0
    assert row.recipient == DANA_EMAIL
    assert row.subject == "Harbor & Vale LLP: payment received (2 transactions)"
    row.message.encode("ascii")  # 7-bit: sends unchanged through any SMTP server
    stored = parse_message(row.message)
    assert stored["Subject"] == row.subject
    text, _, attachments = parts(stored)
    assert "Visa •••• 4242" in text
    assert len(attachments) == 2


def test_queue_confirmation_inside_the_recording_transaction_rolls_back_with_it(demo_sqlite):
    from models import database

    checkout = card_checkout({"INV-1012": 47500})
    with pytest.raises(RuntimeError), database.atomic():
        queue_confirmation(checkout.id)
        raise RuntimeError("the engine failed after queueing")
    assert OutboundEmail.select().count() == 0


def test_confirmation_of_unknown_or_unpaid_checkout_is_refused(demo_sqlite):
    with pytest.raises(BillingError, match="No checkout 999999"):
        queue_confirmation(999999)
    checkout = card_checkout({"INV-1012": 47500})
    InvoicePayment.update(status="declined").where(
        InvoicePayment.checkout == checkout.id).execute()
    Checkout.update(status="failed").where(Checkout.id == checkout.id).execute()
    with pytest.raises(BillingError, match="no completed payment"):
        queue_confirmation(checkout.id)
    assert OutboundEmail.select().count() == 0


def test_no_card_number_beyond_the_last_four_in_the_email(demo_sqlite):
    checkout = card_checkout({"INV-1012": 47500}, last4="4242")
    row = queue_confirmation(checkout.id)
    text, html, _ = parts(parse_message(row.message))
    for body in (text, html):
        assert "4242 4242" not in body and "424242" not in body
