"""Bank debits settle days after the checkout, by Stripe's events: registered in
`billing.events.DELAYED_SETTLEMENT["us_bank_account"]`, applied once each by the events
machinery, inside its transaction.

- payment_intent.succeeded: the debit is recorded as paid (the invoice's paid amount, the
  next receipt number, the audit entry, the client's email).
- payment_intent.payment_failed: the hold is released (the invoice is payable again), the
  client and the front desk are told which invoice failed and why (the ACH return reason in
  words), and the audit log records it. No receipt: nothing was paid.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billing import bank_emails
from billing.audit import audit
from billing.bank_waiting import (
    RELEASED,
    close_verification,
    close_verified,
    status_after_failure,
)
from billing.event_common import (
    IGNORED,
    EventContext,
    payment_by_metadata,
    payment_of,
    stripe_id,
)
from billing.receipts import lock_receipt_numbers, next_payment_receipt_number
from gateway.values import ACH_RETURN_CODES
from models.db import for_update
from models.firm import utcnow
from models.invoices import Invoice
from models.payments import Checkout, InvoicePayment

# A debit Stripe may still settle or fail: sent and processing, or waiting for the
# account's verification (a verification that runs out of attempts fails the debit).
OPEN_DEBIT = ("processing", "authorizing")
NOT_FINAL = ("pending", "authorizing", "processing")
NOT_STARTED = "This debit was not started: the bank account could not be verified."

REASONS = {
    "insufficient_funds": "the account did not have enough funds",
    "account_closed": "the bank account is closed",
    "no_account": "the bank could not find that account",
    "invalid_account_number": "the account number is not valid",
    "debit_not_authorized": "the account holder told their bank the debit was not authorized",
    "invalid_currency": "the bank account cannot take payments in this currency",
    "payment_method_microdeposit_verification_attempts_exceeded":
        "the bank account could not be verified (too many wrong tries)",
    "payment_method_microdeposit_verification_timeout":
        "the bank account was not verified within 10 days",
}


def reason_in_words(code: str | None, message: str | None = None) -> str:
    """Why a debit failed, for people: "the bank could not find that account (ACH return
    R03)"; Stripe's own message (or a plain sentence) for a code not listed."""
    words = REASONS.get(code or "") or (message or "the bank returned the debit").rstrip(".")
    ach = ACH_RETURN_CODES.get(code or "")
    return f"{words} (ACH return {ach})" if ach else words


def close_if_settled(checkout_id: int, *, terminal: str) -> bool:
    """Give a bank checkout its final status once none of its debits is open: "succeeded"
    when every debit was paid, else "failed" (the debits that settled stay paid). In the
    caller's transaction. True when final."""
    checkout = for_update(Checkout.select().where(Checkout.id == checkout_id)).get()
    if checkout.status in ("succeeded", "failed", "cancelled"):
        return True
    statuses = [p.status for p in InvoicePayment.select(InvoicePayment.status)
                .where(InvoicePayment.checkout == checkout_id)]
    if any(s in NOT_FINAL for s in statuses):
        return False
    status = "succeeded" if all(s == "captured" for s in statuses) else "failed"
    Checkout.update(status=status, updated_at=utcnow()).where(
        Checkout.id == checkout_id).execute()
    return True


def _details(payment: InvoicePayment, ctx: EventContext) -> str:
    return (f"checkout:{payment.checkout_id} invoice_payment:{payment.id} "
            f"amount_minor={payment.amount_minor} "
            f"payment_intent:{payment.stripe_payment_intent_id} event:{ctx.event_id}")


def debit_of(pi: Mapping[str, Any]) -> InvoicePayment | None:
    """The open bank debit a PaymentIntent settles, locked: by its stored id or, when the
    answer that carried the id was lost, by the metadata Paydesk put on it."""
    payment = payment_of(pi, lock=True) or payment_by_metadata(pi, lock=True)
    if payment is None or payment.payment_method_type != "us_bank_account" \
            or payment.status not in OPEN_DEBIT:
        return None  # not Paydesk's, or recorded already
    return payment


def settle_debit(payment: InvoicePayment, payment_intent_id: str, charge_id: str | None, *,
                 terminal: str, actor: str, details: str) -> bool:
    """Record one debit as paid (in the caller's transaction, after lock_receipt_numbers):
    the invoice's paid amount, the receipt number, the audit entry, the client's email.
    False when it was already final."""
    row = for_update(InvoicePayment.select().where(InvoicePayment.id == payment.id)).get()
    if row.status not in OPEN_DEBIT:
        return False  # settled or failed already: no receipt number is spent
    invoice = for_update(Invoice.select().where(Invoice.id == payment.invoice_id)).get()
    InvoicePayment.update(
        status="captured", stripe_payment_intent_id=payment_intent_id,
        stripe_charge_id=charge_id, receipt_number=next_payment_receipt_number(),
        completed_at=utcnow(),
    ).where(InvoicePayment.id == payment.id).execute()
    Invoice.update(paid_minor=Invoice.paid_minor + payment.amount_minor).where(
        Invoice.id == invoice.id).execute()
    audit(actor=actor, action="bank_debit.settle", subject=f"invoice:{invoice.number}",
          result="captured", terminal=terminal, details=details)
    # Paid, so verified (perhaps outside Paydesk): its wait, if it had one, is over.
    close_verified(payment.checkout_id, payment_intent_id)
    bank_emails.queue_settled(InvoicePayment.get_by_id(payment.id))
    close_if_settled(payment.checkout_id, terminal=terminal)
    return True


def apply_debit_succeeded(pi: Mapping[str, Any], ctx: EventContext) -> str:
    lock_receipt_numbers()  # before any row lock, as every numbering does
    payment = debit_of(pi)
    if payment is None:
        return IGNORED
    payment_intent_id = str(pi.get("id"))
    details = _details(payment, ctx).replace("payment_intent:None",
                                             f"payment_intent:{payment_intent_id}")
    if not settle_debit(payment, payment_intent_id, stripe_id(pi.get("latest_charge")),
                        terminal=ctx.terminal, actor="stripe", details=details):
        return IGNORED
    return "bank_debit.settled"


def fail_debit(payment: InvoicePayment, code: str | None, reason: str, *, terminal: str,
               actor: str, details: str) -> bool:
    """Release one debit that failed (in the caller's transaction): its hold, the emails
    to the client and staff, the audit entry. False when it was already final."""
    done = InvoicePayment.update(
        status="failed", failure_code=(code or None) and code[:60],
        decline_code=ACH_RETURN_CODES.get(code or ""), failure_message=reason,
        completed_at=utcnow(),
    ).where((InvoicePayment.id == payment.id)
            & InvoicePayment.status.in_(NOT_FINAL)).execute()
    if not done:
        return False
    invoice = Invoice.get_by_id(payment.invoice_id)
    audit(actor=actor, action="bank_debit.fail", subject=f"invoice:{invoice.number}",
          result="failed", terminal=terminal, details=f"{details} reason: {reason}")
    bank_emails.queue_failed(InvoicePayment.get_by_id(payment.id), reason)
    close_if_settled(payment.checkout_id, terminal=terminal)
    return True


def release_unsent(checkout_id: int, message: str, *, terminal: str) -> None:
    """Release every debit of the checkout not yet sent (nothing was debited for them), in
    the caller's transaction, and close the checkout if nothing else is open."""
    InvoicePayment.update(status="cancelled", failure_message=NOT_STARTED,
                          completed_at=utcnow()).where(
        (InvoicePayment.checkout == checkout_id) & (InvoicePayment.status == "pending")
    ).execute()
    Checkout.update(failure_message=message).where(Checkout.id == checkout_id).execute()
    close_if_settled(checkout_id, terminal=terminal)


def fail_and_release(payment: InvoicePayment, code: str | None, reason: str, *,
                     terminal: str, actor: str, details: str) -> bool:
    """The debit the account's verification held failed (refused, out of tries, past
    Stripe's 10 days, canceled): in the caller's ONE transaction, it fails (the emails to
    the client and staff, the audit entry), the debits meant to go under its mandate are
    released (never sent: nothing debited, their invoices payable again) and the
    verification is closed. True when the debit failed now (False: it had failed already,
    and what waited on it is released all the same, or it had settled: nothing changes)."""
    done = fail_debit(payment, code, reason, terminal=terminal, actor=actor, details=details)
    if not done and InvoicePayment.get_by_id(payment.id).status not in ("failed", "cancelled"):
        return False  # settled: the others go under its mandate
    release_unsent(payment.checkout_id, RELEASED.get(code or "")
                   or f"Nothing else was debited: {reason}.", terminal=terminal)
    close_verification(payment.checkout_id, status_after_failure(code))
    return done


def fail_open_debit(payment: InvoicePayment, code: str | None, reason: str, *,
                    terminal: str, actor: str, details: str) -> bool:
    """Fail one debit; when it was the one waiting for the account's verification (not
    yet processing), the debits meant to go under its mandate can never be sent: they are
    released too, so that their invoices are payable again."""
    if payment.status == "authorizing":
        return fail_and_release(payment, code, reason, terminal=terminal, actor=actor,
                                details=details)
    return fail_debit(payment, code, reason, terminal=terminal, actor=actor, details=details)


def apply_debit_failed(pi: Mapping[str, Any], ctx: EventContext) -> str:
    payment = debit_of(pi)
    if payment is None:
        return IGNORED
    error = pi.get("last_payment_error") or {}
    code = error.get("code") if isinstance(error, Mapping) else None
    message = error.get("message") if isinstance(error, Mapping) else None
    reason = reason_in_words(code, message)
    if not fail_open_debit(payment, code, reason, terminal=ctx.terminal, actor="stripe",
                           details=_details(payment, ctx)):
        return IGNORED
    return "bank_debit.failed"


def apply_debit_canceled(pi: Mapping[str, Any], ctx: EventContext) -> str:
    """A bank debit cancelled at Stripe (in the Dashboard, or left unverified): nothing
    was debited, its hold and those of the debits waiting on it are released."""
    payment = debit_of(pi)
    if payment is None:
        return IGNORED
    reason = "the debit was cancelled before it was made"
    if not fail_open_debit(payment, pi.get("cancellation_reason"), reason,
                           terminal=ctx.terminal, actor="stripe",
                           details=_details(payment, ctx)):
        return IGNORED
    return "bank_debit.cancelled"


def apply_bank_debit_outcome(pi: Mapping[str, Any], ctx: EventContext) -> str:
    """The DELAYED_SETTLEMENT handler: a debit settled or failed, by the event's type."""
    kind = ctx.event.get("type")
    if kind == "payment_intent.succeeded":
        return apply_debit_succeeded(pi, ctx)
    if kind == "payment_intent.payment_failed":
        return apply_debit_failed(pi, ctx)
    return IGNORED
