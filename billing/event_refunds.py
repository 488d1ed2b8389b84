"""Refunds Stripe reports (refund.created, refund.updated, refund.failed, charge.refunded).

A refund Paydesk made itself is recorded by the refund flow and reconciliation: it is
recognised by its Stripe id, the metadata Paydesk puts on it, or the idempotency key of
its request. Its events only fill the gaps (it succeeded while Paydesk still waited to
hear: recorded here the same way) or raise a needs_review entry when Stripe and Paydesk
disagree (recorded refunded, then failed at the bank). Any other refund of a Paydesk payment was made outside
Paydesk (the Stripe Dashboard): once Stripe says it succeeded it is recorded as a refund
of origin "stripe", through the same path as a desk refund (payment and invoice amounts,
refund receipt number, the client's email, audit entry).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace
from typing import Any

from billing import refunds
from billing.audit import audit
from billing.event_common import IGNORED, EventContext, payment_of, stripe_id
from models.invoices import Invoice
from models.payments import Refund
from models.records import AuditEntry

# Stripe's refund reasons, in the words the receipt and the email show.
_REASONS = {
    "duplicate": "duplicate payment",
    "fraudulent": "fraudulent payment",
    "requested_by_customer": "requested by the client",
}
# Stripe's reason for the refund it makes itself when a hold lapses uncaptured.
UNCAPTURED = "expired_uncaptured_charge"
HOLD_RELEASED = "refund.uncaptured"


def _paydesk_refund(refund: Mapping[str, Any], ctx: EventContext) -> Refund | None:
    """The Paydesk refund this Stripe refund is, if it is one. The request's idempotency key
    is only trusted for the event's own refund (`ctx.own_object`): a charge.refunded caused
    by a desk refund lists the charge's other refunds too."""
    found = Refund.get_or_none(Refund.stripe_refund_id == refund["id"])
    if found is not None:
        return found
    ours = (refund.get("metadata") or {}).get("paydesk_refund")
    if ours and str(ours).isdigit():
        found = Refund.get_or_none(Refund.id == int(ours))
        if found is not None:
            return found
    key = ctx.request_key
    if key and ctx.own_object:
        return Refund.get_or_none(Refund.idempotency_key == key)
    return None


def _reason(refund: Mapping[str, Any]) -> str:
    why = _REASONS.get(str(refund.get("reason") or ""))
    return f"Refunded in Stripe ({why})" if why else "Refunded in Stripe"


def apply_refund(refund: Mapping[str, Any], ctx: EventContext) -> str:
    """One Stripe refund object, as a refund.* event or a charge's refund list carries it."""
    if not refund.get("id") or refund.get("object", "refund") != "refund":
        return IGNORED
    if refund.get("reason") == UNCAPTURED:
        return HOLD_RELEASED  # a hold that lapsed: no money was taken, none goes back
    known = _paydesk_refund(refund, ctx)
    if known is not None:
        return _paydesk_refund_reported(known, refund, ctx)
    if refund.get("status") != "succeeded":
        return "refund.pending"  # recorded once Stripe says it went through
    payment = payment_of(refund, lock=True)
    if payment is None:
        return IGNORED
    if payment.status != "captured":
        # Releasing a hold (Paydesk cancelling it) shows in Stripe as a refund of the
        # uncaptured charge: no money was taken, so there is nothing to give back.
        return HOLD_RELEASED
    # Looked for again now that the payment is locked: a second event about the same
    # refund (refund.created and charge.refunded at once) may have recorded it meanwhile.
    known = _paydesk_refund(refund, ctx)
    if known is not None:
        return _paydesk_refund_reported(known, refund, ctx)
    invoice = Invoice.get_by_id(payment.invoice_id)
    amount = int(refund.get("amount") or 0)
    room = min(payment.amount_minor - payment.refunded_minor, invoice.paid_minor)
    if amount <= 0 or amount > room:
        # More than Paydesk counts as paid on this payment (say, a dispute took it
        # already): nothing is guessed; a person looks at it.
        audit(actor="stripe", action="refund", subject=f"invoice:{invoice.number}",
              result="needs_review", terminal=ctx.terminal,
              details=(f"invoice_payment:{payment.id} stripe_refund:{refund['id']} "
                       f"amount_minor={amount} but only {room} is left to refund here; "
                       f"event:{ctx.event_id}"))
        return "refund.review"
    row = Refund.create(
        invoice_payment=payment.id, amount_minor=amount, reason=_reason(refund), staff=None,
        idempotency_key=f"stripe:{refund['id']}"[:80], stripe_refund_id=refund["id"],
        terminal=ctx.terminal, origin="stripe",
    )
    # The desk refund's own recording: amounts, receipt number, email and audit entry.
    refunds.record_refund(row.id, refund["id"], terminal=ctx.terminal)
    return "refund"


def _paydesk_refund_reported(known: Refund, refund: Mapping[str, Any],
                             ctx: EventContext) -> str:
    """What Stripe now says of a refund Paydesk already has (made at the desk, or made in
    Stripe and recorded from an earlier event)."""
    status = refund.get("status")
    if status in ("failed", "canceled") and known.status == "succeeded":
        return _review(known, ctx, "failed at the bank after it was recorded as refunded")
    if status != "succeeded":
        return "refund.known"
    if known.status in refunds.OPEN_REFUND:
        # The desk's refund went through while Paydesk still waited to hear (the terminal
        # stopped, or the answer was lost): recorded now, the way the desk records it.
        refunds.record_refund(known.id, refund["id"], terminal=ctx.terminal)
        return "refund.recorded"
    if known.status == "failed":
        return _review(known, ctx, "succeeded in Stripe but was closed here as not refunded")
    return "refund.known"


def _review(known: Refund, ctx: EventContext, what: str) -> str:
    """Stripe and Paydesk disagree about a refund: nothing is reversed on its own (whether
    the client is owed money is a person's call); one needs_review audit entry says so."""
    payment = known.invoice_payment
    said = f"refund:{known.id} stripe_refund:{known.stripe_refund_id or '-'} {what}"
    if AuditEntry.select().where((AuditEntry.action == "refund")
                                 & AuditEntry.details.contains(said)).exists():
        return "refund.review"  # refund.updated and refund.failed tell the same thing
    audit(actor="stripe", action="refund", subject=f"invoice:{payment.invoice.number}",
          result="needs_review", terminal=ctx.terminal,
          details=f"invoice_payment:{payment.id} {said}; event:{ctx.event_id}")
    return "refund.review"


def apply_refund_event(obj: Mapping[str, Any], ctx: EventContext) -> str:
    """refund.created / refund.updated (and refund.failed): the object is the refund."""
    return apply_refund(obj, ctx)


def apply_charge_refunded(charge: Mapping[str, Any], ctx: EventContext) -> str:
    """charge.refunded: on the API version Paydesk pins the charge lists no refunds (each
    refund comes as its own refund.* event, which records it). Older versions list them:
    those are applied too, so an account still on one loses nothing."""
    listed = charge.get("refunds")
    data = listed.get("data") if isinstance(listed, Mapping) else None
    if not data:
        return IGNORED
    outcomes = []
    listed_ctx = replace(ctx, own_object=False)
    for refund in data:
        if isinstance(refund, Mapping):
            refund = {**refund, "charge": stripe_id(refund.get("charge")) or charge.get("id"),
                      "payment_intent": refund.get("payment_intent")
                      or charge.get("payment_intent")}
            outcomes.append(apply_refund(refund, listed_ctx))
    return "refund" if "refund" in outcomes else (outcomes[0] if outcomes else IGNORED)
