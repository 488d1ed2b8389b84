"""Reconciliation: every checkout and refund that is not finished is driven to a final
state, by reading Stripe back and replaying stored requests with their stored keys.

- A checkout whose decision was never made (reserved, authorizing) is cancelled: the payer
  was never told it was paid, so every authorization is released.
- A checkout decided for capture ("capturing") has every capture replayed; each captured
  PaymentIntent is recorded.
- A checkout decided for cancelling has every cancel replayed. A PaymentIntent that turns
  out captured is always recorded, never lost.

A create call (an authorization, a refund) whose answer was lost is never replayed blind:
Stripe is read back first, by the metadata Paydesk stores, and the request is sent again
with its key only when nothing is found and Stripe still keeps the key (`billing.replay`).
Past that window an authorization found nowhere was not made; a refund found nowhere is
closed for a staff member to review. A capture or cancel replayed after the window runs
anew at Stripe, which is safe: a PaymentIntent is captured or cancelled once, a second try
is refused, and the PaymentIntent is then read back and recorded as it is.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from peewee import ModelSelect

from billing import lease, ledger, phone_pages
from billing.bank_recovery import left_to_reconcile, settle_bank_checkout, unfinished_bank_checkouts
from billing.checkout import CheckoutRun
from billing.outcomes import Outcome
from billing.refunds import NEEDS_REVIEW, OPEN_REFUND, settle_refund
from billing.stripe_requests import authorization_metadata
from billing.values import ReconcileReport
from gateway import errors as gw
from gateway.values import PaymentIntentInfo
from models.firm import utcnow
from models.payments import Checkout, InvoicePayment, Refund
from models.queries import status_literally_in

INTERRUPTED = "The payment was interrupted before it finished. Nothing was charged."
NOT_MADE = ("The card processor has no record of this authorization, and it is too old to be "
            "sent again safely: it was not made. Nothing was charged.")
NO_TAP = "The payment on the card reader did not finish. Nothing was charged."
# Clocks disagree: PaymentIntents are looked for from this long before the checkout began.
CLOCK_MARGIN = dt.timedelta(hours=1)
_STATUS = {"requires_capture": "authorized", "succeeded": "captured", "canceled": "cancelled"}


def _unix(moment: dt.datetime) -> int:
    return int(moment.replace(tzinfo=dt.UTC).timestamp())


def _at_stripe(gateway, checkout: Checkout, p: InvoicePayment) -> list[PaymentIntentInfo]:
    """The PaymentIntents Stripe holds for this invoice payment's authorization: the
    customer's, listed since the checkout began (consistent at once), then a search by the
    stored metadata (which can lag by a minute, and is the only way without a customer).
    Raises a GatewayError when Stripe could not be read."""
    stored = authorization_metadata(checkout, p)
    wanted = {k: stored[k] for k in ("paydesk_checkout", "paydesk_invoice_payment")}
    since = checkout.created_at - CLOCK_MARGIN

    def same(pi: PaymentIntentInfo) -> bool:
        # `paydesk_request` is missing only on PaymentIntents made before Paydesk stored it.
        return (pi.metadata.get("paydesk_request", stored["paydesk_request"])
                == stored["paydesk_request"]
                and all(pi.metadata.get(k) == v for k, v in wanted.items())
                and pi.amount == p.amount_minor and pi.created >= _unix(since)
                and pi.currency.lower() == checkout.currency.lower())

    found: list[PaymentIntentInfo] = []
    if checkout.stripe_customer_id:
        found = [pi for pi in gateway.payment_intents_of_customer(
            checkout.stripe_customer_id, metadata=wanted, created_since=_unix(since))
            if same(pi)]
    if not found:
        try:
            found = [pi for pi in gateway.find_payment_intents(
                metadata_key="paydesk_invoice_payment",
                metadata_value=wanted["paydesk_invoice_payment"]) if same(pi)]
        except gw.GatewayError:
            if not checkout.stripe_customer_id:
                raise
            # The list above is complete; search only covers a lost customer.
    # The one that holds or took money first, should there ever be more than one.
    order = {"succeeded": 0, "requires_capture": 1}
    return sorted(found, key=lambda pi: order.get(pi.status, 2))


def _discover(gateway, checkout: Checkout, p: InvoicePayment, now: dt.datetime) -> Outcome:
    """What became of an authorization whose answer was never stored, read back from Stripe:
    the PaymentIntent found decides. Nothing found means it was not made, and it is never
    sent again (a refund, unlike a hold, is replayed inside Stripe's key window: see
    `billing.refunds.settle_refund`)."""
    if p.status == "pending":
        return Outcome(p.id, "cancelled")  # never sent
    try:
        found = _at_stripe(gateway, checkout, p)
    except gw.GatewayError as exc:
        return Outcome(p.id, "verifying", message=exc.message)  # unread: nothing is known
    if found:
        pi = found[0]
        _release_extra_holds(gateway, p, found[1:])
    elif not checkout.payment_method_id:
        # Tapped on the reader: nothing to send again without the card, and none was made.
        return Outcome(p.id, "cancelled", message=NO_TAP)
    else:
        # Read back and found nowhere, Stripe never made it (the customer's list is complete
        # at once). It is not sent again, inside Stripe's key window or past it: a replay
        # would only put a new hold on the payer's card, to be released again.
        return Outcome(p.id, "cancelled", message=NOT_MADE)
    return Outcome(p.id, _STATUS.get(pi.status, "failed"), pi.id, charge_id=pi.latest_charge)


def _release_extra_holds(gateway, p: InvoicePayment, extra: list[PaymentIntentInfo]) -> None:
    """Release any further hold found for the same invoice payment (only the first is
    kept); each cancel's key derives from the stored authorization key."""
    for pi in extra:
        if pi.status != "requires_capture":
            continue
        try:
            gateway.cancel(pi.id, idempotency_key=f"{p.authorize_key}:release-extra:{pi.id}")
        except gw.GatewayError:
            pass  # it lapses on its own; the next reconciliation tries again


def settle_checkout(gateway, checkout_id: int, *, terminal: str,
                    clock: Callable[[], dt.datetime] = utcnow) -> bool:
    """Drive one checkout towards a final state; True when it got there. A checkout whose
    payment is still running (its owner holds the lease) is left to it: False."""
    checkout = Checkout.get_by_id(checkout_id)
    if checkout.status in ledger.FINAL_CHECKOUT:
        return True
    if not lease.take_over(checkout_id, clock()):
        return False
    try:
        return _settle(gateway, checkout_id, terminal=terminal, clock=clock)
    finally:
        lease.release(checkout_id, lease.this_process())


def _settle(gateway, checkout_id: int, *, terminal: str,
            clock: Callable[[], dt.datetime]) -> bool:
    checkout = Checkout.get_by_id(checkout_id)
    run = CheckoutRun(gateway, terminal=terminal)
    if checkout.status in ledger.UNDECIDED:
        if not checkout.failure_message:
            ledger.set_failure_message(checkout_id, INTERRUPTED)
        ledger.set_checkout_status(checkout_id, "cancelling", only_from=ledger.UNDECIDED)
        checkout = Checkout.get_by_id(checkout_id)
    if checkout.status == "capturing":
        _capture_rest(run, checkout)
    elif checkout.status == "cancelling":
        _cancel_rest(gateway, run, checkout, clock())
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


def _cancel_rest(gateway, run: CheckoutRun, checkout: Checkout, now: dt.datetime) -> None:
    for p in ledger.open_payments(checkout.id):
        if p.status in ("captured", "recorded", "cancelled"):
            continue
        if p.status in ("declined", "failed") and not p.stripe_payment_intent_id:
            continue
        if not p.stripe_payment_intent_id:
            found = _discover(gateway, checkout, p, now)
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


def unfinished_checkouts(cutoff: dt.datetime | None) -> ModelSelect:
    """The card checkouts not final (untouched since `cutoff`, if given), by id. Read
    through the partial index checkout_open: at start-up, whatever the firm's history."""
    query = Checkout.select(Checkout.id, Checkout.terminal, Checkout.lease_owner,
                            Checkout.lease_until).where(
        status_literally_in(Checkout.status, ledger.FINAL_CHECKOUT, negate=True)
        & Checkout.method.startswith("card_"))
    if cutoff is not None:
        query = query.where(Checkout.updated_at <= cutoff)
    return query.order_by(Checkout.id)


def unfinished_refunds(cutoff: dt.datetime | None) -> ModelSelect:
    """The ids of the refunds not final (made before `cutoff`, if given), by id, read
    through the partial index refund_open."""
    query = Refund.select(Refund.id).where(status_literally_in(Refund.status, OPEN_REFUND))
    if cutoff is not None:
        query = query.where(Refund.created_at <= cutoff)
    return query.order_by(Refund.id)


def reconcile(gateway, *, terminal: str, older_than: dt.timedelta | None = None,
              clock: Callable[[], dt.datetime] = utcnow,
              stop: Callable[[], bool] | None = None) -> ReconcileReport:
    """Settle every unfinished card checkout, bank checkout (billing.bank_recovery) and
    refund whose owner is gone: a payment
    still running on another terminal (its lease held) is left to it, and said so in the
    notes. With `older_than`, only those untouched for that long as well. Returns how many
    were settled and how many are still unknown. Once `stop()` is true (Paydesk stopping
    while it reconciles at start-up) the rest is left to the next run."""
    stopping = stop or (lambda: False)
    cutoff = clock() - older_than if older_than is not None else None
    checkouts = unfinished_checkouts(cutoff)
    settled = unknown = refunds_settled = 0
    notes: list[str] = []
    now = clock()
    for checkout in checkouts:
        if stopping():
            break
        checkout_id = checkout.id
        if not lease.owner_gone(checkout, now):
            notes.append(f"checkout {checkout_id}: still being paid at {checkout.terminal}; "
                         "left to it")
            continue
        try:
            done = settle_checkout(gateway, checkout_id, terminal=terminal, clock=clock)
        except Exception as exc:  # noqa: BLE001 - one checkout never stops the others
            done = False
            notes.append(f"checkout {checkout_id}: {type(exc).__name__}")
        if done:
            settled += 1
        else:
            unknown += 1
    for checkout in unfinished_bank_checkouts(cutoff):
        if stopping():
            break
        if left_to_reconcile(checkout.id) == 0:
            continue  # every debit is with Stripe: its events settle them
        if not lease.owner_gone(checkout, now):
            notes.append(f"checkout {checkout.id}: still being paid at {checkout.terminal}; "
                         "left to it")
            continue
        try:
            bank_done = settle_bank_checkout(gateway, checkout.id, terminal=terminal,
                                             clock=clock)
        except Exception as exc:  # noqa: BLE001 - one checkout never stops the others
            bank_done = False
            notes.append(f"checkout {checkout.id}: {type(exc).__name__}")
        if bank_done:
            settled += 1
        elif bank_done is False:
            unknown += 1
    for (refund_id,) in unfinished_refunds(cutoff).tuples():
        if stopping():
            break
        try:
            done = settle_refund(gateway, refund_id, terminal=terminal, now=clock())
        except Exception as exc:  # noqa: BLE001
            done = False
            notes.append(f"refund {refund_id}: {type(exc).__name__}")
        if done:
            refunds_settled += 1
            if Refund.get_by_id(refund_id).failure_message == NEEDS_REVIEW:
                notes.append(f"refund {refund_id}: {NEEDS_REVIEW}")
        else:
            unknown += 1
    if not stopping():
        # Card pages for payers' phones past their time that no terminal watches: closed
        # at Stripe, and a card saved on one anyway taken off the customer.
        try:
            notes += phone_pages.sweep(gateway, clock=clock, stop=stopping)[1]
        except Exception as exc:  # noqa: BLE001 - never stops the rest of reconciliation
            notes.append(f"phone pages: {type(exc).__name__}")
    return ReconcileReport(checkouts_settled=settled, refunds_settled=refunds_settled,
                           still_unknown=unknown, notes=tuple(notes))


def open_count() -> int:
    """How many card invoice payments are not final (for reports and tests)."""
    return InvoicePayment.select().where(
        InvoicePayment.status.not_in(ledger.FINAL_PAYMENT)).count()
