"""What open checkouts hold on invoices, and checking amounts against what is left.

An invoice payment that is not final (pending, authorizing, authorized, capturing,
cancelling, verifying, and a bank debit still processing) holds its amount: another payer
cannot pay that part of the
balance until it is captured (then it is paid) or released.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable

import peewee as pw

from billing.errors import AmountRejected
from billing.values import BalanceChange
from models.invoices import Invoice
from models.money import AmountError, Money, check_amount, stripe_minimum_charge
from models.payments import InvoicePayment
from models.queries import PayableInvoice

HOLDING_STATUSES = (
    "pending", "authorizing", "authorized", "capturing", "cancelling", "verifying",
    "processing",
)


def held_minor(invoice_ids: Iterable[int]) -> dict[int, int]:
    """invoice id -> minor units held by open invoice payments (one query)."""
    ids = list(invoice_ids)
    if not ids:
        return {}
    rows = (
        InvoicePayment.select(InvoicePayment.invoice, pw.fn.SUM(InvoicePayment.amount_minor))
        .where(InvoicePayment.invoice.in_(ids) & InvoicePayment.status.in_(HOLDING_STATUSES))
        .group_by(InvoicePayment.invoice)
        .tuples()
    )
    return {invoice_id: int(total or 0) for invoice_id, total in rows}


def net_of_holds(invoices: list[PayableInvoice]) -> list[PayableInvoice]:
    """The invoices with what open checkouts hold counted as paid; an invoice with
    nothing left is dropped. One query."""
    held = held_minor(i.invoice_id for i in invoices)
    out = []
    for invoice in invoices:
        extra = held.get(invoice.invoice_id, 0)
        if extra:
            invoice = dataclasses.replace(
                invoice, paid=invoice.paid + Money(extra, invoice.currency)
            )
        if invoice.balance.minor > 0:
            out.append(invoice)
    return out


def balance_change(invoice: Invoice, amount: Money, held: int) -> BalanceChange | None:
    """A BalanceChange when `amount`, otherwise a good amount, is more than what is left on
    the invoice: its paid amount less `held` (what payments still running elsewhere hold).
    None when it fits, or when what is wrong is the amount itself (not the balance)."""
    if amount.currency != invoice.currency or amount.minor <= 0:
        return None
    available = invoice.total_minor - invoice.paid_minor - held
    if amount.minor <= available:
        return None
    return BalanceChange(
        invoice_id=invoice.id, invoice_number=invoice.number, requested=amount,
        balance=Money(max(0, available), invoice.currency),
        in_progress=Money(max(0, held), invoice.currency),
    )


def check_reservable(
    invoice: Invoice, amount: Money, held: int, *, card: bool, locale: str
) -> None:
    """AmountRejected unless `amount` fits the invoice's balance less `held` (and Stripe's
    minimum when paid by card). `invoice` must be locked by the caller."""
    if amount.currency != invoice.currency:
        raise AmountRejected(invoice.number, f"the amount must be in {invoice.currency}")
    available = Money(invoice.total_minor - invoice.paid_minor - held, invoice.currency)
    minimum = stripe_minimum_charge(invoice.currency) if card else None
    if available.minor <= 0:
        raise AmountRejected(
            invoice.number, "nothing is left to pay: it is paid or a payment is in progress"
        )
    try:
        check_amount(amount, balance=available, minimum=minimum, locale=locale)
    except AmountError as exc:
        message = str(exc)
        if held and "more than the balance" in message:
            message += " (part of it is being paid in another payment right now)"
        raise AmountRejected(invoice.number, message) from None
