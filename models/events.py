"""What Stripe tells Paydesk after a checkout: the events applied, where reading them
stopped, and the disputes they opened (migration 0008)."""

from __future__ import annotations

import peewee as pw

from models.db import BaseModel, MinorUnitsField
from models.firm import utcnow
from models.payments import InvoicePayment

EVENT_SOURCES = ("poll", "webhook")
# Stripe's dispute statuses that are still open: the desk shows the invoice as disputed.
OPEN_DISPUTE_STATUSES = (
    "warning_needs_response", "warning_under_review", "needs_response", "under_review",
)


class StripeEvent(BaseModel):
    """One Stripe event, applied once: the row is inserted first in the transaction that
    applies the event, so a second apply (poller and webhook) hits the unique id."""

    stripe_event_id = pw.CharField(max_length=255, unique=True)
    type = pw.CharField(max_length=100)
    created = pw.DateTimeField()
    livemode = pw.BooleanField(default=False)
    applied_at = pw.DateTimeField(default=utcnow)
    source = pw.CharField(
        max_length=10, constraints=[pw.Check("source IN ('poll', 'webhook')")]
    )
    # What applying it did, in a word: "refund", "dispute.opened", "ignored", ...
    outcome = pw.CharField(max_length=40)


class StripeEventCursor(BaseModel):
    """Per Stripe account and mode, the last event read: reading resumes after it."""

    account = pw.CharField(max_length=64)
    livemode = pw.BooleanField()
    last_event_id = pw.CharField(max_length=255, null=True)
    updated_at = pw.DateTimeField(default=utcnow)

    class Meta:
        indexes = ((("account", "livemode"), True),)


class StripeEventFailure(BaseModel):
    """How many times applying one event failed. Written in a transaction of its own, after
    the failed one rolled back, so that the count survives; an event that keeps failing is
    then recorded with outcome "failed" and reading moves on past it."""

    stripe_event_id = pw.CharField(max_length=255, unique=True)
    tries = pw.IntegerField(default=0)
    error = pw.CharField(max_length=200, default="")
    updated_at = pw.DateTimeField(default=utcnow)


class Dispute(BaseModel):
    invoice_payment = pw.ForeignKeyField(
        InvoicePayment, backref="disputes", on_delete="RESTRICT", index=True
    )
    stripe_dispute_id = pw.CharField(max_length=64, unique=True)
    amount_minor = MinorUnitsField(constraints=[pw.Check("amount_minor > 0")])
    # What the dispute took off the invoice's paid amount (an inquiry takes nothing); a
    # dispute won gives back exactly this.
    withdrawn_minor = MinorUnitsField(
        default=0,
        constraints=[pw.Check("withdrawn_minor >= 0"),
                     pw.Check("withdrawn_minor <= amount_minor")],
    )
    # What came back to the firm (a dispute won, or funds reinstated after one was lost):
    # given back to the invoice once, never more than was withdrawn.
    reinstated_minor = MinorUnitsField(
        default=0,
        constraints=[pw.Check("reinstated_minor >= 0"),
                     pw.Check("reinstated_minor <= withdrawn_minor")],
    )
    status = pw.CharField(max_length=30)
    reason = pw.CharField(max_length=60)
    opened_at = pw.DateTimeField(default=utcnow)
    closed_at = pw.DateTimeField(null=True)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_DISPUTE_STATUSES


def disputed_payments(payment_ids: list[int]) -> set[int]:
    """Which of these invoice payments have a dispute still open (one query)."""
    if not payment_ids:
        return set()
    rows = (Dispute.select(Dispute.invoice_payment)
            .where(Dispute.invoice_payment.in_(payment_ids)
                   & Dispute.status.in_(OPEN_DISPUTE_STATUSES) & Dispute.closed_at.is_null())
            .tuples())
    return {payment_id for (payment_id,) in rows}


def dispute_flags(payment_ids: list[int]) -> tuple[set[int], set[int]]:
    """Of these invoice payments (one query): those with a dispute still open, and those
    charged back (a dispute lost whose money did not come back): nothing is left on them
    to refund."""
    if not payment_ids:
        return set(), set()
    rows = (Dispute.select(Dispute.invoice_payment, Dispute.status, Dispute.closed_at,
                           Dispute.withdrawn_minor, Dispute.reinstated_minor)
            .where(Dispute.invoice_payment.in_(payment_ids)).tuples())
    disputed, charged_back = set(), set()
    for payment_id, status, closed_at, withdrawn, reinstated in rows:
        if closed_at is None and status in OPEN_DISPUTE_STATUSES:
            disputed.add(payment_id)
        elif status == "lost" and withdrawn > reinstated:
            charged_back.add(payment_id)
    return disputed, charged_back
