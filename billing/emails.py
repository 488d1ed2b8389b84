"""The confirmation email sent to the payer after a successful checkout.

It lists every transaction (invoice, case, amount, card, reference), in plain text and
HTML, with each receipt attached as a PDF. It is built when queued, inside the transaction
that records the payments, and stored whole in the outbox; `billing.outbox` delivers it.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import html
from dataclasses import dataclass
from email.message import EmailMessage

from billing.config import SmtpSettings
from billing.errors import BillingError
from billing.receipts import (
    RECEIPTED_PAYMENT_STATUSES,
    method_label,
    payment_receipt_number,
    receipt_pdf,
)
from models import (
    Case,
    Checkout,
    Client,
    Firm,
    Invoice,
    InvoicePayment,
    OutboundEmail,
    for_update,
    utcnow,
    write_transaction,
)
from models.money import Money, format_money

__all__ = ["ConfirmationLine", "build_confirmation", "parse_message", "queue_confirmation"]

CARD_METHODS = ("card_keyed", "card_saved", "card_reader")
# Stored messages use LF line ends and 7-bit bodies (quoted-printable, base64), so the
# text in the database is plain ASCII and sends unchanged over any SMTP server.
STORE_POLICY = email.policy.default


@dataclass(frozen=True)
class ConfirmationLine:
    invoice_number: str
    case_number: str
    case_title: str
    amount: Money
    receipt_number: str
    payment_intent_id: str | None
    paid_at: dt.datetime | None = None

    @property
    def reference(self) -> str:
        if self.payment_intent_id:
            return f"{self.receipt_number} / {self.payment_intent_id}"
        return self.receipt_number


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" if count == 1 else f"{count} {word}s"


def _lines(checkout: Checkout) -> list[ConfirmationLine]:
    payments = (
        InvoicePayment.select(InvoicePayment, Invoice, Case)
        .join(Invoice).join(Case)
        .where(InvoicePayment.checkout == checkout.id,
               InvoicePayment.status.in_(RECEIPTED_PAYMENT_STATUSES))
        .order_by(InvoicePayment.position, InvoicePayment.id)
    )
    lines = []
    for payment in payments:
        if not payment.receipt_number:
            # The engine numbers receipts when it records them; the number is a function of
            # the id, so filling a missing one here gives the same value it would have.
            payment.receipt_number = payment_receipt_number(payment.id)
            payment.save(only=[InvoicePayment.receipt_number])
        lines.append(ConfirmationLine(
            invoice_number=payment.invoice.number,
            case_number=payment.invoice.case.number,
            case_title=payment.invoice.case.title,
            amount=Money(payment.amount_minor, payment.invoice.currency),
            receipt_number=payment.receipt_number,
            payment_intent_id=payment.stripe_payment_intent_id,
            paid_at=payment.completed_at,
        ))
    return lines


def _text_body(firm: Firm, client: Client, checkout: Checkout, paid_by: str,
               lines: list[ConfirmationLine], total: Money, when: str) -> str:
    money = lambda m: format_money(m, firm.locale)  # noqa: E731 - a local shorthand
    count = len(lines)
    out = [
        f"Dear {client.name},",
        "",
        f"{firm.name} received your payment of {money(total)} on {when}, "
        f"made as {_plural(count, 'transaction')}, one per invoice:",
        "",
    ]
    for index, line in enumerate(lines, start=1):
        out += [
            f"{index}. Invoice {line.invoice_number}",
            f"   Case:      {line.case_number} {line.case_title}",
            f"   Amount:    {money(line.amount)}",
            f"   Paid by:   {paid_by}",
            f"   Reference: {line.reference}",
            "",
        ]
    out.append(f"Total: {money(total)}")
    out.append("")
    if checkout.method in CARD_METHODS:
        out.append(f"{_plural(count, 'separate transaction')} will appear on your statement.")
    out += [
        f"Your {_plural(count, 'receipt')} {'is' if count == 1 else 'are'} attached as PDF.",
        "",
        f"Thank you,\n{firm.name}",
    ]
    return "\n".join(out) + "\n"


def _html_body(firm: Firm, client: Client, checkout: Checkout, paid_by: str,
               lines: list[ConfirmationLine], total: Money, when: str) -> str:
    e = html.escape  # every value from the database goes through this
    money = lambda m: e(format_money(m, firm.locale))  # noqa: E731 - a local shorthand
    count = len(lines)
    rows = "\n".join(
        "<tr>"
        f"<td>{e(line.invoice_number)}</td>"
        f"<td>{e(line.case_number)} {e(line.case_title)}</td>"
        f'<td style="text-align:right">{money(line.amount)}</td>'
        f"<td>{e(paid_by)}</td>"
        f"<td>{e(line.reference)}</td>"
        "</tr>"
        for line in lines
    )
    statement = (
        f"<p>{_plural(count, 'separate transaction')} will appear on your statement.</p>"
        if checkout.method in CARD_METHODS else ""
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{e(firm.name)}: payment received</title></head>
<body style="font-family:sans-serif">
<p>Dear {e(client.name)},</p>
<p>{e(firm.name)} received your payment of <strong>{money(total)}</strong> on {e(when)},
made as {_plural(count, 'transaction')}, one per invoice:</p>
<table cellpadding="4" style="border-collapse:collapse" border="1">
<thead><tr><th>Invoice</th><th>Case</th><th>Amount</th><th>Paid by</th><th>Reference</th></tr></thead>
<tbody>
{rows}
</tbody>
<tfoot><tr><th colspan="2" style="text-align:left">Total</th>
<th style="text-align:right">{money(total)}</th><th colspan="2"></th></tr></tfoot>
</table>
{statement}
<p>Your {_plural(count, 'receipt')} {'is' if count == 1 else 'are'} attached as PDF.</p>
<p>Thank you,<br>{e(firm.name)}</p>
</body></html>
"""


def build_confirmation(checkout_id: int, *, sender: str | None = None) -> EmailMessage:
    """The confirmation email of a checkout, built from the database.

    To the checkout's payer email (else the client's), from `sender` (default: Paydesk's
    default SMTP sender). Raises BillingError for an unknown checkout or one with no
    captured or recorded payment.
    """
    checkout = (
        Checkout.select(Checkout, Firm, Client)
        .join(Firm, on=(Checkout.firm == Firm.id))
        .switch(Checkout).join(Client, on=(Checkout.client == Client.id))
        .where(Checkout.id == checkout_id).first()
    )
    if checkout is None:
        raise BillingError(f"No checkout {checkout_id}")
    lines = _lines(checkout)
    if not lines:
        raise BillingError(
            f"Checkout {checkout_id} has no completed payment to confirm by email"
        )
    firm, client = checkout.firm, checkout.client
    recipient = checkout.payer_email or client.email
    total = Money.sum_of((line.amount for line in lines), checkout.currency)
    paid_by = method_label(checkout.method, checkout.card_brand, checkout.card_last4,
                           checkout.reference)
    sent_on = utcnow()
    when = max((line.paid_at for line in lines if line.paid_at), default=sent_on)
    when = when.strftime("%Y-%m-%d")
    from_address = sender or SmtpSettings().sender

    msg = EmailMessage(policy=STORE_POLICY)
    msg["Subject"] = f"{firm.name}: payment received ({_plural(len(lines), 'transaction')})"
    msg["From"] = from_address
    msg["To"] = recipient
    msg["Date"] = email.utils.format_datetime(sent_on.replace(tzinfo=dt.UTC))
    domain = email.utils.parseaddr(from_address)[1].rpartition("@")[2] or "paydesk.invalid"
    msg["Message-ID"] = email.utils.make_msgid(f"checkout-{checkout.id}", domain=domain)
    msg["X-Paydesk-Checkout"] = str(checkout.id)
    msg.set_content(_text_body(firm, client, checkout, paid_by, lines, total, when),
                    cte="quoted-printable")
    msg.add_alternative(_html_body(firm, client, checkout, paid_by, lines, total, when),
                        subtype="html", cte="quoted-printable")
    for line in lines:
        msg.add_attachment(receipt_pdf(line.receipt_number), maintype="application",
                           subtype="pdf", filename=f"receipt-{line.receipt_number}.pdf")
    return msg


def queue_confirmation(checkout_id: int, *, sender: str | None = None) -> OutboundEmail:
    """Queue the checkout's confirmation email in the outbox and return it.

    Idempotent: a checkout has one confirmation email, and a second call returns the one
    already queued (or sent). Call it inside the transaction that records the payments;
    delivery (`billing.outbox.deliver_due`) happens after commit.
    """
    with write_transaction():
        # Lock the checkout so two callers cannot both find no email and both queue one.
        if for_update(Checkout.select(Checkout.id).where(Checkout.id == checkout_id)).first() is None:
            raise BillingError(f"No checkout {checkout_id}")
        existing = (
            OutboundEmail.select().where(OutboundEmail.checkout == checkout_id)
            .order_by(OutboundEmail.id).first()
        )
        if existing is not None:
            return existing
        msg = build_confirmation(checkout_id, sender=sender)
        return OutboundEmail.create(
            checkout=checkout_id,
            recipient=str(msg["To"]),
            subject=str(msg["Subject"])[:300],
            message=msg.as_string(policy=STORE_POLICY),
        )


def parse_message(text: str) -> EmailMessage:
    """A stored outbox message back as an EmailMessage."""
    return email.message_from_string(text, _class=EmailMessage, policy=STORE_POLICY)
