"""The database side of a checkout after it is reserved: each state change of its invoice
payments, recording captured payments, closing failed checkouts, and the result values.

The engine (`billing.checkout`) and reconciliation (`billing.reconcile`) both move a
checkout forward only through these functions, so the rules live in one place: a captured
payment is recorded with the invoice's new paid amount, its audit entry and (once per
checkout) the confirmation email, in one transaction.
"""

from __future__ import annotations

from billing import emails
from billing.audit import audit
from billing.receipts import card_label, lock_receipt_numbers, next_payment_receipt_number
from billing.reservations import HOLDING_STATUSES
from billing.values import CheckoutResult, TransactionResult
from models.db import for_update, write_transaction
from models.firm import Case, Firm, Staff, utcnow
from models.invoices import Invoice
from models.money import Money
from models.payments import Checkout, InvoicePayment

# The checkout's phase says what was decided: before a decision the reservation may be
# authorized; "capturing" means every authorization succeeded and is to be captured;
# "cancelling" means at least one failed and the others are to be cancelled.
UNDECIDED = ("reserved", "authorizing", "verifying")
FINAL_CHECKOUT = ("succeeded", "failed", "cancelled")
FINAL_PAYMENT = ("captured", "recorded", "declined", "cancelled", "failed")


def descriptor_suffix(invoice_number: str) -> str:
    """The statement descriptor suffix naming the invoice (Stripe: at most 22 characters
    with the prefix, none of < > \\ ' " *)."""
    cleaned = "".join(c for c in invoice_number.upper() if c not in "<>\\'\"*").strip()
    return cleaned[:12] or "INVOICE"


def statement_descriptor(prefix: str, invoice_number: str) -> str:
    """What the bank statement shows for one invoice, e.g. "HARBORVALE* INV-1001"."""
    return f"{prefix}* {descriptor_suffix(invoice_number)}"[:22]


def payer_actor(checkout: Checkout) -> str:
    """The audit actor of a checkout, from the checkout itself (also after a restart)."""
    if checkout.payer_kind == "staff" and checkout.staff_id:
        staff = Staff.get_or_none(Staff.id == checkout.staff_id)
        name = staff.name if staff else checkout.staff_id
        return f"staff:{name} for client:{checkout.client_id}"
    if checkout.payer_kind == "client":
        return f"client:{checkout.payer_email}"
    return f"code:client:{checkout.client_id}"


def set_checkout_status(checkout_id: int, to: str, *, only_from: tuple[str, ...]) -> bool:
    """Compare-and-set the checkout's phase; False when another process moved it first.
    This is how the engine and reconciliation never decide differently for one checkout."""
    return bool(
        Checkout.update(status=to, updated_at=utcnow())
        .where((Checkout.id == checkout_id) & Checkout.status.in_(only_from))
        .execute()
    )


def update_payment(payment_id: int, **fields) -> bool:
    """Store what is known about one invoice payment (a PaymentIntent id as soon as known).

    A payment in a final state is never moved again: the engine and reconciliation may
    work on one checkout at once (on-demand reconciliation, a slow terminal), and a late
    "verifying" or "authorized" must not overwrite a recorded capture (which would count
    it again) or a release. A capture discovered later goes through `record_captures`.
    False when the payment was already final and nothing changed."""
    return bool(InvoicePayment.update(**fields).where(
        (InvoicePayment.id == payment_id) & InvoicePayment.status.not_in(FINAL_PAYMENT)
    ).execute())


def store_payment_intent(payment_id: int, payment_intent_id: str) -> None:
    """Keep the PaymentIntent id of a payment that has none yet (whatever its state)."""
    InvoicePayment.update(stripe_payment_intent_id=payment_intent_id).where(
        (InvoicePayment.id == payment_id) & InvoicePayment.stripe_payment_intent_id.is_null()
    ).execute()


def open_payments(checkout_id: int) -> list[InvoicePayment]:
    return list(
        InvoicePayment.select(InvoicePayment, Invoice)
        .join(Invoice)
        .where(InvoicePayment.checkout == checkout_id)
        .order_by(InvoicePayment.position, InvoicePayment.id)
    )


def record_captures(checkout_id: int, captured: dict[int, str | None], *, terminal: str) -> None:
    """Record captured payments (payment id -> charge id): each invoice's paid amount, the
    receipt number (the next one: only what was paid is numbered) and one audit entry per
    payment; when the checkout is then complete, its
    status and the confirmation email. One transaction; payments already recorded are
    skipped, so a replay records nothing twice."""
    if not captured:
        return
    with write_transaction():
        lock_receipt_numbers()  # before any row lock: every numbering takes it first
        checkout = for_update(Checkout.select().where(Checkout.id == checkout_id)).get()
        actor = payer_actor(checkout)
        for payment_id in sorted(captured):
            payment = for_update(
                InvoicePayment.select().where(InvoicePayment.id == payment_id)
            ).get()
            if payment.status == "captured":
                continue
            invoice = for_update(Invoice.select().where(Invoice.id == payment.invoice_id)).get()
            Invoice.update(paid_minor=Invoice.paid_minor + payment.amount_minor).where(
                Invoice.id == invoice.id
            ).execute()
            InvoicePayment.update(
                status="captured", stripe_charge_id=captured[payment_id] or None,
                receipt_number=next_payment_receipt_number(), completed_at=utcnow(),
            ).where(InvoicePayment.id == payment.id).execute()
            audit(actor=actor, action="payment.capture", subject=f"invoice:{invoice.number}",
                  result="captured", terminal=terminal,
                  details=(f"checkout:{checkout_id} invoice_payment:{payment.id} "
                           f"amount_minor={payment.amount_minor} {checkout.currency} "
                           f"payment_intent:{payment.stripe_payment_intent_id}"))
        _close_if_done(checkout, terminal=terminal)


def close_if_done(checkout_id: int, *, terminal: str) -> bool:
    """Give the checkout its final status once no invoice payment is open; True if final."""
    with write_transaction():
        checkout = for_update(Checkout.select().where(Checkout.id == checkout_id)).get()
        return _close_if_done(checkout, terminal=terminal)


def _close_if_done(checkout: Checkout, *, terminal: str) -> bool:
    if checkout.status in FINAL_CHECKOUT:
        return True
    statuses = [p.status for p in InvoicePayment.select(InvoicePayment.status)
                .where(InvoicePayment.checkout == checkout.id)]
    if any(s not in FINAL_PAYMENT for s in statuses):
        return False
    captured = statuses.count("captured")
    if captured == len(statuses):
        status = "succeeded"
    else:
        status = "failed"
        message = checkout.failure_message or "The payment did not go through."
        audit(actor=payer_actor(checkout), action="checkout.fail",
              subject=f"checkout:{checkout.id}", result="failed" if not captured else "partial",
              terminal=terminal, details=message)
    Checkout.update(status=status, updated_at=utcnow()).where(Checkout.id == checkout.id).execute()
    if captured:
        emails.queue_confirmation(checkout.id)
    return True


def fail_checkout(checkout_id: int, message: str, *, terminal: str,
                  declined: tuple[str | None, str | None, str] | None = None) -> None:
    """Release every payment not yet sent to Stripe and close the checkout as failed
    (nothing was charged); the message names the invoice and the reason. `declined`
    (code, decline code, message): the card was declined before any payment was sent, and
    each payment shows as declined, with the reason, rather than as cancelled."""
    with write_transaction():
        checkout = for_update(Checkout.select().where(Checkout.id == checkout_id)).get()
        if checkout.status in FINAL_CHECKOUT:
            return
        fields = {"status": "cancelled"}
        if declined is not None:
            code, decline_code, reason = declined
            fields = {"status": "declined", "failure_code": code, "decline_code": decline_code,
                      "failure_message": reason}
        InvoicePayment.update(completed_at=utcnow(), **fields).where(
            (InvoicePayment.checkout == checkout_id)
            & (InvoicePayment.status == "pending")
            & InvoicePayment.stripe_payment_intent_id.is_null()
        ).execute()
        Checkout.update(failure_message=message).where(Checkout.id == checkout_id).execute()
        checkout.failure_message = message
        _close_if_done(checkout, terminal=terminal)


def set_failure_message(checkout_id: int, message: str) -> None:
    Checkout.update(failure_message=message, updated_at=utcnow()).where(
        Checkout.id == checkout_id
    ).execute()


def result_of(checkout_id: int, *, message: str = "") -> CheckoutResult:
    """The checkout as the payer sees it, read from the database."""
    checkout = Checkout.select(Checkout, Firm).join(Firm).where(Checkout.id == checkout_id).get()
    rows = list(
        InvoicePayment.select(InvoicePayment, Invoice, Case)
        .join(Invoice).join(Case)
        .where(InvoicePayment.checkout == checkout_id)
        .order_by(InvoicePayment.position, InvoicePayment.id)
    )
    cur = checkout.currency
    transactions = tuple(
        TransactionResult(
            invoice_payment_id=p.id, invoice_id=p.invoice_id, invoice_number=p.invoice.number,
            case_title=p.invoice.case.title, amount=Money(p.amount_minor, cur), status=p.status,
            payment_intent_id=p.stripe_payment_intent_id, reference=p.receipt_number,
            card_brand=checkout.card_brand, card_last4=checkout.card_last4,
            statement_descriptor=statement_descriptor(
                checkout.firm.statement_descriptor_prefix, p.invoice.number),
            failure_message=p.failure_message, decline_code=p.decline_code,
        )
        for p in rows
    )
    if checkout.status in ("succeeded", "failed", "cancelled"):
        status = checkout.status
    else:
        status = "verifying"
    if status == "failed" and any(t.status == "captured" for t in transactions):
        status = "verifying" if any(t.status in HOLDING_STATUSES for t in transactions) else status
    if not message:
        if status == "succeeded":
            label = card_label(checkout.card_brand, checkout.card_last4) if checkout.card_last4 else "your card"
            message = (f"Paid: {len(transactions)} transaction"
                       f"{'s' if len(transactions) != 1 else ''} on {label}.")
        elif status == "verifying":
            message = ("We are confirming this payment with the card processor. Do not pay "
                       "again: it will show as paid or not paid shortly.")
        else:
            message = checkout.failure_message or "The payment did not go through."
    total = Money.sum_of((t.amount for t in transactions), cur)
    email_to = checkout.payer_email if status == "succeeded" else None
    if status == "succeeded" and email_to is None and checkout.payer_kind != "code":
        # A payment-code holder's receipt goes only to the address they gave (the client
        # is told their invoice was paid, without the payer's details: billing.emails).
        email_to = checkout.client.email
    return CheckoutResult(checkout_id=checkout.id, status=status, transactions=transactions,
                          total=total, email_to=email_to, message=message)
