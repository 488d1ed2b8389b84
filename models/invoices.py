"""Invoices, their lines, how they were shared, and payment plans."""

from __future__ import annotations

import peewee as pw

from models.db import BaseModel, MinorUnitsField
from models.firm import Case, Client, Firm, utcnow

INVOICE_STATUSES = ("draft", "issued", "void")
SHARE_CHANNELS = ("email", "portal", "text_link", "copied_link")
# Shares by these channels put the invoice on the client's payment page.
LISTING_CHANNELS = ("email", "portal")
# Shares by these channels carry a payment code for one invoice.
LINK_CHANNELS = ("text_link", "copied_link")


class Invoice(BaseModel):
    firm = pw.ForeignKeyField(Firm, backref="invoices", on_delete="RESTRICT")
    case = pw.ForeignKeyField(Case, backref="invoices", on_delete="RESTRICT")
    client = pw.ForeignKeyField(Client, backref="invoices", on_delete="RESTRICT")
    number = pw.CharField(max_length=40, unique=True)
    issue_date = pw.DateField()
    due_date = pw.DateField()
    status = pw.CharField(
        max_length=10, default="draft",
        constraints=[pw.Check("status IN ('draft', 'issued', 'void')")],
    )
    currency = pw.CharField(max_length=3)
    total_minor = MinorUnitsField(constraints=[pw.Check("total_minor >= 0")])
    # Net of refunds: captured card payments plus offline payments less refunds.
    paid_minor = MinorUnitsField(
        default=0,
        constraints=[pw.Check("paid_minor >= 0"), pw.Check("paid_minor <= total_minor")],
    )

    @property
    def balance_minor(self) -> int:
        return self.total_minor - self.paid_minor


class InvoiceLine(BaseModel):
    invoice = pw.ForeignKeyField(Invoice, backref="lines", on_delete="CASCADE")
    position = pw.IntegerField()
    service_date = pw.DateField(null=True)
    description = pw.CharField(max_length=500)
    amount_minor = MinorUnitsField(constraints=[pw.Check("amount_minor >= 0")])

    class Meta:
        indexes = ((("invoice", "position"), True),)


class InvoiceShare(BaseModel):
    invoice = pw.ForeignKeyField(Invoice, backref="shares", on_delete="CASCADE")
    channel = pw.CharField(
        max_length=20,
        constraints=[pw.Check("channel IN ('email', 'portal', 'text_link', 'copied_link')")],
    )
    shared_at = pw.DateTimeField(default=utcnow)
    recipient = pw.CharField(max_length=254, null=True)
    # Link shares only: the payment code's hash (the code itself is never stored).
    code_hash = pw.CharField(max_length=64, null=True, unique=True)

    class Meta:
        constraints = [
            pw.SQL(
                "CHECK ((channel IN ('text_link', 'copied_link')) = (code_hash IS NOT NULL))"
            )
        ]


class PaymentPlan(BaseModel):
    invoice = pw.ForeignKeyField(Invoice, backref="plans", unique=True, on_delete="CASCADE")
    created_at = pw.DateTimeField(default=utcnow)


class PlanInstalment(BaseModel):
    plan = pw.ForeignKeyField(PaymentPlan, backref="instalments", on_delete="CASCADE")
    sequence = pw.IntegerField()
    due_date = pw.DateField()
    amount_minor = MinorUnitsField(constraints=[pw.Check("amount_minor > 0")])

    class Meta:
        indexes = ((("plan", "sequence"), True),)
