"""Applying what Stripe reports after a checkout ended: one event, once.

`apply_event` is the one way in, for the poller (`billing.event_sync`) and for webhooks
(`billing.webhook_server`) alike. In one transaction it inserts the event's id into
`stripe_event` first, then applies the event's effects with their audit entries (and,
for the poller, moves its cursor). The id is unique: when the poller and a webhook bring
the same event at the same moment, the second insert fails (on PostgreSQL it waits for
the first transaction, then fails) and that apply changes nothing. Should an effect fail,
everything rolls back, the event id too, so it is applied on the next delivery. Its
failures are counted apart (`stripe_event_failure`); after MAX_TRIES the event is set
aside (outcome "failed", needs_review audit entry) so that one bad event does not stop
every event after it.

Events Paydesk does not handle, and objects that are not Paydesk's (another integration
on the same Stripe account), are recorded as seen ("ignored") and change nothing else.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import peewee as pw

from billing import ledger
from billing.audit import audit
from billing.bank_settlement import apply_bank_debit_outcome, apply_debit_canceled
from billing.event_common import (
    EVENTS_TERMINAL,
    IGNORED,
    EventContext,
    Handler,
    from_unix,
    payment_of,
)
from billing.event_disputes import (
    apply_dispute_closed,
    apply_dispute_created,
    apply_dispute_updated,
    apply_funds_reinstated,
    apply_funds_withdrawn,
)
from billing.event_refunds import apply_charge_refunded, apply_refund_event
from models.db import database, for_update, write_transaction
from models.events import EVENT_SOURCES, StripeEvent, StripeEventCursor, StripeEventFailure
from models.firm import utcnow
from models.payments import Checkout

LAPSED = "The card authorization expired before capture."
# An event whose applying failed this many times is set aside (outcome FAILED).
MAX_TRIES = 3
FAILED = "failed"
RELEASED_IN_STRIPE = "The card authorization was released in Stripe."


@dataclass(frozen=True)
class CursorKey:
    """Whose events the poller reads: a Stripe account ("self": the key's own) and mode."""

    account: str = "self"
    livemode: bool = False


@dataclass(frozen=True)
class Applied:
    event_id: str
    applied: bool  # False: already applied before (by the poller or a webhook)
    outcome: str  # what it did, as stored in StripeEvent.outcome


def apply_payment_intent_canceled(pi: Mapping[str, Any], ctx: EventContext) -> str:
    """A hold Paydesk still counts as authorized was cancelled at Stripe: most often it
    lapsed (Stripe cancels an uncaptured card authorization after about 7 days). Its
    invoice payment is released, so the invoice's balance is free again; a checkout
    deciding to capture it would have failed on it anyway. A bank debit cancelled at
    Stripe goes to billing.bank_settlement."""
    if "us_bank_account" in (pi.get("payment_method_types") or ()):
        return apply_debit_canceled(pi, ctx)
    payment = payment_of(pi, lock=True)
    if payment is None or payment.status != "authorized":
        return IGNORED  # not Paydesk's, or the engine released or captured it itself
    checkout = Checkout.get_by_id(payment.checkout_id)
    if checkout.status == "cancelling" or (
            payment.cancel_key and ctx.request_key == payment.cancel_key):
        # Paydesk's own cancel (the checkout releasing its holds), seen before it recorded
        # it: the checkout engine records it in its own words.
        return IGNORED
    reason = pi.get("cancellation_reason")
    message = LAPSED if reason in (None, "automatic", "abandoned") else RELEASED_IN_STRIPE
    status = "failed" if checkout.status == "capturing" else "cancelled"
    if not ledger.update_payment(payment.id, status=status, failure_message=message,
                                 completed_at=utcnow()):
        return IGNORED
    audit(actor="stripe", action="payment.release", subject=f"invoice:{payment.invoice.number}",
          result="lapsed" if message == LAPSED else "released", terminal=ctx.terminal,
          details=(f"checkout:{checkout.id} invoice_payment:{payment.id} "
                   f"payment_intent:{payment.stripe_payment_intent_id} "
                   f"cancellation_reason={reason} event:{ctx.event_id}"))
    ledger.close_if_done(checkout.id, terminal=ctx.terminal)
    return "payment.released"


# Payments that settle days after the checkout (bank debits, a later feature) are settled
# by their payment_intent.succeeded / payment_failed events: their handler goes here, under
# the PaymentIntent's payment method type ("us_bank_account", "sepa_debit", ...). A card
# PaymentIntent is settled by the checkout engine when it is captured, so its events change
# nothing.
DELAYED_SETTLEMENT: dict[str, Handler] = {
    "us_bank_account": apply_bank_debit_outcome,
}


def apply_payment_intent_outcome(pi: Mapping[str, Any], ctx: EventContext) -> str:
    for kind in pi.get("payment_method_types") or ():
        handler = DELAYED_SETTLEMENT.get(kind)
        if handler is not None:
            return handler(pi, ctx)
    return IGNORED


HANDLERS: dict[str, Handler] = {
    "charge.refunded": apply_charge_refunded,
    "refund.created": apply_refund_event,
    "refund.updated": apply_refund_event,
    "refund.failed": apply_refund_event,
    "charge.dispute.created": apply_dispute_created,
    "charge.dispute.updated": apply_dispute_updated,
    "charge.dispute.closed": apply_dispute_closed,
    "charge.dispute.funds_withdrawn": apply_funds_withdrawn,
    "charge.dispute.funds_reinstated": apply_funds_reinstated,
    "payment_intent.canceled": apply_payment_intent_canceled,
    "payment_intent.succeeded": apply_payment_intent_outcome,
    "payment_intent.payment_failed": apply_payment_intent_outcome,
}


def apply_event(event: Mapping[str, Any], *, source: str = "webhook",
                terminal: str = EVENTS_TERMINAL, cursor: CursorKey | None = None) -> Applied:
    """Apply one Stripe event (a dict shaped as Stripe's Event object), once.

    `cursor`: the poller's position, moved to this event in the same transaction (also
    when the event was already applied by a webhook). Raises ValueError for a body that
    is not an event; any other error rolls the whole event back and is raised, until the
    event has failed MAX_TRIES times: then it is recorded with outcome "failed" and a
    needs_review audit entry, and the events after it are applied as usual."""
    if source not in EVENT_SOURCES:
        raise ValueError(f"source must be one of {EVENT_SOURCES}")
    event_id, kind = event.get("id"), event.get("type")
    if not isinstance(event_id, str) or not event_id or not isinstance(kind, str):
        raise ValueError("not a Stripe event: it has no id or type")
    try:
        return _apply(event, event_id, kind, source, terminal, cursor)
    except (pw.OperationalError, pw.InterfaceError):
        raise  # the database itself failed (locked, gone): not this event's fault
    except Exception as exc:
        try:
            set_aside = _count_failure(event, event_id, kind, source, terminal, cursor, exc)
        except Exception:  # noqa: BLE001 - the event's own error is the one to report
            set_aside = False
        if not set_aside:
            raise
        return Applied(event_id, True, FAILED)


def _apply(event: Mapping[str, Any], event_id: str, kind: str, source: str, terminal: str,
           cursor: CursorKey | None) -> Applied:
    data = event.get("data")
    obj = data.get("object") if isinstance(data, Mapping) else None
    with write_transaction():
        try:
            with database.atomic():  # a savepoint: a duplicate leaves the transaction usable
                row = StripeEvent.create(
                    stripe_event_id=event_id[:255], type=kind[:100],
                    created=from_unix(event.get("created")),
                    livemode=bool(event.get("livemode")), source=source, outcome="applying")
        except pw.IntegrityError:
            row = None
        if row is not None:
            handler = HANDLERS.get(kind)
            ctx = EventContext(event, terminal)
            outcome = handler(obj, ctx) if handler and isinstance(obj, Mapping) else IGNORED
            StripeEvent.update(outcome=outcome[:40]).where(StripeEvent.id == row.id).execute()
        else:
            outcome = "duplicate"
        if cursor is not None:
            move_cursor(cursor, event_id)
    return Applied(event_id, row is not None, outcome)


def _count_failure(event: Mapping[str, Any], event_id: str, kind: str, source: str,
                   terminal: str, cursor: CursorKey | None, exc: Exception) -> bool:
    """One more failed try of this event, counted in a transaction of its own (the
    failed one rolled back). True when it has now failed MAX_TRIES times and is set aside:
    recorded as applied with outcome "failed", with a needs_review audit entry (nothing of
    its effects was kept), and the cursor moved past it."""
    error = f"{type(exc).__name__}: {exc}"[:200]
    with write_transaction():
        found = for_update(StripeEventFailure.select().where(
            StripeEventFailure.stripe_event_id == event_id[:255])).first()
        tries = (found.tries if found else 0) + 1
        if found is None:
            StripeEventFailure.create(stripe_event_id=event_id[:255], tries=tries, error=error)
        else:
            StripeEventFailure.update(tries=tries, error=error, updated_at=utcnow()).where(
                StripeEventFailure.id == found.id).execute()
        if tries < MAX_TRIES:
            return False
        if StripeEvent.get_or_none(StripeEvent.stripe_event_id == event_id[:255]) is None:
            StripeEvent.create(stripe_event_id=event_id[:255], type=kind[:100],
                               created=from_unix(event.get("created")),
                               livemode=bool(event.get("livemode")), source=source,
                               outcome=FAILED)
            audit(actor="stripe", action="event", subject=f"stripe_event:{event_id}"[:120],
                  result="needs_review", terminal=terminal,
                  details=(f"type={kind} failed {tries} times and was set aside without "
                           f"changing anything; last error {type(exc).__name__}. Check what "
                           "it reports in the Stripe Dashboard."))
        if cursor is not None:
            move_cursor(cursor, event_id)
    return True


def stored_cursor(key: CursorKey) -> str | None:
    row = StripeEventCursor.get_or_none((StripeEventCursor.account == key.account)
                                        & (StripeEventCursor.livemode == key.livemode))
    return row.last_event_id if row is not None else None


def move_cursor(key: CursorKey, event_id: str) -> None:
    """Set the poller's position (inside the caller's transaction)."""
    where = ((StripeEventCursor.account == key.account)
             & (StripeEventCursor.livemode == key.livemode))
    if not StripeEventCursor.update(last_event_id=event_id, updated_at=utcnow()).where(
            where).execute():
        StripeEventCursor.create(account=key.account, livemode=key.livemode,
                                 last_event_id=event_id)
