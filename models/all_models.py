"""Every model, the database binding and its helpers, loaded together: what `models`
gives (the package loads this module when one of its names is first read)."""

from models.bank_debits import BankAuthorization, BankMandate, BankVerification
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
from models.events import Dispute, StripeEvent, StripeEventCursor, StripeEventFailure
from models.firm import Case, Client, Firm, PortalAccount, Staff, utcnow
from models.invoices import Invoice, InvoiceLine, InvoiceShare, PaymentPlan, PlanInstalment
from models.payments import Checkout, InvoicePayment, Refund
from models.phone_entries import PhoneEntry, PhoneEntryInvoice
from models.records import AppendOnlyError, AuditEntry, OutboundEmail
from models.security import SignInGuard

ALL_MODELS = [
    Firm, Client, PortalAccount, Case, Staff,
    Invoice, InvoiceLine, InvoiceShare, PaymentPlan, PlanInstalment,
    Checkout, InvoicePayment, Refund,
    AuditEntry, OutboundEmail, CardConsent, CardRemoval, SignInGuard,
    StripeEvent, StripeEventCursor, StripeEventFailure, Dispute, PhoneEntry, PhoneEntryInvoice,
    BankAuthorization, BankMandate, BankVerification,
]

__all__ = [
    "ALL_MODELS", "AppendOnlyError", "AuditEntry", "BankAuthorization", "BankMandate", "BankVerification", "BaseModel", "CardConsent", "CardRemoval",
    "Case", "Checkout",
    "Client", "Dispute", "StripeEvent", "StripeEventCursor", "StripeEventFailure", "Firm", "Invoice", "InvoiceLine", "InvoicePayment", "InvoiceShare",
    "OutboundEmail", "PaymentPlan", "PhoneEntry", "PhoneEntryInvoice", "PlanInstalment", "PortalAccount", "Refund", "Staff",
    "SignInGuard",
    "bind", "database", "for_update", "is_postgres", "open_database", "utcnow",
    "write_transaction",
]
