"""Checkouts (one payment action), the invoice payments they hold, and refunds."""

from __future__ import annotations

import peewee as pw

from models.db import BaseModel, MinorUnitsField
from models.firm import Client, Firm, Staff, utcnow
from models.invoices import Invoice

PAYER_KINDS = ("client", "staff", "code")
METHODS = ("card_keyed", "card_saved", "card_reader", "check", "cash", "bank_transfer",
           "bank_debit")
OFFLINE_METHODS = ("check", "cash", "bank_transfer")
CHECKOUT_STATUSES = (
    "reserved", "authorizing", "capturing", "cancelling", "succeeded", "failed",
    "cancelled", "verifying", "processing",
)
PAYMENT_STATUSES = (
    "pending", "authorizing", "authorized", "capturing", "captured", "declined",
    "cancelling", "cancelled", "failed", "verifying", "recorded", "processing",
)
# Stripe's payment method types Paydesk takes: a card, or an ACH debit from a US bank
# account ("processing" for days, then captured or failed: billing.bank_settlement).
PAYMENT_METHOD_TYPES = ("card", "us_bank_account")
REFUND_STATUSES = ("pending", "succeeded", "failed", "verifying")
# Where a refund was made: at a Paydesk terminal, or in Stripe (learnt from its event).
REFUND_ORIGINS = ("paydesk", "stripe")


def _one_of(column: str, values: tuple[str, ...]) -> pw.Check:
    return pw.Check(f"{column} IN ({', '.join(repr(v) for v in values)})")


class Checkout(BaseModel):
    firm = pw.ForeignKeyField(Firm, backref="checkouts", on_delete="RESTRICT")
    client = pw.ForeignKeyField(Client, backref="checkouts", on_delete="RESTRICT")
    payer_kind = pw.CharField(max_length=10, constraints=[_one_of("payer_kind", PAYER_KINDS)])
    staff = pw.ForeignKeyField(Staff, null=True, backref="checkouts", on_delete="RESTRICT")
    payer_email = pw.CharField(max_length=254, null=True)
    method = pw.CharField(max_length=20, constraints=[_one_of("method", METHODS)])
    status = pw.CharField(
        max_length=20, default="reserved", constraints=[_one_of("status", CHECKOUT_STATUSES)]
    )
    currency = pw.CharField(max_length=3)
    total_minor = MinorUnitsField(constraints=[pw.Check("total_minor > 0")])
    # Stored before the calls they key, so a replay after a crash is the same request.
    customer_key = pw.CharField(max_length=80, unique=True, null=True)
    payment_method_key = pw.CharField(max_length=80, unique=True, null=True)
    stripe_customer_id = pw.CharField(max_length=64, null=True)
    payment_method_id = pw.CharField(max_length=64, null=True)
    card_brand = pw.CharField(max_length=20, null=True)
    card_last4 = pw.CharField(max_length=4, null=True)
    # What became of the card once the payment ended: "kept" on file (it succeeded and the
    # payer agreed, see models.cards.CardConsent) or "released" (taken off the customer).
    # Empty until then, or when there was no card of this checkout's own to settle;
    # "legacy": paid before consent was asked (migration 0003), its card left as it was.
    card_on_file = pw.CharField(max_length=10, null=True)
    # Offline payments: the check number, transfer reference, ...
    reference = pw.CharField(max_length=120, null=True)
    failure_message = pw.TextField(null=True)
    terminal = pw.CharField(max_length=120)
    created_at = pw.DateTimeField(default=utcnow, index=True)
    updated_at = pw.DateTimeField(default=utcnow)
    # The process driving the payment and how long its claim lasts (renewed while it
    # runs); reconciliation takes over only once the owner is gone (billing.lease).
    lease_owner = pw.CharField(max_length=200, null=True)
    lease_until = pw.DateTimeField(null=True)
    payment_method_type = pw.CharField(
        max_length=20, default="card",
        constraints=[_one_of("payment_method_type", PAYMENT_METHOD_TYPES)])


class InvoicePayment(BaseModel):
    checkout = pw.ForeignKeyField(Checkout, backref="payments", on_delete="RESTRICT")
    invoice = pw.ForeignKeyField(Invoice, backref="payments", on_delete="RESTRICT")
    position = pw.IntegerField(default=0)
    amount_minor = MinorUnitsField(constraints=[pw.Check("amount_minor > 0")])
    refunded_minor = MinorUnitsField(
        default=0,
        constraints=[pw.Check("refunded_minor >= 0"), pw.Check("refunded_minor <= amount_minor")],
    )
    status = pw.CharField(
        max_length=20, default="pending", constraints=[_one_of("status", PAYMENT_STATUSES)]
    )
    authorize_key = pw.CharField(max_length=80, unique=True, null=True)
    capture_key = pw.CharField(max_length=80, unique=True, null=True)
    cancel_key = pw.CharField(max_length=80, unique=True, null=True)
    stripe_payment_intent_id = pw.CharField(max_length=64, unique=True, null=True)
    stripe_charge_id = pw.CharField(max_length=64, unique=True, null=True)
    failure_code = pw.CharField(max_length=60, null=True)
    decline_code = pw.CharField(max_length=60, null=True)
    failure_message = pw.TextField(null=True)
    receipt_number = pw.CharField(max_length=20, unique=True, null=True)
    completed_at = pw.DateTimeField(null=True)
    payment_method_type = pw.CharField(
        max_length=20, default="card",
        constraints=[_one_of("payment_method_type", PAYMENT_METHOD_TYPES)])

    class Meta:
        indexes = ((("checkout", "invoice"), True),)


class Refund(BaseModel):
    invoice_payment = pw.ForeignKeyField(InvoicePayment, backref="refunds", on_delete="RESTRICT")
    amount_minor = MinorUnitsField(constraints=[pw.Check("amount_minor > 0")])
    reason = pw.TextField()
    # Empty for a refund made in Stripe: no staff member of the firm's made it here.
    staff = pw.ForeignKeyField(Staff, null=True, backref="refunds", on_delete="RESTRICT")
    status = pw.CharField(
        max_length=20, default="pending", constraints=[_one_of("status", REFUND_STATUSES)]
    )
    idempotency_key = pw.CharField(max_length=80, unique=True)
    stripe_refund_id = pw.CharField(max_length=64, unique=True, null=True)
    failure_message = pw.TextField(null=True)
    receipt_number = pw.CharField(max_length=20, unique=True, null=True)
    terminal = pw.CharField(max_length=120)
    created_at = pw.DateTimeField(default=utcnow)
    completed_at = pw.DateTimeField(null=True)
    origin = pw.CharField(
        max_length=10, default="paydesk", constraints=[_one_of("origin", REFUND_ORIGINS)]
    )
