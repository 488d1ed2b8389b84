"""Reconciliation: every checkout and refund that is not finished is driven to a final
state, by replaying its stored requests with their stored keys and reading Stripe back.

- A checkout whose decision was never made (reserved, authorizing) is cancelled: the payer
  was never told it was paid, so every authorization is released.
- A checkout decided for capture ("capturing") has every capture replayed; each captured
  PaymentIntent is recorded.
- A checkout decided for cancelling has every cancel replayed. A PaymentIntent that turns
  out captured is always recorded, never lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from billing import ledger
from billing.checkout import CheckoutRun, Outcome, authorize_request, outcome_of_error
from billing.refunds import OPEN_REFUND, send_refund
from billing.values import ReconcileReport
from gateway import errors as gw
from models.firm import utcnow
from models.payments import Checkout, InvoicePayment, Refund

INTERRUPTED = "The payment was interrupted before it finished. Nothing was charged."


def _discover(gateway, run: CheckoutRun, checkout: Checkout, p: InvoicePayment) -> Outcome:
    """What became of an authorization whose answer was never stored: replay it with its
    stored key (Stripe answers with the original result, or does it now), else search."""
    if p.status == "pending":
        return Outcome(p.id, "cancelled")  # never sent
    try:
        pi = gateway.authorize(**authorize_request(checkout, p))
    except gw.OutcomeUnknown as exc:
        try:
            found = gateway.find_payment_intents(
                metadata_key="paydesk_invoice_payment", metadata_value=str(p.id))
        except gw.GatewayError:
            return outcome_of_error(p.id, exc)
        if not found:
            return outcome_of_error(p.id, exc)
        pi = found[0]
    except Exception as exc:  # noqa: BLE001
        return outcome_of_error(p.id, exc)
    status = {"requires_capture": "authorized", "succeeded": "captured",
              "canceled": "cancelled"}.get(pi.status, "failed")
    return Outcome(p.id, status, pi.id, charge_id=pi.latest_charge)


def settle_checkout(gateway, checkout_id: int, *, terminal: str) -> bool:
    """Drive one checkout towards a final state; True when it got there."""
    checkout = Checkout.get_by_id(checkout_id)
    if checkout.status in ledger.FINAL_CHECKOUT:
        return True
    run = CheckoutRun(gateway, terminal=terminal)
    if checkout.status in ledger.UNDECIDED:
        if not checkout.failure_message:
            ledger.set_failure_message(checkout_id, INTERRUPTED)
        ledger.set_checkout_status(checkout_id, "cancelling", only_from=ledger.UNDECIDED)
        checkout = Checkout.get_by_id(checkout_id)
    if checkout.status == "capturing":
        _capture_rest(run, checkout)
    elif checkout.status == "cancelling":
        _cancel_rest(gateway, run, checkout)
    return ledger.close_if_done(checkout_id, terminal=terminal)


def _capture_rest(run: CheckoutRun, checkout: Checkout) -> None:
    captured: dict[int, str | None] = {}
    for p in ledger.open_payments(checkout.id):
        if p.status in ledger.FINAL_PAYMENT or not p.stripe_payment_intent_id:
            continue
        outcome = run.capture_one(p)
        if outcome.status == "captured":
            captured[p.id] = outcome.charge_id
        elif outcome.status in ("cancelled", "failed", "declined"):
            # The hold is gone (expired or cancelled): this invoice was not paid.
            ledger.update_payment(p.id, status="failed", completed_at=utcnow(),
                                  failure_message=outcome.message
                                  or "The card authorization expired before capture.")
        else:
            ledger.update_payment(p.id, status="verifying")
    ledger.record_captures(checkout.id, captured, terminal=run.terminal)


def _cancel_rest(gateway, run: CheckoutRun, checkout: Checkout) -> None:
    for p in ledger.open_payments(checkout.id):
        if p.status in ("captured", "recorded", "cancelled"):
            continue
        if p.status in ("declined", "failed") and not p.stripe_payment_intent_id:
            continue
        if not p.stripe_payment_intent_id:
            found = _discover(gateway, run, checkout, p)
            if found.status == "verifying":
                ledger.update_payment(p.id, status="verifying")
                continue
            if found.payment_intent_id:
                ledger.store_payment_intent(p.id, found.payment_intent_id)
            if found.status in ("declined", "failed") or not found.payment_intent_id:
                ledger.update_payment(
                    p.id, status="declined" if found.status == "declined" else "cancelled",
                    failure_message=found.message, decline_code=found.decline_code,
                    completed_at=utcnow())
                if not found.payment_intent_id:
                    continue
            p = InvoicePayment.get_by_id(p.id)
        outcome = run.cancel_one(p)
        if outcome.status == "captured":
            ledger.record_captures(checkout.id, {p.id: outcome.charge_id}, terminal=run.terminal)
        elif p.status in ("declined", "failed"):
            continue
        elif outcome.status in ("cancelled", "failed", "declined"):
            ledger.update_payment(p.id, status="cancelled", completed_at=utcnow())
        else:
            ledger.update_payment(p.id, status="verifying" if p.status != "cancelling"
                                  else "cancelling")


def reconcile(gateway, *, terminal: str, older_than: dt.timedelta | None = None,
              clock: Callable[[], dt.datetime] = utcnow) -> ReconcileReport:
    """Settle every unfinished card checkout and refund. With `older_than`, only those
    untouched for that long (so a start-up does not race a payment running on another
    terminal). Returns how many were settled and how many are still unknown."""
    cutoff = clock() - older_than if older_than is not None else None
    checkouts = Checkout.select(Checkout.id).where(
        Checkout.status.not_in(ledger.FINAL_CHECKOUT) & Checkout.method.startswith("card_"))
    if cutoff is not None:
        checkouts = checkouts.where(Checkout.updated_at <= cutoff)
    settled = unknown = refunds_settled = 0
    notes: list[str] = []
    for (checkout_id,) in checkouts.order_by(Checkout.id).tuples():
        try:
            done = settle_checkout(gateway, checkout_id, terminal=terminal)
        except Exception as exc:  # noqa: BLE001 - one checkout never stops the others
            done = False
            notes.append(f"checkout {checkout_id}: {type(exc).__name__}")
        if done:
            settled += 1
        else:
            unknown += 1
    refunds = Refund.select(Refund.id).where(Refund.status.in_(OPEN_REFUND))
    if cutoff is not None:
        refunds = refunds.where(Refund.created_at <= cutoff)
    for (refund_id,) in refunds.order_by(Refund.id).tuples():
        try:
            done = send_refund(gateway, refund_id, terminal=terminal)
        except Exception as exc:  # noqa: BLE001
            done = False
            notes.append(f"refund {refund_id}: {type(exc).__name__}")
        if done:
            refunds_settled += 1
        else:
            unknown += 1
    return ReconcileReport(checkouts_settled=settled, refunds_settled=refunds_settled,
                           still_unknown=unknown, notes=tuple(notes))


def open_count() -> int:
    """How many card invoice payments are not final (for reports and tests)."""
    return InvoicePayment.select().where(
        InvoicePayment.status.not_in(ledger.FINAL_PAYMENT)).count()
