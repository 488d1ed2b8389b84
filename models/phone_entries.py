"""A card entered on the payer's own phone: the hosted card page Paydesk opened for one
checkout selection, and exactly what it may pay.

No card data is kept: the page is named by Stripe's Checkout Session id, and the card it
saved is read from Stripe when the payment starts.
"""

from __future__ import annotations

import peewee as pw

from models.db import BaseModel, MinorUnitsField
from models.firm import Client, Staff, utcnow
from models.invoices import Invoice
from models.payments import Checkout

# pending: the page is open (or being opened); used: a checkout was started with its card
# (once, never again); expired / canceled: the page can no longer pay anything.
PHONE_ENTRY_STATUSES = ("pending", "used", "expired", "canceled")
PHONE_PAYER_KINDS = ("client", "staff")


def _one_of(column: str, values: tuple[str, ...]) -> pw.Check:
    return pw.Check(f"{column} IN ({', '.join(repr(v) for v in values)})")


class PhoneEntry(BaseModel):
    client = pw.ForeignKeyField(Client, backref="phone_entries", on_delete="RESTRICT")
    payer_kind = pw.CharField(max_length=10,
                              constraints=[_one_of("payer_kind", PHONE_PAYER_KINDS)])
    staff = pw.ForeignKeyField(Staff, null=True, on_delete="RESTRICT")
    currency = pw.CharField(max_length=3)
    # Stored before the page is asked for, so a retry gets the same page.
    setup_key = pw.CharField(max_length=80, unique=True)
    expire_key = pw.CharField(max_length=80, unique=True)
    # When Paydesk stops taking the page's card (the Stripe page may live a minute longer).
    expires_at = pw.DateTimeField()
    # The same moment in Unix seconds, as sent to Stripe: a retry must send the same value.
    stripe_expires_at = pw.BigIntegerField()
    session_id = pw.CharField(max_length=255, null=True, unique=True)
    url = pw.CharField(max_length=2000, null=True)
    # The short link's code (migration 0013), when the firm runs a link server.
    short_code = pw.CharField(max_length=16, null=True, unique=True)
    status = pw.CharField(max_length=10, default="pending",
                          constraints=[_one_of("status", PHONE_ENTRY_STATUSES)])
    created_at = pw.DateTimeField(default=utcnow)
    used_at = pw.DateTimeField(null=True)
    checkout = pw.ForeignKeyField(Checkout, null=True, unique=True, on_delete="RESTRICT")
    terminal = pw.CharField(max_length=120)

    class Meta:
        table_name = "phone_entry"


class PhoneEntryInvoice(BaseModel):
    """One invoice the page pays, and the amount the review listed for it."""

    entry = pw.ForeignKeyField(PhoneEntry, backref="invoices", on_delete="CASCADE")
    invoice = pw.ForeignKeyField(Invoice, on_delete="RESTRICT")
    amount_minor = MinorUnitsField(constraints=[pw.Check("amount_minor > 0")])

    class Meta:
        table_name = "phone_entry_invoice"
        indexes = ((("entry", "invoice"), True),)
