"""The firm, its clients and their portal accounts, cases, and staff."""

from __future__ import annotations

import datetime as dt

import peewee as pw

from models.db import BaseModel

STAFF_ROLES = ("front_desk", "admin")


def utcnow() -> dt.datetime:
    """Naive UTC time, as stored in every timestamp column."""
    return dt.datetime.now(dt.UTC).replace(tzinfo=None)


class Firm(BaseModel):
    name = pw.CharField(max_length=200)
    currency = pw.CharField(max_length=3)
    locale = pw.CharField(max_length=20, default="en_US")
    online_payments_enabled = pw.BooleanField(default=True)
    multi_invoice_payments_enabled = pw.BooleanField(default=True)
    # Bank debits (ACH) offered at the kiosk and the desk; the Stripe account must have
    # ACH Direct Debit enabled for live payments.
    bank_debits_enabled = pw.BooleanField(default=True)
    # Stripe shows "PREFIX* SUFFIX" on the statement; the prefix is at most 10 characters.
    statement_descriptor_prefix = pw.CharField(max_length=10)
    # Timestamps are stored in UTC and shown in this zone (an IANA name).
    time_zone = pw.CharField(max_length=64, default="UTC")
    # Printed on receipts and in emails; `email` is also the sender of the firm's emails.
    address = pw.TextField(default="")
    phone = pw.CharField(max_length=40, default="")
    email = pw.CharField(max_length=254, default="")


class Client(BaseModel):
    firm = pw.ForeignKeyField(Firm, backref="clients", on_delete="RESTRICT")
    name = pw.CharField(max_length=200)
    email = pw.CharField(max_length=254, index=True)
    phone = pw.CharField(max_length=40, null=True)
    stripe_customer_id = pw.CharField(max_length=64, null=True, unique=True)
    # The idempotency key of this client's customer creation, claimed once (first payment
    # wins), so that first payments made at the same moment create one customer.
    stripe_customer_key = pw.CharField(max_length=80, null=True, unique=True)

    class Meta:
        indexes = ((("firm", "email"), True),)


class PortalAccount(BaseModel):
    client = pw.ForeignKeyField(Client, backref="portal_accounts", unique=True)
    email = pw.CharField(max_length=254, unique=True)
    password_hash = pw.CharField(max_length=200)


class Case(BaseModel):
    firm = pw.ForeignKeyField(Firm, backref="cases", on_delete="RESTRICT")
    client = pw.ForeignKeyField(Client, backref="cases", on_delete="RESTRICT")
    number = pw.CharField(max_length=40, unique=True)
    title = pw.CharField(max_length=300)


class Staff(BaseModel):
    firm = pw.ForeignKeyField(Firm, backref="staff", on_delete="RESTRICT")
    name = pw.CharField(max_length=120, unique=True)
    role = pw.CharField(
        max_length=20, constraints=[pw.Check("role IN ('front_desk', 'admin')")]
    )
    pin_hash = pw.CharField(max_length=200)
    failed_attempts = pw.IntegerField(default=0, constraints=[pw.Check("failed_attempts >= 0")])
    locked_until = pw.DateTimeField(null=True)
