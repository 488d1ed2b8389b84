"""Who is told what when a payment code is used: the code holder gets their receipt at the
address they give (or none), never naming the client; the client is told their invoice was
paid, never the holder's card or address."""

from __future__ import annotations

from dataclasses import replace

import pytest

from billing.emails import parse_message
from billing.errors import BillingError
from models import Checkout, OutboundEmail
from models.demo import DANA_EMAIL
from tests.billing.conftest import keyed
from tests.billing.test_email import parts
from tests.billing.test_receipts import pdf_text

HOLDER = "sam.payer@example.net"


def pay_by_code(desk, email: str | None):
    payer, invoice = desk.payer_for_code("LINK-1013")
    return desk.pay(replace(payer, email=email), {invoice.invoice_id: invoice.balance}, keyed())


def emails_of(checkout_id: int) -> dict[str, object]:
    rows = OutboundEmail.select().where(OutboundEmail.checkout == checkout_id)
    return {row.recipient: parse_message(row.message) for row in rows}


def test_the_code_holders_receipt_goes_to_them_without_the_clients_details(desk):
    result = pay_by_code(desk, f"  {HOLDER} ")
    assert result.succeeded and result.email_to == HOLDER
    assert Checkout.get_by_id(result.checkout_id).payer_email == HOLDER

    sent = emails_of(result.checkout_id)
    assert set(sent) == {HOLDER, DANA_EMAIL}
    text, html, attachments = parts(sent[HOLDER])
    pdfs = [pdf_text(pdf).decode("latin-1") for _, pdf in attachments]
    assert all("INV-1013" in pdf for pdf in pdfs)  # the text is readable: the check below bites
    for shown in (text, html, *pdfs):
        assert "Dana" not in shown and "Whitfield v." not in shown
        assert DANA_EMAIL not in shown
        for other in ("INV-1001", "INV-1004", "INV-1012"):  # the client's other invoices
            assert other not in shown
    assert "Hello," in text and "INV-1013" in text and "$190.00" in text
    assert "Visa •••• 4242" in text  # the holder's own card
    assert [name for name, _ in attachments] == [
        f"receipt-{result.transactions[0].reference}.pdf"]


def test_the_client_is_told_without_the_holders_card_or_address(desk):
    result = pay_by_code(desk, HOLDER)
    notice = emails_of(result.checkout_id)[DANA_EMAIL]
    text = notice.get_body(preferencelist=("plain",)).get_content()
    assert notice["Subject"] == "Harbor & Vale LLP: invoice INV-1013 was paid"
    assert "Dear Dana Whitfield," in text
    assert "INV-1013" in text and "$190.00" in text and result.transactions[0].reference in text
    assert "4242" not in text and "Visa" not in text and HOLDER not in text
    assert not list(notice.iter_attachments())  # a receipt would show the holder's card


def test_no_address_given_no_receipt_is_sent_and_the_client_gets_only_the_notice(desk):
    result = pay_by_code(desk, None)
    assert result.succeeded and result.email_to is None
    sent = emails_of(result.checkout_id)
    assert list(sent) == [DANA_EMAIL]
    text = sent[DANA_EMAIL].get_body(preferencelist=("plain",)).get_content()
    assert "was paid" in sent[DANA_EMAIL]["Subject"] and "4242" not in text


@pytest.mark.parametrize("typed", ["sam", "sam@example", "sam payer@example.net",
                                   "a@b.net, c@d.net", "Sam <sam@example.net>"])
def test_a_bad_address_is_refused_before_anything_is_reserved(desk, typed):
    before = Checkout.select().count()
    with pytest.raises(BillingError, match="not an email address"):
        pay_by_code(desk, typed)
    assert Checkout.select().count() == before
