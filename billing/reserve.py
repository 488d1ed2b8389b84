"""The first step of a checkout: check every rule and hold the invoices' amounts
(DESIGN.md section 4)."""

from __future__ import annotations

from collections.abc import Mapping

from billing import lease
from billing.errors import (
    AmountRejected,
    BalancesChanged,
    BillingError,
    NotAllowed,
    PaymentsDisabled,
)
from billing.keys import new_key
from billing.reservations import balance_change, check_reservable, held_minor
from billing.values import BalanceChange, Payer
from models.db import for_update, write_transaction
from models.firm import Client, utcnow
from models.invoices import Invoice
from models.money import Money
from models.payments import Checkout, InvoicePayment
from models.queries import payable_invoices


def reserve(payer: Payer, amounts: Mapping[int, Money], *, method: str, terminal: str,
            today) -> int:
    """Check every rule and write the checkout and its invoice payments as pending, with
    their idempotency keys, in one short write transaction. Returns the checkout id;
    raises a BillingError (and changes nothing) when a rule is broken."""
    if not amounts:
        raise BillingError("Choose at least one invoice to pay.")
    client = Client.get_or_none(Client.id == payer.client_id)
    if client is None:
        raise NotAllowed("There is no such client.")
    firm = client.firm
    card = method.startswith("card_")
    if card and not firm.online_payments_enabled:
        raise PaymentsDisabled(f"{firm.name} does not take online payments at the moment.")
    if card and len(amounts) > 1 and not firm.multi_invoice_payments_enabled:
        raise PaymentsDisabled("Pay one invoice at a time: paying several invoices at once "
                               "is switched off for this firm.")
    if payer.kind == "code":
        allowed = {payer.code_invoice_id}
    else:
        allowed = {i.invoice_id for i in payable_invoices(client.id, today=today)}
    ids = sorted(amounts)
    for invoice_id in ids:
        if invoice_id not in allowed:
            row = Invoice.get_or_none(Invoice.id == invoice_id)
            if row is None or row.client_id != client.id:
                raise NotAllowed("That invoice cannot be paid here.")
            if (payer.kind != "code" and row.status == "issued"
                    and row.paid_minor >= row.total_minor):
                continue  # paid meanwhile: reported below with every other balance change
            raise NotAllowed("That invoice cannot be paid here." if payer.kind == "code"
                             else f"{row.number} cannot be paid here.")
    with write_transaction():
        # Lock in id order, so two checkouts over the same invoices cannot deadlock.
        invoices = {
            i.id: i
            for i in for_update(Invoice.select().where(Invoice.id.in_(ids)).order_by(Invoice.id))
        }
        held = held_minor(ids)
        changes: list[BalanceChange] = []
        reasons: list[str] = []
        for invoice_id in ids:
            invoice = invoices[invoice_id]
            if invoice.status != "issued" or invoice.client_id != client.id:
                raise NotAllowed(f"{invoice.number} cannot be paid here.")
            try:
                check_reservable(invoice, amounts[invoice_id], held.get(invoice_id, 0),
                                 card=card, locale=firm.locale)
            except AmountRejected as exc:
                # A balance that changed since the payer chose (paid, or being paid,
                # elsewhere) is collected, so that every such invoice is named at once.
                change = balance_change(invoice, amounts[invoice_id], held.get(invoice_id, 0))
                if change is None:
                    raise
                changes.append(change)
                reasons.append("nothing is left to pay: it is paid"
                               if change.nothing_left and not change.in_progress.minor
                               else exc.reason)
        if changes:
            raise BalancesChanged(tuple(changes), tuple(reasons))
        checkout = Checkout.create(
            firm=firm, client=client, payer_kind=payer.kind,
            staff=payer.staff.staff_id if payer.staff else None, payer_email=payer.email,
            method=method, currency=firm.currency,
            total_minor=sum(amounts[i].minor for i in ids),
            customer_key=new_key("customer") if card else None,
            payment_method_key=new_key("card") if card else None,
            terminal=terminal, status="reserved" if card else "succeeded",
            # This process drives the payment: reconciliation leaves it alone (billing.lease).
            **(lease.claim(utcnow()) if card else {}),
        )
        for position, invoice_id in enumerate(ids):
            InvoicePayment.create(
                checkout=checkout, invoice=invoice_id, position=position,
                amount_minor=amounts[invoice_id].minor,
                authorize_key=new_key("authorize") if card else None,
                capture_key=new_key("capture") if card else None,
                cancel_key=new_key("cancel") if card else None,
            )
    return checkout.id


def balance_changes(payer: Payer, amounts: Mapping[int, Money]) -> tuple[BalanceChange, ...]:
    """Read only, the check `reserve` makes under its lock: the invoices among `amounts`
    (the payer's own) whose balance no longer covers the amount chosen for them."""
    ids = sorted(amounts)
    if payer.kind == "code":
        ids = [i for i in ids if i == payer.code_invoice_id]
    rows = {i.id: i for i in Invoice.select().where(
        Invoice.id.in_(ids) & (Invoice.client == payer.client_id)
        & (Invoice.status == "issued"))}
    held = held_minor(rows)
    changes = (balance_change(rows[i], amounts[i], held.get(i, 0)) for i in ids if i in rows)
    return tuple(c for c in changes if c is not None)
