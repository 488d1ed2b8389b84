"""Receipts: one per invoice payment and one per refund, as text and as PDF.

The test data is written with the models directly (a checkout of captured card payments,
a succeeded refund), as the payment engine records them; the email and outbox tests reuse
these builders.
"""

from __future__ import annotations

import datetime as dt
import re
import zlib

import pytest

from billing.errors import BillingError
from billing.receipts import (
    PRINTER_WIDTH,
    card_label,
    find_receipt,
    payment_receipt_number,
    receipt_pdf,
    receipt_text,
    refund_receipt_number,
    render_pdf,
)
from models import Checkout, Client, Firm, Invoice, InvoicePayment, Refund, Staff
from models.demo import DANA_EMAIL
from tui.cli import main as paydesk

PAID_AT = dt.datetime(2026, 11, 2, 14, 30)


def card_checkout(
    amounts: dict[str, int],
    *,
    client: Client | None = None,
    brand: str = "visa",
    last4: str = "4242",
    payer_email: str | None = DANA_EMAIL,
    at: dt.datetime = PAID_AT,
    method: str = "card_keyed",
    reference: str | None = None,
) -> Checkout:
    """A succeeded checkout with one captured payment per invoice, as the engine records it
    (receipt numbers, PaymentIntent ids, the invoices' paid amounts)."""
    firm = Firm.get()
    client = client or Client.get(Client.email == DANA_EMAIL)
    offline = method in ("check", "cash", "bank_transfer")
    checkout = Checkout.create(
        firm=firm, client=client, payer_kind="client", payer_email=payer_email, method=method,
        status="succeeded", currency=firm.currency, total_minor=sum(amounts.values()),
        card_brand=None if offline else brand, card_last4=None if offline else last4,
        reference=reference, terminal="test", created_at=at, updated_at=at,
    )
    for position, (number, amount) in enumerate(amounts.items()):
        invoice = Invoice.get(Invoice.number == number)
        payment = InvoicePayment.create(
            checkout=checkout, invoice=invoice, position=position, amount_minor=amount,
            status="recorded" if offline else "captured", completed_at=at,
            stripe_payment_intent_id=None if offline else f"pi_test{checkout.id:04d}{position:02d}",
        )
        payment.receipt_number = payment_receipt_number(payment.id)
        payment.save()
        Invoice.update(paid_minor=Invoice.paid_minor + amount).where(
            Invoice.id == invoice.id).execute()
    return checkout


def refund(payment: InvoicePayment, amount: int, reason: str,
           at: dt.datetime = PAID_AT + dt.timedelta(days=1)) -> Refund:
    """A succeeded refund of part of `payment`, with the invoice's balance back up."""
    row = Refund.create(
        invoice_payment=payment, amount_minor=amount, reason=reason,
        staff=Staff.get(Staff.name == "Front Desk"), status="succeeded",
        idempotency_key=f"refund-test-{payment.id}-{amount}-{at.isoformat()}",
        stripe_refund_id=f"re_test{payment.id:04d}", terminal="test", completed_at=at,
    )
    row.receipt_number = refund_receipt_number(row.id)
    row.save()
    InvoicePayment.update(refunded_minor=InvoicePayment.refunded_minor + amount).where(
        InvoicePayment.id == payment.id).execute()
    Invoice.update(paid_minor=Invoice.paid_minor - amount).where(
        Invoice.id == payment.invoice_id).execute()
    return row


def pdf_text(pdf: bytes) -> bytes:
    """The PDF's content streams, inflated where compressed (enough to find the text
    that the core fonts write as literal strings)."""
    out = [pdf]
    for match in re.finditer(rb"stream\r?\n(.*?)\r?\nendstream", pdf, re.S):
        try:
            out.append(zlib.decompress(match.group(1)))
        except zlib.error:
            out.append(match.group(1))
    return b"\n".join(out)


def payments_of(checkout: Checkout) -> list[InvoicePayment]:
    return list(checkout.payments.order_by(InvoicePayment.position))


# --- numbering ---------------------------------------------------------------------------


def test_receipt_numbers_are_padded_and_prefixed_by_kind():
    assert payment_receipt_number(123) == "R-000123"
    assert refund_receipt_number(7) == "RF-000007"


def test_card_label_shows_brand_and_last_four_only():
    assert card_label("visa", "4242") == "Visa •••• 4242"
    assert card_label("amex", "8431") == "American Express •••• 8431"
    # Handed more than four digits by mistake, it still shows only the last four.
    assert card_label("mastercard", "5555554444") == "Mastercard •••• 4444"


# --- text --------------------------------------------------------------------------------


def test_card_payment_receipt_shows_everything_a_client_needs(demo_db):
    checkout = card_checkout({"INV-1001": 50000, "INV-1012": 47500})
    first = payments_of(checkout)[0]

    text = receipt_text(first.receipt_number)

    assert "Harbor & Vale LLP" in text
    assert "PAYMENT RECEIPT" in text
    assert first.receipt_number in text
    assert "Nov 2, 2026, 9:30 AM EST" in text  # 14:30 UTC, in the firm's time zone
    assert "Dana Whitfield" in text
    assert "INV-1001" in text and "INV-1012" not in text
    assert "WHI-2024-017" in text and "Marlow" in text
    assert "Visa •••• 4242" in text
    assert first.stripe_payment_intent_id in text
    assert re.search(r"Amount paid +\$500\.00\n", text)
    assert re.search(r"Balance after +\$750\.00\n", text)  # 1,250.00 less 500.00


def test_receipt_fits_a_42_column_printer_even_with_long_names(demo_sqlite):
    dana = Client.get(Client.email == DANA_EMAIL)
    dana.name = "Dana Alexandra Whitfield-Montgomery of the Long Name Estate"
    dana.save()
    checkout = card_checkout({"INV-1009": 60000})
    text = receipt_text(payments_of(checkout)[0].receipt_number)

    lines = text.splitlines()
    assert max(len(line) for line in lines) <= PRINTER_WIDTH
    # The long name is wrapped, not cut.
    assert "Montgomery" in text and "Estate" in text


def test_offline_check_receipt_names_the_check(demo_sqlite):
    # The demo firm recorded an earlier check for INV-1004 (300.00 of 830.50).
    payment = InvoicePayment.select().join(Invoice).where(Invoice.number == "INV-1004").get()

    text = receipt_text(payment.receipt_number)

    assert "Check CHK-1004" in text
    assert "Payment " not in text  # no PaymentIntent for a check
    assert re.search(r"Amount paid +\$300\.00", text)
    assert re.search(r"Balance after +\$530\.50", text)


def test_balance_after_is_the_balance_at_that_payment_not_today(demo_sqlite):
    earlier = card_checkout({"INV-1001": 50000}, at=PAID_AT)
    later = card_checkout({"INV-1001": 75000}, at=PAID_AT + dt.timedelta(hours=2))

    first = find_receipt(payments_of(earlier)[0].receipt_number)
    second = find_receipt(payments_of(later)[0].receipt_number)

    assert first.balance_after.minor == 75000
    assert second.balance_after.minor == 0


def test_refund_receipt_shows_reason_original_payment_and_balance_back_up(demo_db):
    checkout = card_checkout({"INV-1001": 125000, "INV-1012": 47500})
    payment = payments_of(checkout)[0]
    row = refund(payment, 20000, "Duplicate filing fee")

    text = receipt_text(row.receipt_number)

    assert "REFUND RECEIPT" in text
    assert row.receipt_number in text and row.receipt_number.startswith("RF-")
    assert f"Refund of     {payment.receipt_number}" in text
    assert "Duplicate filing fee" in text
    assert "Front Desk" in text
    assert "Visa •••• 4242" in text
    assert payment.stripe_payment_intent_id in text
    assert "re_test" in text
    assert re.search(r"Amount refunded +\$200\.00\n", text)
    assert re.search(r"Balance after +\$200\.00\n", text)
    # The payment's own receipt still shows the balance as it was when paid.
    assert re.search(r"Balance after +\$0\.00\n", receipt_text(payment.receipt_number))


def test_receipt_lookup_ignores_case_and_spaces(demo_sqlite):
    number = payments_of(card_checkout({"INV-1012": 1000}))[0].receipt_number
    assert find_receipt(f"  {number.lower()} ").number == number


@pytest.mark.parametrize("reference", ["R-999999", "RF-000001", "INV-1001", "", "nonsense"])
def test_unknown_receipt_is_a_billing_error_that_says_so(demo_sqlite, reference):
    with pytest.raises(BillingError, match="No receipt numbered") as caught:
        receipt_text(reference)
    assert "R-000123" in caught.value.message  # tells what a receipt number looks like
    with pytest.raises(BillingError):
        receipt_pdf(reference)


def test_payment_not_captured_has_no_receipt(demo_sqlite):
    checkout = card_checkout({"INV-1012": 1000})
    payment = payments_of(checkout)[0]
    payment.status = "declined"
    payment.save()
    with pytest.raises(BillingError):
        receipt_text(payment.receipt_number)


# --- PDF ---------------------------------------------------------------------------------


def test_pdf_receipt_is_a_pdf_with_the_receipt_content(demo_sqlite):
    payment = payments_of(card_checkout({"INV-1001": 125000}))[0]

    pdf = receipt_pdf(payment.receipt_number)

    assert pdf.startswith(b"%PDF-")
    assert pdf.rstrip().endswith(b"%%EOF")
    text = pdf_text(pdf)
    assert payment.receipt_number.encode() in text
    assert b"INV-1001" in text
    assert b"$1,250.00" in text
    # The bullets of "Visa •••• 4242" are outside the core font: spelled as asterisks.
    assert b"Visa **** 4242" in text


def test_pdf_survives_names_outside_latin1(demo_sqlite):
    dana = Client.get(Client.email == DANA_EMAIL)
    dana.name = "Łukasz Żółć 王 — “quoted” Zoë"
    dana.save()
    payment = payments_of(card_checkout({"INV-1012": 2500}))[0]

    receipt = find_receipt(payment.receipt_number)
    pdf = render_pdf(receipt, compress=False)

    assert pdf.startswith(b"%PDF-")
    assert b"Zo\xeb" in pdf  # Latin-1 letters kept
    assert b"Lukasz" in pdf  # accents outside Latin-1 dropped, the letter kept


def test_refund_pdf_carries_the_refund_number_and_reason(demo_sqlite):
    payment = payments_of(card_checkout({"INV-1001": 125000}))[0]
    row = refund(payment, 125000, "Paid twice")

    text = pdf_text(receipt_pdf(row.receipt_number))

    assert row.receipt_number.encode() in text
    assert b"Paid twice" in text
    assert b"Refund receipt" in text


# --- command line ------------------------------------------------------------------------


@pytest.fixture
def cli_env(tmp_path, monkeypatch):
    config = tmp_path / "paydesk.toml"
    config.write_text("")
    for var in ("PAYDESK_SMTP_HOST", "PAYDESK_DATABASE_URL", "PAYDESK_OUTBOX_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PAYDESK_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("PAYDESK_STAFF_PIN", "2468")
    return ["--config", str(config)]


def test_cli_receipt_prints_the_text_receipt(demo_sqlite, sqlite_url, cli_env, capsys):
    number = payments_of(card_checkout({"INV-1012": 47500}))[0].receipt_number

    status = paydesk([*cli_env, "--db", sqlite_url, "receipt", number,
                      "--staff", "Front Desk"])

    out = capsys.readouterr().out
    assert status == 0
    assert number in out and "$475.00" in out and "Visa •••• 4242" in out


def test_cli_receipt_writes_the_pdf(demo_sqlite, sqlite_url, cli_env, tmp_path, capsys):
    number = payments_of(card_checkout({"INV-1012": 47500}))[0].receipt_number
    target = tmp_path / "receipt.pdf"

    status = paydesk([*cli_env, "receipt", number, "--pdf", str(target), "--db", sqlite_url,
                      "--staff", "Front Desk"])

    assert status == 0
    assert target.read_bytes().startswith(b"%PDF-")
    assert number.encode() in pdf_text(target.read_bytes())
    assert str(target) in capsys.readouterr().out


def test_cli_receipt_unknown_number_fails_with_the_reason(demo_sqlite, sqlite_url, cli_env,
                                                          capsys):
    status = paydesk([*cli_env, "--db", sqlite_url, "receipt", "R-424242",
                      "--staff", "Front Desk"])

    captured = capsys.readouterr()
    assert status != 0
    assert "No receipt numbered R-424242" in captured.err
    assert captured.out == ""


def test_a_payment_code_holder_gets_the_receipt_without_the_clients_name(demo_sqlite):
    payment = payments_of(card_checkout({"INV-1001": 125000}))[0]
    assert "Dana Whitfield" in receipt_text(payment.receipt_number)

    text = receipt_text(payment.receipt_number, show_client=False)
    assert "Dana Whitfield" not in text and "Client" not in text
    assert "INV-1001" in text and "$1,250.00" in text
    pdf = pdf_text(render_pdf(find_receipt(payment.receipt_number)))
    assert b"Dana Whitfield" in pdf
    assert b"Dana Whitfield" not in pdf_text(receipt_pdf(payment.receipt_number,
                                                          show_client=False))
