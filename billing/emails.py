"""The confirmation email sent to the payer after a successful checkout.

It lists every transaction (invoice, case, amount, card, reference), in plain text and
HTML, with each receipt attached as a PDF. It is built when queued, inside the transaction
that records the payments, and stored whole in the outbox; `billing.outbox` delivers it.
A refund's confirmation is queued the same way, in the transaction that records the refund.

Who is told what when a payment code is used. The invoice is the client's; the card, and
the address the code holder may give, are the holder's. So:
- the holder's receipt goes only to the address they gave (none given: no receipt is
  emailed), and never names the client, their address or their other invoices;
- the client is always told that their invoice was paid (amount, date, receipt number),
  as they would see it in the portal anyway, but never the holder's card or address. This
  notice carries no receipt PDF, since a receipt shows the card that paid;
- a refund of such a payment is confirmed the same way: the holder's copy (if they gave an
  address) with the card, the client's without it.
"""

from __future__ import annotations

import datetime as dt
import email.policy
import email.utils
import html
import re
import secrets
from dataclasses import dataclass
from email.message import EmailMessage

from billing.config import SmtpSettings
from billing.errors import BillingError
from billing.localtime import firm_datetime
from billing.plurals import plural, statement_sentence
from billing.receipts import (
    RECEIPTED_PAYMENT_STATUSES,
    find_receipt,
    method_label,
    next_payment_receipt_number,
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
    Refund,
    for_update,
    utcnow,
    write_transaction,
)
from models.money import Money, format_money

__all__ = ["ConfirmationLine", "build_confirmation", "build_refund_email", "check_address",
           "build_receipt_email", "firm_sender", "parse_message", "queue_confirmation",
           "queue_receipt_email", "queue_refund_email"]

CARD_METHODS = ("card_keyed", "card_saved", "card_reader")
# Stored messages use LF line ends and 7-bit bodies (quoted-printable, base64), so the
# text in the database is plain ASCII and sends unchanged over any SMTP server.
STORE_POLICY = email.policy.default
# One address: a local part, "@", a domain with a dot; no spaces, commas or angle brackets.
_NO_FIRM_ADDRESS = "payments@localhost"
_ADDRESS = re.compile(r"[^@\s,;<>\"]+@[^@\s,;<>\"]+\.[^@\s,;<>\".]{2,}")


def check_address(text: str) -> str:
    """`text` as one email address to send to (trimmed); BillingError saying what is wrong
    otherwise."""
    address = (text or "").strip()
    if not address:
        raise BillingError("Type an email address, or leave the field empty.")
    if len(address) > 254 or not _ADDRESS.fullmatch(address):
        raise BillingError("That is not an email address: type it as name@example.com.")
    return address


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


def _made_as(count: int, locale: str) -> str:
    """How the payment was split, said only when it was split."""
    return plural(count, locale, one="", other=", made as {n} transactions, one per invoice")


def _receipts_attached(count: int, locale: str) -> str:
    return plural(count, locale, one="Your receipt is attached as a PDF.",
                  other="Your {n} receipts are attached as PDFs.")


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
            # The engine numbers receipts when it records them; a payment recorded before
            # that gets the next number now (only what was paid is numbered).
            payment.receipt_number = next_payment_receipt_number()
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
        _greeting(client, checkout),
        "",
        f"{firm.name} received your payment of {money(total)} on {when}"
        f"{_made_as(count, firm.locale)}:",
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
        out.append(statement_sentence(count, firm.locale))
    out += [
        _receipts_attached(count, firm.locale),
        "",
        _signature(firm),
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
        f"<p>{e(statement_sentence(count, firm.locale))}</p>"
        if checkout.method in CARD_METHODS else ""
    )
    return f"""<!DOCTYPE html>
<html><head><meta charset="utf-8"><title>{e(firm.name)}: payment received</title></head>
<body style="font-family:sans-serif">
<p>{e(_greeting(client, checkout))}</p>
<p>{e(firm.name)} received your payment of <strong>{money(total)}</strong>
on {e(when)}{e(_made_as(count, firm.locale))}:</p>
<table cellpadding="4" style="border-collapse:collapse" border="1">
<thead><tr><th>Invoice</th><th>Case</th><th>Amount</th><th>Paid by</th><th>Reference</th></tr></thead>
<tbody>
{rows}
</tbody>
<tfoot><tr><th colspan="2" style="text-align:left">Total</th>
<th style="text-align:right">{money(total)}</th><th colspan="2"></th></tr></tfoot>
</table>
{statement}
<p>{e(_receipts_attached(count, firm.locale))}</p>
<p>{"<br>".join(e(line) for line in _signature(firm).splitlines())}</p>
</body></html>
"""


def _greeting(client: Client, checkout: Checkout) -> str:
    # A payment-code holder is not the client: their receipt never names the client.
    return "Hello," if checkout.payer_kind == "code" else f"Dear {client.name},"


def _checkout_row(checkout_id: int) -> Checkout:
    checkout = (
        Checkout.select(Checkout, Firm, Client)
        .join(Firm, on=(Checkout.firm == Firm.id))
        .switch(Checkout).join(Client, on=(Checkout.client == Client.id))
        .where(Checkout.id == checkout_id).first()
    )
    if checkout is None:
        raise BillingError(f"No checkout {checkout_id}")
    return checkout


def _message_id(idstring: str, domain: str) -> str:
    """A unique Message-ID short enough never to be folded over two lines."""
    return f"<{idstring}.{secrets.token_hex(8)}@{domain[:60]}>"


def firm_sender(firm: Firm) -> str:
    """The firm as the sender of its emails: "Harbor & Vale LLP <billing@harborvale.example>"
    (Paydesk's local address stands in while the firm has set no email address)."""
    return email.utils.formataddr((firm.name, firm.email.strip() or _NO_FIRM_ADDRESS))


def _signature(firm: Firm) -> str:
    """ "Thank you," with the firm's name, address, phone and email, one per line."""
    lines = [line.strip() for line in (firm.address or "").splitlines() if line.strip()]
    lines += [part.strip() for part in (firm.phone, firm.email) if part and part.strip()]
    return "\n".join(["Thank you,", firm.name, *lines])


def _new_message(subject: str, recipient: str, sender: str | None, msgid: str,
                 firm: Firm) -> EmailMessage:
    from_address = sender or SmtpSettings().sender or firm_sender(firm)
    msg = EmailMessage(policy=STORE_POLICY)
    msg["Subject"] = subject
    msg["From"] = from_address
    msg["To"] = recipient
    msg["Date"] = email.utils.format_datetime(utcnow().replace(tzinfo=dt.UTC))
    domain = email.utils.parseaddr(from_address)[1].rpartition("@")[2] or "paydesk.invalid"
    msg["Message-ID"] = _message_id(msgid, domain)
    return msg


def build_client_notice(checkout_id: int, *, sender: str | None = None) -> EmailMessage:
    """To the client, when someone paid one of their invoices with its payment code: what
    was paid, when, and the receipt number. Nothing of the payer: not their email address,
    not their card (the code holder's details are theirs; the invoice is the client's)."""
    checkout = _checkout_row(checkout_id)
    lines = _lines(checkout)
    if not lines:
        raise BillingError(f"Checkout {checkout_id} has no completed payment to confirm by email")
    firm, client = checkout.firm, checkout.client
    money = lambda m: format_money(m, firm.locale)  # noqa: E731 - a local shorthand
    numbers = ", ".join(line.invoice_number for line in lines)
    out = [f"Dear {client.name},", "",
           f"A payment was made on your invoice {numbers} with the payment code "
           f"{firm.name} sent for it:", ""]
    for line in lines:
        paid = firm_datetime(line.paid_at or utcnow(), firm.time_zone, firm.locale)
        out += [f"Invoice:   {line.invoice_number}",
                f"Case:      {line.case_number} {line.case_title}",
                f"Amount:    {money(line.amount)}",
                f"Paid on:   {paid}",
                f"Receipt:   {line.receipt_number}", ""]
    out += ["The payer's contact and card details are not shared with you; the front desk "
            "can tell you more about this payment.", "", _signature(firm)]
    msg = _new_message(f"{firm.name}: invoice {numbers} was paid", client.email, sender,
                       f"checkout-{checkout.id}-client", firm)
    msg["X-Paydesk-Checkout"] = str(checkout.id)
    msg.set_content("\n".join(out) + "\n", cte="quoted-printable")
    return msg


def build_confirmation(checkout_id: int, *, sender: str | None = None) -> EmailMessage:
    """The confirmation email of a checkout, built from the database.

    To the checkout's payer email (else the client's; a payment-code holder's receipt goes
    only to the address they gave, and never names the client), from `sender` (default:
    Paydesk's default SMTP sender). Raises BillingError for an unknown checkout, one with
    no captured or recorded payment, or a code holder's checkout with no address.
    """
    checkout = _checkout_row(checkout_id)
    lines = _lines(checkout)
    if not lines:
        raise BillingError(
            f"Checkout {checkout_id} has no completed payment to confirm by email"
        )
    firm, client = checkout.firm, checkout.client
    code = checkout.payer_kind == "code"
    recipient = checkout.payer_email if code else checkout.payer_email or client.email
    if not recipient:
        raise BillingError(f"Checkout {checkout_id} has no address to send its receipt to")
    total = Money.sum_of((line.amount for line in lines), checkout.currency)
    paid_by = method_label(checkout.method, checkout.card_brand, checkout.card_last4,
                           checkout.reference)
    sent_on = utcnow()
    when = max((line.paid_at for line in lines if line.paid_at), default=sent_on)
    when = firm_datetime(when, firm.time_zone, firm.locale)
    from_address = sender or SmtpSettings().sender or firm_sender(firm)

    msg = EmailMessage(policy=STORE_POLICY)
    transactions = plural(len(lines), firm.locale, one="{n} transaction",
                          other="{n} transactions")
    msg["Subject"] = f"{firm.name}: payment received ({transactions})"
    msg["From"] = from_address
    msg["To"] = recipient
    msg["Date"] = email.utils.format_datetime(sent_on.replace(tzinfo=dt.UTC))
    domain = email.utils.parseaddr(from_address)[1].rpartition("@")[2] or "paydesk.invalid"
    msg["Message-ID"] = _message_id(f"checkout-{checkout.id}", domain)
    msg["X-Paydesk-Checkout"] = str(checkout.id)
    msg.set_content(_text_body(firm, client, checkout, paid_by, lines, total, when),
                    cte="quoted-printable")
    msg.add_alternative(_html_body(firm, client, checkout, paid_by, lines, total, when),
                        subtype="html", cte="quoted-printable")
    for line in lines:
        msg.add_attachment(receipt_pdf(line.receipt_number, show_client=not code),
                           maintype="application",
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
        kind = Checkout.get_by_id(checkout_id).payer_kind
        messages = []
        if kind != "code" or Checkout.get_by_id(checkout_id).payer_email:
            messages.append(build_confirmation(checkout_id, sender=sender))
        if kind == "code":
            # The client is told their invoice was paid (without the payer's details),
            # whether or not the code holder asked for a receipt.
            messages.append(build_client_notice(checkout_id, sender=sender))
        rows = [_store(msg, checkout_id=checkout_id) for msg in messages if msg["To"]]
        return rows[0] if rows else None


def _store(msg: EmailMessage, *, checkout_id: int | None = None) -> OutboundEmail:
    return OutboundEmail.create(
        checkout=checkout_id,
        recipient=str(msg["To"]),
        subject=str(msg["Subject"])[:300],
        message=msg.as_string(policy=STORE_POLICY),
    )


REFUND_TO_CARD = "Refunds to a card usually reach it in 5-10 business days, depending on the bank."


def build_refund_email(refund_id: int, *, to_client: bool = True,
                       sender: str | None = None) -> EmailMessage:
    """The refund confirmation: invoice, amount, where it went (card brand and last four),
    the refund receipt's number and the processor's reference, and when it reaches the card.

    To the payer of the refunded payment: the client (or, for a payment-code holder who gave
    an address, to them, without the client's details). `to_client` False for a code
    holder's payment is that holder's copy; True is the client's, without the card."""
    refund = Refund.get_by_id(refund_id)
    payment = InvoicePayment.select(InvoicePayment, Invoice, Case).join(Invoice).join(Case).where(
        InvoicePayment.id == refund.invoice_payment_id).get()
    checkout = _checkout_row(payment.checkout_id)
    firm, client, invoice = checkout.firm, checkout.client, payment.invoice
    code = checkout.payer_kind == "code"
    show_card = not (code and to_client)  # a code holder's card is theirs, not the client's
    money = format_money(Money(refund.amount_minor, invoice.currency), firm.locale)
    if to_client:
        recipient = client.email if code else checkout.payer_email or client.email
    else:
        recipient = checkout.payer_email or ""
    card = checkout.method in CARD_METHODS
    to = method_label(checkout.method, checkout.card_brand, checkout.card_last4,
                      checkout.reference)
    reference = refund.receipt_number or ""
    if refund.stripe_refund_id:
        reference += f" / {refund.stripe_refund_id}"
    when = firm_datetime(refund.completed_at or utcnow(), firm.time_zone, firm.locale)
    out = ["Hello," if code and not to_client else f"Dear {client.name},", "",
           f"{firm.name} refunded {money} of the payment for invoice {invoice.number} on "
           f"{when}.", "",
           f"Invoice:     {invoice.number}",
           f"Case:        {invoice.case.number} {invoice.case.title}",
           f"Amount:      {money}"]
    if show_card:
        out.append(f"Refunded to: {to}")
    out += [f"Reference:   {reference}",
            f"Refund of:   {payment.receipt_number or '-'}", ""]
    if card:
        out.append(REFUND_TO_CARD if show_card
                   else "It goes back to the card the payment was made with, usually in "
                        "5-10 business days.")
    else:
        out.append(f"It is returned as the payment was made ({to}).")
    if show_card and refund.receipt_number:
        out.append("The refund receipt is attached as a PDF.")
    out += ["", _signature(firm)]
    msg = _new_message(f"{firm.name}: refund of {money} for invoice {invoice.number}",
                       recipient, sender, f"refund-{refund.id}", firm)
    msg["X-Paydesk-Refund"] = str(refund.id)
    msg.set_content("\n".join(out) + "\n", cte="quoted-printable")
    if show_card and refund.receipt_number:
        msg.add_attachment(receipt_pdf(refund.receipt_number, show_client=not code),
                           maintype="application", subtype="pdf",
                           filename=f"receipt-{refund.receipt_number}.pdf")
    return msg


def queue_refund_email(refund_id: int, *, sender: str | None = None) -> list[OutboundEmail]:
    """Queue the refund's confirmation; call it inside the transaction that records the
    refund, so that a refund recorded has its email and one rolled back has none. A code
    holder's payment: their copy (if they gave an address) and the client's, without the
    card. Not linked to the checkout (`OutboundEmail.checkout` marks its confirmation)."""
    with write_transaction():
        refund = Refund.get_by_id(refund_id)
        checkout = InvoicePayment.get_by_id(refund.invoice_payment_id).checkout
        messages = [build_refund_email(refund_id, to_client=True, sender=sender)]
        if checkout.payer_kind == "code" and checkout.payer_email:
            messages.insert(0, build_refund_email(refund_id, to_client=False, sender=sender))
        return [_store(msg) for msg in messages if msg["To"]]


def build_receipt_email(reference: str, recipient: str, *, show_client: bool = True,
                        sender: str | None = None) -> EmailMessage:
    """One receipt, asked for by the payer ("Email me the receipt" at a kiosk or over SSH,
    where a saved file would stay on the server): a short note with the receipt as a PDF.
    `show_client` False leaves out the client's name (a payment-code holder's copy)."""
    address = check_address(recipient)
    receipt = find_receipt(reference)
    firm = Firm(name=receipt.firm_name, address=receipt.firm_address,
                phone=receipt.firm_phone, email=receipt.firm_email)  # as the receipt shows it
    out = ["Hello,", "",
           f"Here is receipt {receipt.number} from {firm.name}, as you asked: "
           f"{receipt.money(receipt.amount)} for invoice {receipt.invoice_number} on "
           f"{receipt.when}.", "", "The receipt is attached as a PDF.", "", _signature(firm)]
    msg = _new_message(f"{firm.name}: receipt {receipt.number}", address, sender,
                       f"receipt-{receipt.number}", firm)
    msg.set_content("\n".join(out) + "\n", cte="quoted-printable")
    msg.add_attachment(receipt_pdf(receipt.number, show_client=show_client),
                       maintype="application", subtype="pdf",
                       filename=f"receipt-{receipt.number}.pdf")
    return msg


def queue_receipt_email(reference: str, recipient: str, *, show_client: bool = True,
                        sender: str | None = None) -> OutboundEmail:
    """Queue one receipt to `recipient` in the outbox (delivered after commit, retried
    like every email); BillingError for a bad address or an unknown receipt."""
    msg = build_receipt_email(reference, recipient, show_client=show_client, sender=sender)
    with write_transaction():
        return _store(msg)


def parse_message(text: str) -> EmailMessage:
    """A stored outbox message back as an EmailMessage."""
    return email.message_from_string(text, _class=EmailMessage, policy=STORE_POLICY)
