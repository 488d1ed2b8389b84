"""The emails of a bank debit checkout, queued in the outbox in the transaction that
records what they tell: the client's copy of the authorization (WEB and TEL), the written
notice of a telephone authorization (queued with it, so it goes out before any debit
settles), and each debit settled or failed (to the client; a failure to staff as well).
The bank account appears only as its last four digits."""

from __future__ import annotations

from billing.emails import _new_message, _signature, _store
from billing.localtime import firm_datetime
from models.bank_debits import BankAuthorization
from models.firm import Client, Firm
from models.invoices import Invoice
from models.money import Money, format_money
from models.payments import Checkout, InvoicePayment
from models.records import OutboundEmail


def _queue(firm: Firm, to: str, subject: str, body: str, *, checkout_id: int,
           msgid: str) -> OutboundEmail | None:
    to = (to or "").strip()
    if not to:
        return None
    msg = _new_message(subject, to, None, msgid, firm)
    msg.set_content(f"{body}\n\n{_signature(firm)}\n")
    return _store(msg, checkout_id=checkout_id)


def _to_client(checkout: Checkout) -> str:
    return checkout.payer_email or checkout.client.email


def queue_authorization_copy(authorization: BankAuthorization) -> OutboundEmail | None:
    """The client's copy of the exact authorization text they agreed to."""
    checkout = Checkout.get_by_id(authorization.checkout_id)
    firm, client = checkout.firm, Client.get_by_id(authorization.client_id)
    how = ("online" if authorization.kind == "WEB" else "by telephone")
    body = (f"Dear {client.name},\n\nThis is your copy of the bank debit authorization you "
            f"gave {firm.name} {how} on "
            f"{firm_datetime(authorization.accepted_at, firm.time_zone, firm.locale)}:\n\n"
            f"{authorization.text}\n\nReference: authorization {authorization.id}, "
            f"checkout {checkout.id}.")
    return _queue(firm, _to_client(checkout), f"{firm.name}: your bank debit authorization",
                  body, checkout_id=checkout.id, msgid=f"bank-authorization-{authorization.id}")


def queue_telephone_notice(authorization: BankAuthorization) -> OutboundEmail | None:
    """The written notice a telephone (TEL) authorization needs before the debits settle:
    each invoice, amount and the account's last four digits."""
    checkout = Checkout.get_by_id(authorization.checkout_id)
    firm, client = checkout.firm, Client.get_by_id(authorization.client_id)
    lines = [f"  {p.invoice.number}: {format_money(Money(p.amount_minor, checkout.currency), firm.locale)}"
             for p in checkout.payments.order_by(InvoicePayment.position)]
    body = (f"Dear {client.name},\n\nAs agreed on the telephone, {firm.name} will debit the "
            f"bank account ending {authorization.last4} once for each of these invoices:\n\n"
            + "\n".join(lines) +
            f"\n\nTotal: {format_money(Money(checkout.total_minor, checkout.currency), firm.locale)}."
            "\nEach debit settles on its own in a few business days. If you did not agree to "
            f"this, or want to revoke it, contact {firm.name} before the debits settle.")
    return _queue(firm, _to_client(checkout), f"{firm.name}: notice of bank debits",
                  body, checkout_id=checkout.id, msgid=f"bank-notice-{authorization.id}")


def _payment_words(payment: InvoicePayment) -> tuple[Checkout, Firm, Invoice, str]:
    checkout = Checkout.get_by_id(payment.checkout_id)
    invoice = Invoice.get_by_id(payment.invoice_id)
    amount = format_money(Money(payment.amount_minor, checkout.currency), checkout.firm.locale)
    return checkout, checkout.firm, invoice, amount


def queue_settled(payment: InvoicePayment) -> OutboundEmail | None:
    """To the client: the debit for one invoice settled, with its receipt number."""
    checkout, firm, invoice, amount = _payment_words(payment)
    body = (f"Dear {checkout.client.name},\n\nYour bank payment of {amount} for invoice "
            f"{invoice.number} (account ending {checkout.card_last4 or '????'}) has "
            f"settled.\nReceipt number: {payment.receipt_number}.")
    return _queue(firm, _to_client(checkout),
                  f"{firm.name}: bank payment received for {invoice.number}", body,
                  checkout_id=checkout.id, msgid=f"bank-settled-{payment.id}")


def queue_failed(payment: InvoicePayment, reason: str) -> list[OutboundEmail]:
    """To the client and to the firm's address (the front desk): which invoice's debit
    failed and why; the invoice can be paid again. No receipt: nothing was paid."""
    checkout, firm, invoice, amount = _payment_words(payment)
    last4 = checkout.card_last4 or "????"
    client_body = (f"Dear {checkout.client.name},\n\nYour bank payment of {amount} for "
                   f"invoice {invoice.number} from the account ending {last4} did not go "
                   f"through: {reason}.\nNothing was paid, and invoice {invoice.number} can "
                   "be paid again.")
    staff_body = (f"The bank debit of {amount} for invoice {invoice.number} "
                  f"({checkout.client.name}, account ending {last4}, checkout {checkout.id}) "
                  f"failed: {reason}.\nThe invoice is payable again; no receipt was issued.")
    subject = f"{firm.name}: bank payment failed for {invoice.number}"
    rows = [_queue(firm, _to_client(checkout), subject, client_body, checkout_id=checkout.id,
                   msgid=f"bank-failed-{payment.id}"),
            _queue(firm, firm.email, subject, staff_body, checkout_id=checkout.id,
                   msgid=f"bank-failed-staff-{payment.id}")]
    return [r for r in rows if r is not None]
