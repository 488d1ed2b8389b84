"""What the screens show of bank debits still settling: each invoice's "bank payment
pending" with its amount, and the firm's switch for bank debits."""

from __future__ import annotations

import datetime as dt

import peewee as pw

from billing.audit import audit
from billing.bank_values import BankDebitLine, BankFailure, BankNotes, WaitingVerification
from billing.staff import require_admin
from billing.values import StaffSession
from models.bank_debits import BankVerification
from models.db import write_transaction
from models.firm import Firm
from models.invoices import Invoice
from models.money import Money
from models.payments import Checkout, InvoicePayment

BANK_PAYMENT_PENDING = "bank payment pending"
# A debit sent and settling, or waiting for the account's verification: both hold.
PENDING = ("processing", "authorizing", "pending")
# A failed debit is shown on its invoice this long, unless the invoice is paid or another
# payment of it starts first.
RECENT = dt.timedelta(days=90)
# Failed at the bank or by Stripe ("failed"), or never sent because the debit it waited on
# failed ("cancelled", with why).
ENDED = ("failed", "cancelled")


def pending_bank_payments(client_id: int) -> list[BankDebitLine]:
    """The client's bank debits not yet settled or failed, oldest first: each held against
    its invoice (counted in the balance's "in progress"), not paid. One query."""
    return list(bank_notes(client_id, failed_since=None).pending)


def bank_notes(client_id: int, *, failed_since: dt.datetime | None) -> BankNotes:
    """The client's bank debits as the payment page tells them, in one query: pending
    (oldest first), waiting for a verification (grouped by checkout, with its expiry and
    tries left), and the failures since `failed_since` (None: none) on invoices still
    unpaid with no newer attempt."""
    newer = InvoicePayment.alias("newer")
    later_attempt = newer.select(newer.id).where(
        (newer.invoice == InvoicePayment.invoice) & (newer.id > InvoicePayment.id))
    wanted = InvoicePayment.status.in_(PENDING)
    if failed_since is not None:
        wanted |= (InvoicePayment.status.in_(ENDED)
                   & InvoicePayment.failure_message.is_null(False)
                   & (InvoicePayment.completed_at >= failed_since)
                   & (Invoice.paid_minor < Invoice.total_minor)
                   & ~pw.fn.EXISTS(later_attempt))
    rows = (InvoicePayment.select(InvoicePayment, Invoice, Checkout, BankVerification)
            .join(Invoice).switch(InvoicePayment).join(Checkout)
            .join(BankVerification, pw.JOIN.LEFT_OUTER,
                  on=(BankVerification.checkout == Checkout.id), attr="verification")
            .where((Checkout.client == client_id)
                   & (InvoicePayment.payment_method_type == "us_bank_account") & wanted)
            .order_by(Checkout.created_at, InvoicePayment.position, InvoicePayment.id))
    pending: list[BankDebitLine] = []
    failed: list[BankFailure] = []
    waiting: dict[int, list[BankDebitLine]] = {}
    checkouts: dict[int, Checkout] = {}
    for p in rows:
        amount = Money(p.amount_minor, p.checkout.currency)
        if p.status in ENDED:
            failed.append(BankFailure(
                invoice_id=p.invoice_id, invoice_number=p.invoice.number, amount=amount,
                failed_on=(p.completed_at or p.checkout.updated_at).date(),
                reason=_reason(p.failure_message)))
            continue
        line = BankDebitLine(
            invoice_payment_id=p.id, invoice_number=p.invoice.number, amount=amount,
            status="processing" if p.status == "processing" else "waiting",
            payment_intent_id=p.stripe_payment_intent_id, message=BANK_PAYMENT_PENDING,
            checkout_id=p.checkout_id)
        pending.append(line)
        verification = getattr(p.checkout, "verification", None)
        if line.status == "waiting" and verification is not None \
                and verification.id is not None and verification.status == "waiting":
            waiting.setdefault(p.checkout_id, []).append(line)
            checkouts[p.checkout_id] = p.checkout
    return BankNotes(
        pending=tuple(pending), failed=tuple(failed),
        waiting=tuple(WaitingVerification(
            checkout_id=cid, last4=checkouts[cid].card_last4 or "",
            debits=tuple(lines),
            expires_on=checkouts[cid].verification.expires_at.date(),
            attempts_left=checkouts[cid].verification.attempts_left,
            microdeposit_type=checkouts[cid].verification.microdeposit_type)
            for cid, lines in waiting.items()))


def _reason(message: str | None) -> str:
    """A stored failure message as the end of a sentence: "the bank account is closed"."""
    text = (message or "the bank returned the debit").strip().rstrip(".")
    return text[:1].lower() + text[1:] if text[:2] != text[:2].upper() else text


def set_bank_debits(staff: StaffSession, enabled: bool, *, terminal: str) -> bool:
    """Switch bank debits on or off for the firm (administrators); audited. The new value."""
    require_admin(staff)
    firm = Firm.select().order_by(Firm.id).get()
    with write_transaction():
        Firm.update(bank_debits_enabled=bool(enabled)).where(Firm.id == firm.id).execute()
        audit(actor=f"staff:{staff.name}", action="firm.switches", subject=f"firm:{firm.id}",
              result="changed", terminal=terminal, details=f"bank_debits_enabled={bool(enabled)}")
    return bool(enabled)
