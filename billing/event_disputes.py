"""Card disputes Stripe reports (charge.dispute.created / updated / closed).

A chargeback takes the disputed amount back from the firm at once: Paydesk takes it off
the invoice's paid amount, so the invoice can be paid again, and the desk shows it as
disputed until the dispute closes. An inquiry (Stripe's "warning_" statuses) takes no
money: the invoice is only flagged. Won (or funds reinstated, also after a loss): what
was taken is given back to the invoice, once; lost: it stays off. The firm is told by
email (outbox) when a dispute opens, not when it is first learnt already decided.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from billing.audit import audit
from billing.emails import STORE_POLICY, _new_message
from billing.event_common import IGNORED, EventContext, from_unix, payment_of
from models.db import for_update
from models.events import OPEN_DISPUTE_STATUSES, Dispute
from models.firm import Firm, utcnow
from models.invoices import Invoice
from models.money import Money, format_money
from models.payments import InvoicePayment
from models.records import OutboundEmail

# Stripe's dispute reasons, as the firm's staff would say them.
_REASONS = {
    "fraudulent": "the cardholder says they did not make the payment",
    "duplicate": "the cardholder says they were charged twice",
    "product_not_received": "the cardholder says the service was not provided",
    "product_unacceptable": "the cardholder says the service was not as described",
    "subscription_canceled": "the cardholder says they had cancelled",
    "credit_not_processed": "the cardholder says a refund was promised",
    "unrecognized": "the cardholder does not recognise the payment",
    "general": "no specific reason given",
}


def _is_inquiry(status: str) -> bool:
    return status.startswith("warning_")


def apply_dispute_created(dispute: Mapping[str, Any], ctx: EventContext, *,
                          notify: bool = True) -> str:
    """A dispute opened. `notify=False` when it is first learnt from a later event (closed,
    funds reinstated): the firm is not told a dispute opened that is already decided."""
    if not dispute.get("id"):
        return IGNORED
    if Dispute.get_or_none(Dispute.stripe_dispute_id == dispute["id"]):
        return "dispute.known"
    payment = payment_of(dispute, lock=True)
    if payment is None:
        return IGNORED
    # Looked for again under the payment's lock: another event about the same dispute
    # (created and funds_withdrawn at once) may have opened it meanwhile.
    if Dispute.get_or_none(Dispute.stripe_dispute_id == dispute["id"]):
        return "dispute.known"
    invoice = for_update(Invoice.select().where(Invoice.id == payment.invoice_id)).get()
    amount = int(dispute.get("amount") or 0)
    if amount <= 0:
        return IGNORED
    status = str(dispute.get("status") or "needs_response")
    # Never below zero or above what this payment still counts for (refunds came first).
    left = min(payment.amount_minor - payment.refunded_minor, invoice.paid_minor)
    withdrawn = 0 if _is_inquiry(status) else max(min(amount, left), 0)
    Dispute.create(
        invoice_payment=payment.id, stripe_dispute_id=dispute["id"], amount_minor=amount,
        withdrawn_minor=withdrawn, status=status[:30],
        reason=str(dispute.get("reason") or "general")[:60],
        opened_at=from_unix(dispute.get("created")) if dispute.get("created") else utcnow(),
    )
    if withdrawn:
        Invoice.update(paid_minor=Invoice.paid_minor - withdrawn).where(
            Invoice.id == invoice.id).execute()
    sent_to = _tell_the_firm(payment, invoice, dispute, amount, withdrawn) if notify else None
    short = amount - withdrawn if not _is_inquiry(status) else 0
    audit(actor="stripe", action="dispute.open", subject=f"invoice:{invoice.number}",
          result=("needs_review" if short else status)[:40], terminal=ctx.terminal,
          details=(f"invoice_payment:{payment.id} dispute:{dispute['id']} status={status} "
                   f"amount_minor={amount} withdrawn_minor={withdrawn} "
                   + (f"but only {left} was left on this payment (partly refunded?) "
                      if short else "")
                   + f"reason={dispute.get('reason')} notice={'queued' if sent_to else 'none'} "
                   f"event:{ctx.event_id}"))
    return "dispute.opened"


def apply_dispute_updated(dispute: Mapping[str, Any], ctx: EventContext) -> str:
    """A new status of an open dispute (evidence under review, say): kept for the desk."""
    row = Dispute.get_or_none(Dispute.stripe_dispute_id == str(dispute.get("id") or ""))
    if row is None:
        return apply_dispute_created(dispute, ctx)
    status = str(dispute.get("status") or row.status)
    if row.closed_at is not None or status == row.status or status not in OPEN_DISPUTE_STATUSES:
        return "dispute.known"
    Dispute.update(status=status[:30]).where(Dispute.id == row.id).execute()
    return "dispute.updated"


def _row_or_opened(dispute: Mapping[str, Any], ctx: EventContext) -> Dispute | None:
    """The dispute's row, locked; opened now (without the firm's notice) when its opening
    was never seen (it came before Paydesk listened). None: not Paydesk's."""
    dispute_id = str(dispute.get("id") or "")
    if Dispute.get_or_none(Dispute.stripe_dispute_id == dispute_id) is None:
        opened = {**dispute, "status": "needs_response"}  # a decided dispute was a chargeback
        if apply_dispute_created(opened, ctx, notify=False) == IGNORED:
            return None
    return for_update(Dispute.select().where(Dispute.stripe_dispute_id == dispute_id)).get()


def apply_dispute_closed(dispute: Mapping[str, Any], ctx: EventContext) -> str:
    dispute_id = str(dispute.get("id") or "")
    status = str(dispute.get("status") or "lost")
    if status.startswith("warning_"):
        # An inquiry closed without escalating: it took nothing and gives nothing back.
        row = Dispute.get_or_none(Dispute.stripe_dispute_id == dispute_id)
        if row is None:
            return IGNORED
        row = for_update(Dispute.select().where(Dispute.id == row.id)).get()
    else:
        row = _row_or_opened(dispute, ctx)
        if row is None:
            return IGNORED
    # Closed before: only a lost dispute later won counts (Stripe reverses a decision
    # rarely, but then the money comes back).
    if row.closed_at is not None and not (row.status == "lost" and status == "won"):
        return "dispute.known"
    payment = InvoicePayment.get_by_id(row.invoice_payment_id)
    invoice = for_update(Invoice.select().where(Invoice.id == payment.invoice_id)).get()
    if status == "lost" and not row.withdrawn_minor:
        # An inquiry lost becomes a chargeback: its money goes now, if not already gone.
        _withdraw(row, payment, invoice)
        row = Dispute.get_by_id(row.id)
    given_back = over = 0
    if status == "won":
        given_back, over = _give_back(row, invoice)
    Dispute.update(status=status[:30], closed_at=utcnow()).where(Dispute.id == row.id).execute()
    row = Dispute.get_by_id(row.id)
    audit(actor="stripe", action="dispute.close", subject=f"invoice:{invoice.number}",
          result=("needs_review" if over else status)[:40], terminal=ctx.terminal,
          details=(f"invoice_payment:{payment.id} dispute:{dispute_id} status={status} "
                   f"withdrawn_minor={row.withdrawn_minor} given_back_minor={given_back}"
                   + (f" overpaid_minor={over}" if over else "") + f" event:{ctx.event_id}"))
    return f"dispute.{'won' if status == 'won' else 'closed'}"


def apply_funds_reinstated(dispute: Mapping[str, Any], ctx: EventContext) -> str:
    """charge.dispute.funds_reinstated: the money a dispute took came back to the firm (it
    was won, or a loss was reversed). Given back to the invoice once per dispute, whichever
    of this and the dispute's close comes first."""
    row = _row_or_opened(dispute, ctx)
    if row is None:
        return IGNORED
    payment = InvoicePayment.get_by_id(row.invoice_payment_id)
    invoice = for_update(Invoice.select().where(Invoice.id == payment.invoice_id)).get()
    given_back, over = _give_back(row, invoice)
    if not given_back and not over:
        return "dispute.known"
    audit(actor="stripe", action="dispute.reinstate", subject=f"invoice:{invoice.number}",
          result="needs_review" if over else "reinstated", terminal=ctx.terminal,
          details=(f"invoice_payment:{payment.id} dispute:{row.stripe_dispute_id} "
                   f"given_back_minor={given_back}"
                   + (f" overpaid_minor={over}" if over else "") + f" event:{ctx.event_id}"))
    return "dispute.reinstated"


def _give_back(row: Dispute, invoice: Invoice) -> tuple[int, int]:
    """What the dispute withdrew and has not given back yet goes back on the invoice's paid
    amount, once. Paid again meanwhile: only up to the total; the rest (returned as the
    second number) is the client's credit, which a person settles."""
    owed = row.withdrawn_minor - row.reinstated_minor
    if owed <= 0:
        return 0, 0
    given_back = max(min(owed, invoice.total_minor - invoice.paid_minor), 0)
    if given_back:
        Invoice.update(paid_minor=Invoice.paid_minor + given_back).where(
            Invoice.id == invoice.id).execute()
    Dispute.update(reinstated_minor=row.withdrawn_minor).where(Dispute.id == row.id).execute()
    return given_back, owed - given_back


def apply_funds_withdrawn(dispute: Mapping[str, Any], ctx: EventContext) -> str:
    """charge.dispute.funds_withdrawn: for a chargeback opened as such the money was taken
    off when it opened; an inquiry that escalated has its money taken off now."""
    row = Dispute.get_or_none(Dispute.stripe_dispute_id == str(dispute.get("id") or ""))
    if row is None:
        return apply_dispute_created({**dispute, "status": "needs_response"}, ctx)
    row = for_update(Dispute.select().where(Dispute.id == row.id)).get()
    if row.withdrawn_minor or row.closed_at is not None:
        return "dispute.known"
    payment = InvoicePayment.get_by_id(row.invoice_payment_id)
    invoice = for_update(Invoice.select().where(Invoice.id == payment.invoice_id)).get()
    taken = _withdraw(row, payment, invoice)
    audit(actor="stripe", action="dispute.withdraw", subject=f"invoice:{invoice.number}",
          result="withdrawn", terminal=ctx.terminal,
          details=(f"invoice_payment:{payment.id} dispute:{row.stripe_dispute_id} "
                   f"withdrawn_minor={taken} event:{ctx.event_id}"))
    return "dispute.withdrawn"


def _withdraw(row: Dispute, payment: InvoicePayment, invoice: Invoice) -> int:
    """Take the dispute's amount off the invoice's paid amount (within what is paid)."""
    taken = min(row.amount_minor, payment.amount_minor - payment.refunded_minor,
                invoice.paid_minor)
    if taken > 0:
        Invoice.update(paid_minor=Invoice.paid_minor - taken).where(
            Invoice.id == invoice.id).execute()
        Dispute.update(withdrawn_minor=taken).where(Dispute.id == row.id).execute()
    return max(taken, 0)


def _tell_the_firm(payment: InvoicePayment, invoice: Invoice, dispute: Mapping[str, Any],
                   amount: int, withdrawn: int) -> str | None:
    """Queue the notice to the firm's email address (the front desk's inbox); None when
    the firm has set no address (the audit entry and the desk's flag still tell)."""
    firm = Firm.get_by_id(invoice.firm_id)
    to = (firm.email or "").strip()
    if not to:
        return None
    money = format_money(Money(amount, invoice.currency), firm.locale)
    kind = "An inquiry" if _is_inquiry(str(dispute.get("status") or "")) else "A dispute"
    reason = _REASONS.get(str(dispute.get("reason") or ""), str(dispute.get("reason") or ""))
    taken = (f"{format_money(Money(withdrawn, invoice.currency), firm.locale)} was taken back "
             "from the firm and the invoice can be paid again."
             if withdrawn else "No money was taken back yet.")
    due = (dispute.get("evidence_details") or {}).get("due_by")
    lines = [
        f"{kind} was opened on a card payment of invoice {invoice.number}.", "",
        f"Amount:    {money}",
        f"Reason:    {reason or 'not given'}",
        f"Receipt:   {payment.receipt_number or '-'}",
        f"Dispute:   {dispute.get('id')}",
        *([f"Answer by: {from_unix(due):%Y-%m-%d %H:%M} UTC"] if due else []),
        "", taken,
        "Answer it in the Stripe Dashboard; the invoice shows as disputed at the desk until "
        "it closes.",
    ]
    msg = _new_message(f"{firm.name}: card dispute on invoice {invoice.number} ({money})",
                       to, None, f"dispute-{dispute.get('id')}", firm)
    msg.set_content("\n".join(lines) + "\n")
    OutboundEmail.create(recipient=to, subject=str(msg["Subject"])[:300],
                         message=msg.as_string(policy=STORE_POLICY))
    return to
