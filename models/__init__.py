"""Paydesk's data: peewee models, the database binding, migrations, money."""

from models.cards import CardConsent, CardRemoval
from models.db import (
    BaseModel,
    bind,
    database,
    for_update,
    is_postgres,
    open_database,
    write_transaction,
)
from models.firm import Case, Client, Firm, PortalAccount, Staff, utcnow
from models.invoices import Invoice, InvoiceLine, InvoiceShare, PaymentPlan, PlanInstalment
from models.payments import Checkout, InvoicePayment, Refund
from models.records import AppendOnlyError, AuditEntry, OutboundEmail
from models.security import SignInGuard

ALL_MODELS = [
    Firm, Client, PortalAccount, Case, Staff,
    Invoice, InvoiceLine, InvoiceShare, PaymentPlan, PlanInstalment,
    Checkout, InvoicePayment, Refund,
    AuditEntry, OutboundEmail, CardConsent, CardRemoval, SignInGuard,
]

__all__ = [
    "ALL_MODELS", "AppendOnlyError", "AuditEntry", "BaseModel", "CardConsent", "CardRemoval",
    "Case", "Checkout",
    "Client", "Firm", "Invoice", "InvoiceLine", "InvoicePayment", "InvoiceShare",
    "OutboundEmail", "PaymentPlan", "PlanInstalment", "PortalAccount", "Refund", "Staff",
    "SignInGuard",
    "bind", "database", "for_update", "is_postgres", "open_database", "utcnow",
    "write_transaction",
]
