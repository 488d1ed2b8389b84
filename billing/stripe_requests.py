"""The authorization request of an invoice payment, as Paydesk sends (and replays) it."""

from __future__ import annotations

from billing import ledger
from models.payments import Checkout, InvoicePayment


def authorization_metadata(checkout: Checkout, payment: InvoicePayment) -> dict[str, str]:
    """What Paydesk stores on the PaymentIntent of an invoice payment, and how
    reconciliation finds it again. `paydesk_request` (the request's idempotency key) tells
    this request apart from one of another database that reused the same row ids against
    the same Stripe account (a demo reset, a restored backup)."""
    return {"paydesk_checkout": str(checkout.id), "paydesk_invoice_payment": str(payment.id),
            "paydesk_request": payment.authorize_key, "invoice_number": payment.invoice.number}


def authorize_request(checkout: Checkout, payment: InvoicePayment) -> dict:
    """The authorization of one invoice payment, built only from stored values, so that a
    replay (reconciliation) sends exactly the same request under the same key."""
    number = payment.invoice.number
    return dict(
        amount=payment.amount_minor, currency=checkout.currency.lower(),
        payment_method_id=checkout.payment_method_id, customer_id=checkout.stripe_customer_id,
        metadata=authorization_metadata(checkout, payment),
        statement_descriptor_suffix=ledger.descriptor_suffix(number),
        description=f"Invoice {number}", idempotency_key=payment.authorize_key,
    )
