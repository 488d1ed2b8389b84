"""Sharing an invoice with a client (email, portal) or a payment link (a code for one
invoice, shown once and stored only as a hash)."""

from __future__ import annotations

import datetime as dt

from billing.audit import audit
from billing.errors import BillingError, NotAllowed
from billing.values import ShareResult, StaffSession
from models.db import write_transaction
from models.firm import Case
from models.invoices import LINK_CHANNELS, SHARE_CHANNELS, Invoice, InvoiceShare
from models.money import Money
from models.queries import PayableInvoice
from models.security import hash_payment_code, new_payment_code


def share_invoice(staff: StaffSession, invoice_id: int, channel: str, recipient: str | None,
                  *, terminal: str) -> ShareResult:
    """Share one issued invoice; a link channel returns a fresh payment code (shown once)."""
    if channel not in SHARE_CHANNELS:
        raise BillingError(f"Share by one of: {', '.join(SHARE_CHANNELS)}.")
    invoice = Invoice.get_or_none(Invoice.id == invoice_id)
    if invoice is None:
        raise NotAllowed("There is no such invoice.")
    if invoice.status != "issued":
        raise NotAllowed(f"{invoice.number} is {invoice.status}: only an issued invoice can "
                         "be shared.")
    recipient = (recipient or "").strip() or None
    if recipient is None:
        client = invoice.client
        recipient = client.email if channel in ("email", "portal") else client.phone
    code = new_payment_code() if channel in LINK_CHANNELS else None
    with write_transaction():
        InvoiceShare.create(invoice=invoice, channel=channel, recipient=recipient,
                            code_hash=hash_payment_code(code) if code else None)
        audit(actor=f"staff:{staff.name}", action="invoice.share",
              subject=f"invoice:{invoice.number}", result="shared", terminal=terminal,
              details=f"{channel} to {recipient or '-'}")
    return ShareResult(invoice_number=invoice.number, channel=channel, recipient=recipient,
                       payment_code=code)


def shareable_invoices(client_id: int, *, today: dt.date) -> list[PayableInvoice]:
    """Every issued invoice of the client with a balance, shared or not."""
    rows = (
        Invoice.select(Invoice, Case).join(Case)
        .where((Invoice.client == client_id) & (Invoice.status == "issued")
               & (Invoice.paid_minor < Invoice.total_minor))
        .order_by(Case.number, Invoice.due_date, Invoice.number)
    )
    return [
        PayableInvoice(
            invoice_id=r.id, number=r.number, client_id=r.client_id, case_number=r.case.number,
            case_title=r.case.title, issue_date=r.issue_date, due_date=r.due_date,
            total=Money(r.total_minor, r.currency), paid=Money(r.paid_minor, r.currency),
        )
        for r in rows
    ]
