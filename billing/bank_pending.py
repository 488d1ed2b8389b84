"""What the screens show of bank debits still settling: each invoice's "bank payment
pending" with its amount, and the firm's switch for bank debits."""

from __future__ import annotations

from billing.audit import audit
from billing.bank_values import BankDebitLine
from billing.staff import require_admin
from billing.values import StaffSession
from models.db import write_transaction
from models.firm import Firm
from models.invoices import Invoice
from models.money import Money
from models.payments import Checkout, InvoicePayment

BANK_PAYMENT_PENDING = "bank payment pending"
# A debit sent and settling, or waiting for the account's verification: both hold.
PENDING = ("processing", "authorizing", "pending")


def pending_bank_payments(client_id: int) -> list[BankDebitLine]:
    """The client's bank debits not yet settled or failed, oldest first: each held against
    its invoice (counted in the balance's "in progress"), not paid. One query."""
    rows = (InvoicePayment.select(InvoicePayment, Invoice, Checkout)
            .join(Invoice).switch(InvoicePayment).join(Checkout)
            .where((Checkout.client == client_id)
                   & (InvoicePayment.payment_method_type == "us_bank_account")
                   & InvoicePayment.status.in_(PENDING))
            .order_by(Checkout.created_at, InvoicePayment.position))
    return [BankDebitLine(
        invoice_payment_id=p.id, invoice_number=p.invoice.number,
        amount=Money(p.amount_minor, p.checkout.currency),
        status="processing" if p.status == "processing" else "waiting",
        payment_intent_id=p.stripe_payment_intent_id, message=BANK_PAYMENT_PENDING)
        for p in rows]


def set_bank_debits(staff: StaffSession, enabled: bool, *, terminal: str) -> bool:
    """Switch bank debits on or off for the firm (administrators); audited. The new value."""
    require_admin(staff)
    firm = Firm.select().order_by(Firm.id).get()
    with write_transaction():
        Firm.update(bank_debits_enabled=bool(enabled)).where(Firm.id == firm.id).execute()
        audit(actor=f"staff:{staff.name}", action="firm.switches", subject=f"firm:{firm.id}",
              result="changed", terminal=terminal, details=f"bank_debits_enabled={bool(enabled)}")
    return bool(enabled)
