"""The demo's two bank debits (ACH), so the screens show both outcomes: Nora Ellison's
debit is still settling ("bank payment pending", held on her invoice), and Theo Marsh's
was returned by his bank (account closed), so his invoice is payable again.

The rows are those billing writes for a WEB debit (billing.bank_checkout), with the
authorization record NACHA asks for; the account appears only as its last four digits.
Their PaymentIntents exist only in this seed: the sandbox never settles them."""

from __future__ import annotations

import datetime as dt
import hashlib

from models.bank_debits import BankAuthorization
from models.firm import Case, Client
from models.invoices import Invoice, InvoiceShare
from models.payments import Checkout, InvoicePayment
from models.records import AuditEntry

SEEDED_AT = dt.datetime(2026, 10, 20, 14, 0, 0)  # noqa: DTZ001 - stored as naive UTC
PENDING_CLIENT = ("Nora Ellison", "nora.ellison@example.com", "+1 555 0190")
FAILED_CLIENT = ("Theo Marsh", "theo.marsh@example.com", "+1 555 0191")
# (client, case, case title, invoice, total, debit status, failure code, reason in words)
BANK_DEMO = (
    (PENDING_CLIENT, "ELL-2026-001", "Ellison Lease Renewal", "INV-2001", 180000,
     "processing", None, None),
    (FAILED_CLIENT, "MAR-2026-002", "Marsh Contract Review", "INV-2002", 92000,
     "failed", "account_closed", "the bank account is closed (ACH return R02)"),
)


def _authorization_text(firm_name: str, client: str, number: str, amount: str) -> str:
    return (f"I, {client}, authorize {firm_name} to debit my bank account ending 6789 once "
            f"for invoice {number}, {amount}, total {amount}, on or after October 20, 2026. "
            "One debit is made per invoice. I may revoke this authorization by telling "
            f"{firm_name} at least 3 business days before a debit.")


def seed_bank_debits(firm, base_date: dt.date) -> None:
    """Two clients with one invoice each, paid by a bank debit: pending, and failed."""
    for n, ((name, email, phone), case_no, title, number, total, status, code, reason) \
            in enumerate(BANK_DEMO, start=1):
        client = Client.create(firm=firm, name=name, email=email, phone=phone)
        case = Case.create(firm=firm, client=client, number=case_no, title=title)
        invoice = Invoice.create(
            firm=firm, case=case, client=client, number=number, issue_date=base_date,
            due_date=base_date + dt.timedelta(days=30), status="issued",
            currency=firm.currency, total_minor=total, paid_minor=0)
        InvoiceShare.create(invoice=invoice, channel="email", shared_at=SEEDED_AT,
                            recipient=email)
        checkout = Checkout.create(
            firm=firm, client=client, payer_kind="client", payer_email=email,
            method="bank_debit", status=status, currency=firm.currency, total_minor=total,
            terminal="demo-seed", created_at=SEEDED_AT, updated_at=SEEDED_AT,
            payment_method_id=f"pm_demo_bank_{n}", payment_method_type="us_bank_account",
            card_brand="Stripe Test Bank", card_last4="6789", failure_message=reason)
        InvoicePayment.create(
            checkout=checkout, invoice=invoice, amount_minor=total, status=status,
            stripe_payment_intent_id=f"pi_demo_bank_{n}", failure_code=code,
            failure_message=reason, payment_method_type="us_bank_account",
            completed_at=SEEDED_AT if status == "failed" else None)
        amount = f"${total // 100:,}.{total % 100:02d}"
        text = _authorization_text(firm.name, name, number, amount)
        BankAuthorization.create(
            checkout=checkout, client=client, kind="WEB", accepted_at=SEEDED_AT,
            terminal="demo-seed", ip_address="127.0.0.1", user_agent="Paydesk kiosk demo-seed",
            text=text, text_sha256=hashlib.sha256(text.encode()).hexdigest(),
            confirmation="Confirmed on screen by the payer", last4="6789")
        AuditEntry.create(
            at=SEEDED_AT, actor=f"client:{name}", action="bank_debit.start",
            subject=f"invoice:{number}", result="processing", terminal="demo-seed",
            details=f"checkout:{checkout.id} amount_minor={total}")
        if status == "failed":
            AuditEntry.create(
                at=SEEDED_AT, actor="stripe", action="bank_debit.fail",
                subject=f"invoice:{number}", result="failed", terminal="demo-seed",
                details=f"checkout:{checkout.id} {code}: {reason}")
