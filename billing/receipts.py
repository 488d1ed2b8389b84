"""Receipts: one per invoice payment and one per refund, found by their number.

A `Receipt` is a plain value read from the database; it renders as plain text (for the
screen and a 42-column receipt printer) and as a one-page PDF (fpdf2, core font).
"""

from __future__ import annotations

import datetime as dt
import os
import textwrap
import unicodedata
from dataclasses import dataclass, replace
from pathlib import Path

import peewee as pw

from billing.errors import BillingError
from billing.localtime import firm_datetime
from models import Case, Checkout, Client, Firm, Invoice, InvoicePayment, Refund, Staff
from models.db import database, is_postgres
from models.money import Money, format_money

__all__ = [
    "PRINTER_WIDTH", "RECEIPTED_PAYMENT_STATUSES", "Receipt", "bank_label", "card_label",
    "find_receipt", "latin1", "lock_receipt_numbers", "method_label", "next_payment_receipt_number",
    "payment_receipt_number", "receipt_pdf", "receipt_rows",
    "receipt_text", "refund_receipt_number", "render_pdf", "render_text", "totals_rows",
    "write_new_file",
]

PRINTER_WIDTH = 42
# Payment statuses that carry a receipt: a captured card payment, a recorded offline one.
RECEIPTED_PAYMENT_STATUSES = ("captured", "recorded")
_PAYMENT_PREFIX = "R-"
_REFUND_PREFIX = "RF-"
# The PostgreSQL advisory lock key under which payment receipt numbers are given out.
_RECEIPT_NUMBER_LOCK = 0x50445243  # "PDRC"

_BRANDS = {
    "visa": "Visa", "mastercard": "Mastercard", "amex": "American Express",
    "discover": "Discover", "diners": "Diners Club", "jcb": "JCB", "unionpay": "UnionPay",
    "cartes_bancaires": "Cartes Bancaires", "eftpos_au": "eftpos", "interac": "Interac",
}
_OFFLINE = {"check": "Check", "cash": "Cash", "bank_transfer": "Bank transfer"}


def payment_receipt_number(invoice_payment_id: int) -> str:
    """The receipt number of an invoice payment: "R-000123"."""
    return f"{_PAYMENT_PREFIX}{int(invoice_payment_id):06d}"


def lock_receipt_numbers() -> None:
    """Take the receipt-numbering lock until the transaction ends (see below); taking it
    again in the same transaction is harmless."""
    if is_postgres():
        database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (_RECEIPT_NUMBER_LOCK,))


def next_payment_receipt_number() -> str:
    """The next payment receipt number: one more than the highest given so far.

    Only what was paid is numbered, so a declined or cancelled attempt leaves no gap. Call
    it inside `write_transaction()` before locking any row: on SQLite that transaction
    already holds the write lock; on PostgreSQL a transaction-scoped advisory lock makes
    numbering one at a time (the unique constraint on the number stays as the backstop),
    and taking it first keeps every numbering transaction in the same lock order."""
    lock_receipt_numbers()
    digits = pw.fn.SUBSTR(InvoicePayment.receipt_number, len(_PAYMENT_PREFIX) + 1)
    highest = (
        InvoicePayment.select(pw.fn.MAX(pw.Cast(digits, "INTEGER")))
        .where(InvoicePayment.receipt_number.startswith(_PAYMENT_PREFIX))
        .scalar()
    )
    return payment_receipt_number(int(highest or 0) + 1)


def refund_receipt_number(refund_id: int) -> str:
    """The receipt number of a refund: "RF-000007"."""
    return f"{_REFUND_PREFIX}{int(refund_id):06d}"


def card_label(brand: str | None, last4: str | None) -> str:
    """ "Visa •••• 4242": the brand and the last four digits, never more."""
    name = _BRANDS.get((brand or "").lower(), (brand or "Card").replace("_", " ").title())
    digits = (last4 or "")[-4:]
    return f"{name} •••• {digits}" if digits else name


def bank_label(last4: str | None) -> str:
    """ "Bank •••• 6789": a bank debit's account by its last four digits, never more."""
    digits = (last4 or "")[-4:]
    return f"Bank •••• {digits}" if digits else "Bank debit"


def method_label(method: str, brand: str | None, last4: str | None, reference: str | None) -> str:
    """How a checkout was paid, for people: "Visa •••• 4242", "Bank •••• 6789", "Check
    CHK-1004", "Cash"."""
    if method == "bank_debit":  # the bank's name sits in `brand`: not a card's
        return bank_label(last4)
    if method in _OFFLINE:
        return f"{_OFFLINE[method]} {reference}" if reference else _OFFLINE[method]
    return card_label(brand, last4)


@dataclass(frozen=True)
class Receipt:
    """One receipt, as printed. `kind` is "payment" or "refund"."""

    number: str
    kind: str
    issued_at: dt.datetime  # naive UTC
    firm_name: str
    locale: str
    client_name: str
    invoice_number: str
    case_number: str
    case_title: str
    amount: Money
    method: str  # "Visa •••• 4242", "Check CHK-1004"
    payment_intent_id: str | None
    balance_after: Money
    # Refunds only
    payment_receipt_number: str | None = None
    # The firm's time zone (an IANA name) and contact details, printed on the receipt.
    time_zone: str = "UTC"
    firm_address: str = ""
    firm_phone: str = ""
    firm_email: str = ""
    refund_reason: str | None = None
    stripe_refund_id: str | None = None
    staff_name: str | None = None

    @property
    def is_refund(self) -> bool:
        return self.kind == "refund"

    def money(self, value: Money) -> str:
        return format_money(value, self.locale)

    @property
    def when(self) -> str:
        """When it was issued, in the firm's local time: "Nov 25, 2026, 6:30 PM EST"."""
        return firm_datetime(self.issued_at, self.time_zone, self.locale)

    @property
    def contact_lines(self) -> list[str]:
        """The firm's address (one line each) and phone and email, as printed."""
        lines = [line.strip() for line in self.firm_address.splitlines() if line.strip()]
        contact = "  ".join(part for part in (self.firm_phone.strip(), self.firm_email.strip())
                            if part)
        return [*lines, *([contact] if contact else [])]


# --- reading -----------------------------------------------------------------------------


def _normalise(reference: str) -> str:
    return (reference or "").strip().upper()


def find_receipt(reference: str) -> Receipt:
    """The receipt numbered `reference` ("R-000123" or "RF-000007").

    Raises BillingError when no payment or refund has that receipt number.
    """
    number = _normalise(reference)
    if number.startswith(_REFUND_PREFIX):
        refund = _refund_row(number)
        if refund is not None:
            return _refund_receipt(refund)
    elif number.startswith(_PAYMENT_PREFIX):
        payment = _payment_row(number)
        if payment is not None:
            return _payment_receipt(payment)
    shown = (reference or "").strip()[:40] or "(empty)"
    raise BillingError(
        f"No receipt numbered {shown}: receipt numbers look like R-000123 (a payment) "
        "or RF-000007 (a refund)"
    )


def _payment_query() -> pw.ModelSelect:
    return (
        InvoicePayment.select(InvoicePayment, Checkout, Invoice, Case, Client, Firm)
        .join(Checkout).join(Client, on=(Checkout.client == Client.id))
        .switch(Checkout).join(Firm, on=(Checkout.firm == Firm.id))
        .switch(InvoicePayment).join(Invoice).join(Case)
    )


def _payment_row(number: str) -> InvoicePayment | None:
    return (
        _payment_query()
        .where(InvoicePayment.receipt_number == number,
               InvoicePayment.status.in_(RECEIPTED_PAYMENT_STATUSES))
        .first()
    )


def _refund_row(number: str) -> Refund | None:
    refund = (
        Refund.select(Refund, Staff).join(Staff, pw.JOIN.LEFT_OUTER)  # none: made in Stripe
        .where(Refund.receipt_number == number, Refund.status == "succeeded")
        .first()
    )
    if refund is None:
        return None
    refund.invoice_payment = _payment_query().where(
        InvoicePayment.id == refund.invoice_payment_id
    ).get()
    return refund


def _balance_after(invoice: Invoice, at: dt.datetime, kind: str, row_id: int) -> int:
    """The invoice's balance just after this payment or refund.

    Anchored to the invoice's current paid amount (the source of truth), undoing what was
    paid and refunded after this one, so a receipt printed later still shows its moment.
    """
    def later(model, when, statuses) -> pw.Expression:
        after = when > at
        if (kind == "payment") == (model is InvoicePayment):
            after = after | ((when == at) & (model.id > row_id))
        elif kind == "payment":  # a refund at the very same moment follows the payment
            after = after | (when == at)
        return after & model.status.in_(statuses)

    paid_later = (
        InvoicePayment.select(pw.fn.COALESCE(pw.fn.SUM(InvoicePayment.amount_minor), 0))
        .where(InvoicePayment.invoice == invoice.id,
               later(InvoicePayment, InvoicePayment.completed_at, RECEIPTED_PAYMENT_STATUSES))
        .scalar()
    )
    refunded_later = (
        Refund.select(pw.fn.COALESCE(pw.fn.SUM(Refund.amount_minor), 0))
        .join(InvoicePayment)
        .where(InvoicePayment.invoice == invoice.id,
               later(Refund, Refund.completed_at, ("succeeded",)))
        .scalar()
    )
    balance = invoice.total_minor - (invoice.paid_minor - int(paid_later) + int(refunded_later))
    return max(0, min(invoice.total_minor, balance))


def _common(payment: InvoicePayment, *, number: str, kind: str, at, amount_minor: int,
            subject_id: int) -> dict:
    """The fields a payment receipt and a refund receipt share."""
    checkout, invoice = payment.checkout, payment.invoice
    return dict(
        number=number,
        kind=kind,
        issued_at=at,
        firm_name=checkout.firm.name,
        locale=checkout.firm.locale,
        time_zone=checkout.firm.time_zone,
        firm_address=checkout.firm.address,
        firm_phone=checkout.firm.phone,
        firm_email=checkout.firm.email,
        client_name=checkout.client.name,
        invoice_number=invoice.number,
        case_number=invoice.case.number,
        case_title=invoice.case.title,
        amount=Money(amount_minor, invoice.currency),
        method=method_label(checkout.method, checkout.card_brand, checkout.card_last4,
                            checkout.reference),
        payment_intent_id=payment.stripe_payment_intent_id,
        balance_after=Money(_balance_after(invoice, at, kind, subject_id), invoice.currency),
    )


def _payment_receipt(payment: InvoicePayment) -> Receipt:
    at = payment.completed_at or payment.checkout.updated_at
    return Receipt(**_common(payment, number=payment.receipt_number, kind="payment", at=at,
                             amount_minor=payment.amount_minor, subject_id=payment.id))


def _refund_receipt(refund: Refund) -> Receipt:
    payment = refund.invoice_payment
    at = refund.completed_at or refund.created_at
    return Receipt(
        **_common(payment, number=refund.receipt_number, kind="refund", at=at,
                  amount_minor=refund.amount_minor, subject_id=refund.id),
        payment_receipt_number=payment.receipt_number,
        refund_reason=refund.reason,
        stripe_refund_id=refund.stripe_refund_id,
        staff_name=refund.staff.name if refund.staff_id else None,  # None: made in Stripe
    )


# --- plain text --------------------------------------------------------------------------


def receipt_rows(receipt: Receipt) -> list[tuple[str, str]]:
    """(label, value) pairs in the order both renderings print them."""
    rows = [
        ("Receipt", receipt.number),
        ("Date", receipt.when),
        *([("Client", receipt.client_name)] if receipt.client_name else []),
        ("Invoice", receipt.invoice_number),
        ("Case", f"{receipt.case_number} {receipt.case_title}"),
    ]
    if receipt.is_refund:
        rows.append(("Refund of", receipt.payment_receipt_number or "-"))
        rows.append(("Refunded to", receipt.method))
        rows.append(("Reason", receipt.refund_reason or "-"))
        if receipt.staff_name:
            rows.append(("By", receipt.staff_name))
        if receipt.stripe_refund_id:
            rows.append(("Stripe refund", receipt.stripe_refund_id))
    else:
        rows.append(("Paid by", receipt.method))
    if receipt.payment_intent_id:
        rows.append(("Payment", receipt.payment_intent_id))
    return rows


def totals_rows(receipt: Receipt) -> list[tuple[str, str]]:
    label = "Amount refunded" if receipt.is_refund else "Amount paid"
    return [(label, receipt.money(receipt.amount)),
            ("Balance after", receipt.money(receipt.balance_after))]


def render_text(receipt: Receipt, width: int = PRINTER_WIDTH) -> str:
    """The receipt as plain text, no line longer than `width` (42 fits a receipt printer)."""
    label_width = 14
    value_width = width - label_width
    rule = "-" * width
    title = "REFUND RECEIPT" if receipt.is_refund else "PAYMENT RECEIPT"
    lines = [line.center(width).rstrip() for line in textwrap.wrap(receipt.firm_name, width)]
    for contact in receipt.contact_lines:
        lines += [line.center(width).rstrip() for line in textwrap.wrap(contact, width)]
    lines += [title.center(width).rstrip(), rule]
    for label, value in receipt_rows(receipt):
        wrapped = textwrap.wrap(value, value_width, break_long_words=True) or [""]
        lines.append(f"{label:<{label_width}}{wrapped[0]}")
        lines.extend(" " * label_width + more for more in wrapped[1:])
    lines.append(rule)
    for label, value in totals_rows(receipt):
        gap = max(1, width - len(label) - len(value))
        lines.append(f"{label}{' ' * gap}{value}")
    lines.append(rule)
    thanks = "Refund issued." if receipt.is_refund else "Thank you for your payment."
    lines.append(thanks.center(width).rstrip())
    return "\n".join(line.rstrip() for line in lines) + "\n"


def _found(reference: str, show_client: bool) -> Receipt:
    receipt = find_receipt(reference)
    return receipt if show_client else replace(receipt, client_name="")


def receipt_text(reference: str, *, show_client: bool = True) -> str:
    """The receipt numbered `reference` as plain text; BillingError if there is none.
    `show_client` False leaves out the client's name (for a payment-code holder)."""
    return render_text(_found(reference, show_client))


# --- PDF ---------------------------------------------------------------------------------

# Characters the PDF core fonts lack, spelled with ones they have.
_LATIN1_SPELLING = str.maketrans({
    "\u2022": "*", "\u2013": "-", "\u2014": "-", "\u2212": "-", "\u2018": "'",
    "\u2019": "'", "\u201c": '"', "\u201d": '"', "\u2026": "...", "\u202f": " ",
    "\u2009": " ", "\u200e": None, "\u200f": None, "€": "EUR",
    # Letters with a stroke have no decomposition to fall back on.
    "Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "Ħ": "H", "ħ": "h", "Œ": "OE", "œ": "oe",
})


def latin1(text: str) -> str:
    """`text` in the core fonts' Latin-1: look-alikes, accents dropped, else "?"."""
    text = text.translate(_LATIN1_SPELLING)
    try:
        text.encode("latin-1")
        return text
    except UnicodeEncodeError:
        pass
    out = []
    for char in text:
        try:
            char.encode("latin-1")
            out.append(char)
        except UnicodeEncodeError:
            base = unicodedata.normalize("NFKD", char).encode("latin-1", "ignore").decode("latin-1")
            out.append(base or "?")
    return "".join(out)


def render_pdf(receipt: Receipt, *, compress: bool = True) -> bytes:
    """The receipt as a one-page PDF (A5, Helvetica; Latin-1 text)."""
    # fpdf2 (and the fontTools it loads) takes a third of a second to import: only a PDF
    # receipt needs it, so it is not loaded before the first screen.
    from fpdf import FPDF
    from fpdf.enums import XPos, YPos

    pdf = FPDF(unit="mm", format=(148, 210))  # A5; the name "A5" warns in fpdf2 2.8
    pdf.set_compression(compress)
    pdf.set_creation_date(receipt.issued_at.replace(tzinfo=dt.UTC))
    pdf.set_title(latin1(f"{receipt.firm_name} receipt {receipt.number}"))
    pdf.set_author(latin1(receipt.firm_name))
    pdf.set_creator("Paydesk")
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    full = pdf.epw
    pdf.set_font("Helvetica", "B", 15)
    pdf.multi_cell(full, 8, latin1(receipt.firm_name), align="C",
                   new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.set_font("Helvetica", "", 9)
    for contact in receipt.contact_lines:
        pdf.multi_cell(full, 4.5, latin1(contact), align="C",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(1)
    pdf.set_font("Helvetica", "", 11)
    title = "Refund receipt" if receipt.is_refund else "Payment receipt"
    pdf.cell(full, 7, f"{title} {latin1(receipt.number)}", align="C",
             new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(3)
    label_w = 34
    for label, value in receipt_rows(receipt):
        pdf.set_font("Helvetica", "B", 9.5)
        pdf.cell(label_w, 6, latin1(label))
        pdf.set_font("Helvetica", "", 9.5)
        pdf.multi_cell(full - label_w, 6, latin1(value), align="L",
                       new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(2)
    pdf.line(pdf.l_margin, pdf.get_y(), pdf.l_margin + full, pdf.get_y())
    pdf.ln(2)
    for index, (label, value) in enumerate(totals_rows(receipt)):
        pdf.set_font("Helvetica", "B" if index == 0 else "", 12 if index == 0 else 10)
        pdf.cell(full / 2, 8, latin1(label))
        pdf.cell(full / 2, 8, latin1(value), align="R", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    pdf.ln(4)
    pdf.set_font("Helvetica", "I", 9)
    thanks = "Refund issued." if receipt.is_refund else "Thank you for your payment."
    pdf.cell(full, 6, thanks, align="C", new_x=XPos.LMARGIN, new_y=YPos.NEXT)
    return bytes(pdf.output())


def write_new_file(target: Path, data: bytes) -> Path:
    """Write `data` to a new file at `target`, or beside it as "name-2.pdf", "name-3.pdf"
    when that name is taken: an existing file is never overwritten (O_EXCL), even by
    another session saving the same receipt at the same moment. The path written."""
    for attempt in range(1, 1000):
        path = target if attempt == 1 else target.with_name(
            f"{target.stem}-{attempt}{target.suffix}")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            continue
        with os.fdopen(fd, "wb") as out:
            out.write(data)
        return path
    raise FileExistsError(f"{target} and 998 numbered copies of it already exist")


def receipt_pdf(reference: str, *, show_client: bool = True) -> bytes:
    """The receipt numbered `reference` as PDF bytes; BillingError if there is none."""
    return render_pdf(_found(reference, show_client))
