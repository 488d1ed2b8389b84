"""Refunds, per invoice payment, by staff: stored key, then Stripe, then record.

Never above what was captured less what was refunded or is being refunded: the invoice
payment's row is locked while a refund is reserved, and refunds still open (pending,
verifying) count as held, so two terminals refunding at once cannot both get through.
"""

from __future__ import annotations

import datetime as dt

from billing.audit import audit
from billing.emails import queue_refund_email
from billing.errors import AmountRejected, BillingError, NotAllowed
from billing.keys import new_key
from billing.receipts import refund_receipt_number
from billing.replay import may_replay
from billing.values import RefundResult, StaffSession
from gateway import errors as gw
from gateway.values import RefundInfo
from models.db import for_update, write_transaction
from models.firm import Staff, utcnow
from models.invoices import Invoice
from models.money import AmountError, Money, check_amount
from models.payments import OFFLINE_METHODS, Checkout, InvoicePayment, Refund

OPEN_REFUND = ("pending", "verifying")
NEEDS_REVIEW = ("Not refunded, to be reviewed: the card processor has no record of this refund, "
                "and it is too old to be sent again safely. Check the payment, and refund it "
                "again if it is still due.")


def _held(payment_id: int) -> int:
    return sum(r.amount_minor for r in Refund.select(Refund.amount_minor).where(
        (Refund.invoice_payment == payment_id) & Refund.status.in_(OPEN_REFUND)))


def reserve_refund(staff: StaffSession, payment_id: int, amount: Money | None, reason: str,
                   *, terminal: str) -> int:
    """Check the refund and store it as pending with its idempotency key (one short write
    transaction, the invoice payment locked). An offline payment's refund is recorded at
    once. Returns the refund id; BillingError (nothing changed) when a rule is broken."""
    reason = (reason or "").strip()
    if not reason:
        raise BillingError("Give a reason for the refund.")
    with write_transaction():
        payment = for_update(
            InvoicePayment.select().where(InvoicePayment.id == payment_id)
        ).first()
        if payment is None:
            raise NotAllowed(f"There is no invoice payment {payment_id}.")
        checkout = Checkout.get_by_id(payment.checkout_id)
        invoice = Invoice.get_by_id(payment.invoice_id)
        if payment.status not in ("captured", "recorded"):
            raise NotAllowed(f"Only a completed payment can be refunded ({invoice.number} is "
                             f"{payment.status}).")
        left = Money(payment.amount_minor - payment.refunded_minor - _held(payment.id),
                     checkout.currency)
        if left.minor <= 0:
            raise AmountRejected(invoice.number, "nothing is left to refund on this payment")
        amount = left if amount is None else amount
        try:
            check_amount(amount, balance=left, locale=checkout.firm.locale)
        except AmountError as exc:
            text = str(exc).replace("the balance of", "what is left to refund,")
            raise AmountRejected(invoice.number, text) from None
        refund = Refund.create(
            invoice_payment=payment, amount_minor=amount.minor, reason=reason,
            staff=staff.staff_id, idempotency_key=new_key("refund"), terminal=terminal,
        )
        if checkout.method in OFFLINE_METHODS:
            _record(refund.id, None, terminal=terminal)
    return refund.id


def _actor(refund: Refund) -> str:
    if refund.staff_id is None:  # made in the Stripe Dashboard, learnt from its event
        return "stripe"
    staff = Staff.get_or_none(Staff.id == refund.staff_id)
    return f"staff:{staff.name if staff else refund.staff_id}"


def _record(refund_id: int, stripe_refund_id: str | None, *, terminal: str) -> None:
    """The refund succeeded: the payment's refunded amount, the invoice's paid amount, the
    receipt number, the refund email (outbox) and one audit entry, in one transaction (a
    replay records nothing)."""
    with write_transaction():
        refund = for_update(Refund.select().where(Refund.id == refund_id)).get()
        if refund.status in ("succeeded", "failed"):
            return
        payment = for_update(
            InvoicePayment.select().where(InvoicePayment.id == refund.invoice_payment_id)
        ).get()
        invoice = for_update(Invoice.select().where(Invoice.id == payment.invoice_id)).get()
        InvoicePayment.update(
            refunded_minor=InvoicePayment.refunded_minor + refund.amount_minor
        ).where(InvoicePayment.id == payment.id).execute()
        Invoice.update(paid_minor=Invoice.paid_minor - refund.amount_minor).where(
            Invoice.id == invoice.id).execute()
        Refund.update(status="succeeded", stripe_refund_id=stripe_refund_id,
                      receipt_number=refund_receipt_number(refund.id),
                      completed_at=utcnow()).where(Refund.id == refund.id).execute()
        # The refund confirmation is queued with the refund's record: both or neither.
        queue_refund_email(refund.id)
        audit(actor=_actor(refund), action="refund", subject=f"invoice:{invoice.number}",
              result="succeeded", terminal=terminal,
              details=(f"invoice_payment:{payment.id} refund:{refund.id} "
                       f"amount_minor={refund.amount_minor} reason={refund.reason}"))


# Refunds made in Stripe (learnt from its events) are recorded the same way.
record_refund = _record


def _fail(refund_id: int, message: str, *, terminal: str, result: str = "failed") -> None:
    with write_transaction():
        refund = for_update(Refund.select().where(Refund.id == refund_id)).get()
        if refund.status in ("succeeded", "failed"):
            return
        Refund.update(status="failed", failure_message=message, completed_at=utcnow()).where(
            Refund.id == refund.id).execute()
        number = InvoicePayment.get_by_id(refund.invoice_payment_id).invoice.number
        audit(actor=_actor(refund), action="refund", subject=f"invoice:{number}",
              result=result, terminal=terminal,
              details=f"invoice_payment:{refund.invoice_payment_id} refund:{refund.id} {message}")


def send_refund(gateway, refund_id: int, *, terminal: str) -> bool:
    """Send (or replay, with the stored key) the refund to Stripe and record what came
    back. True when the refund reached a final state."""
    refund = Refund.get_by_id(refund_id)
    if refund.status in ("succeeded", "failed"):
        return True
    payment = InvoicePayment.get_by_id(refund.invoice_payment_id)
    try:
        if refund.stripe_refund_id:
            info = gateway.refund_status(refund.stripe_refund_id)
        else:
            info = gateway.refund(
                payment.stripe_payment_intent_id, amount=refund.amount_minor,
                idempotency_key=refund.idempotency_key, metadata=refund_metadata(refund))
    except gw.OutcomeUnknown:
        _verifying(refund_id)
        return False
    except gw.GatewayError as exc:
        _fail(refund_id, exc.message, terminal=terminal)
        return True
    return _settle(refund_id, info, terminal=terminal)


def refund_metadata(refund: Refund) -> dict[str, str]:
    """What Paydesk stores on a Stripe refund, and how reconciliation finds it again."""
    return {"paydesk_refund": str(refund.id),
            "paydesk_invoice_payment": str(refund.invoice_payment_id)}


def _verifying(refund_id: int) -> None:
    # Only an open refund becomes "verifying": another terminal (or reconciliation) may
    # have recorded it meanwhile, and a recorded refund must stay recorded, or a later
    # replay would count it twice.
    Refund.update(status="verifying").where(
        (Refund.id == refund_id) & Refund.status.in_(OPEN_REFUND)).execute()


def settle_refund(gateway, refund_id: int, *, terminal: str, now: dt.datetime) -> bool:
    """Reconciliation of one open refund; True when it reached a final state.

    Stripe is read back first: the PaymentIntent's refunds, matched by the metadata
    Paydesk stored. A refund found is recorded as it is. With none found, the stored request
    is replayed with its key only while Stripe still keeps that key (`billing.replay`);
    past that window it is never sent again: it is closed as not refunded, with a message
    and an audit entry asking a staff member to review it (and refund again if still due)."""
    refund = Refund.get_by_id(refund_id)
    if refund.status not in OPEN_REFUND:
        return True
    if refund.stripe_refund_id:  # its id is known: its status is read
        return send_refund(gateway, refund_id, terminal=terminal)
    payment = InvoicePayment.get_by_id(refund.invoice_payment_id)
    try:
        found = [r for r in gateway.refunds_of_payment_intent(
            payment.stripe_payment_intent_id, metadata=refund_metadata(refund))
            if r.amount == refund.amount_minor]
    except gw.GatewayError:
        _verifying(refund_id)  # unread: nothing is known yet
        return False
    if found:
        # Should there ever be more than one, the one that moved money counts.
        found.sort(key=lambda r: r.status != "succeeded")
        Refund.update(stripe_refund_id=found[0].id).where(
            (Refund.id == refund_id) & Refund.stripe_refund_id.is_null()).execute()
        return _settle(refund_id, found[0], terminal=terminal)
    if may_replay(refund.created_at, now):
        return send_refund(gateway, refund_id, terminal=terminal)
    _fail(refund_id, NEEDS_REVIEW, terminal=terminal, result="needs_review")
    return True


def _settle(refund_id: int, info: RefundInfo, *, terminal: str) -> bool:
    """Store what Stripe says of the refund; True when that is final."""
    if info.status == "succeeded":
        _record(refund_id, info.id, terminal=terminal)
        return True
    if info.status in ("failed", "canceled"):
        _fail(refund_id, "The card's bank refused the refund.", terminal=terminal)
        return True
    Refund.update(status="verifying", stripe_refund_id=info.id).where(
        (Refund.id == refund_id) & Refund.status.in_(OPEN_REFUND)).execute()
    return False


def result_of(refund_id: int) -> RefundResult:
    refund = Refund.get_by_id(refund_id)
    payment = InvoicePayment.get_by_id(refund.invoice_payment_id)
    currency = payment.checkout.currency
    messages = {
        "succeeded": "Refunded.",
        "failed": refund.failure_message or "The refund did not go through.",
    }
    return RefundResult(
        refund_id=refund.id, invoice_payment_id=payment.id, invoice_number=payment.invoice.number,
        amount=Money(refund.amount_minor, currency), status=refund.status,
        reference=refund.receipt_number,
        message=messages.get(refund.status, "We are confirming this refund with the card "
                                            "processor; it will show as done shortly."),
    )


def refund(gateway, staff: StaffSession, payment_id: int, amount: Money | None, reason: str,
           *, terminal: str) -> RefundResult:
    refund_id = reserve_refund(staff, payment_id, amount, reason, terminal=terminal)
    send_refund(gateway, refund_id, terminal=terminal)
    return result_of(refund_id)


def refund_checkout(gateway, staff: StaffSession, checkout_id: int, reason: str, *,
                    terminal: str) -> list[RefundResult]:
    """One refund per invoice payment of the checkout, each of what is left on it."""
    if Checkout.get_or_none(Checkout.id == checkout_id) is None:
        raise NotAllowed(f"There is no checkout {checkout_id}.")
    payments = list(InvoicePayment.select().where(
        (InvoicePayment.checkout == checkout_id)
        & InvoicePayment.status.in_(("captured", "recorded"))
        & (InvoicePayment.refunded_minor < InvoicePayment.amount_minor)
    ).order_by(InvoicePayment.position))
    if not payments:
        raise NotAllowed(f"Checkout {checkout_id} has nothing left to refund.")
    results = []
    for payment in payments:
        try:
            results.append(refund(gateway, staff, payment.id, None, reason, terminal=terminal))
        except AmountRejected:
            continue  # another terminal refunded it meanwhile
    return results
