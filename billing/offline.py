"""Offline payments (check, cash, bank transfer) recorded by staff with a reference, over
one or several invoices of one client, in one transaction."""

from __future__ import annotations

from collections.abc import Mapping

from peewee import fn

from billing import ledger
from billing.audit import audit
from billing.emails import queue_confirmation
from billing.errors import BillingError, NotAllowed
from billing.receipts import lock_receipt_numbers, next_payment_receipt_number
from billing.reservations import check_reservable, held_minor
from billing.values import CheckoutResult, StaffSession
from models.db import for_update, write_transaction
from models.firm import Client, utcnow
from models.invoices import Invoice
from models.money import Money
from models.payments import OFFLINE_METHODS, Checkout, InvoicePayment

METHOD_NAMES = {"check": "check", "cash": "cash", "bank_transfer": "bank transfer"}


class DuplicateReference(BillingError):
    """The same check or transfer reference is already recorded on one of the invoices: a
    second recording would count the same money twice, unless it really is a second
    payment (then the caller asks again with `allow_duplicate_reference`)."""

    def __init__(self, invoice_number: str, method: str, reference: str,
                 receipt: str | None) -> None:
        on = f" (receipt {receipt})" if receipt else ""
        super().__init__(
            f"{invoice_number} already has the {METHOD_NAMES[method]} {reference} recorded"
            f"{on}. Nothing was recorded: recording it again would count it twice. Check the "
            "reference, or confirm that it is a second payment with the same reference.")
        self.invoice_number = invoice_number
        self.receipt = receipt


def record_offline_payment(staff: StaffSession, client_id: int, amounts: Mapping[int, Money],
                           method: str, reference: str, *, terminal: str,
                           allow_duplicate_reference: bool = False) -> CheckoutResult:
    """Record a check, cash or bank transfer spread over the client's invoices: each
    invoice's paid amount, a receipt and an audit entry per invoice, and the client's
    confirmation email (queued), in one transaction.
    BillingError (nothing changed) for a bad method, reference, invoice or amount;
    DuplicateReference when the reference is already recorded, by the same method, on one of
    the invoices (unless `allow_duplicate_reference`)."""
    if method not in OFFLINE_METHODS:
        raise BillingError("The method must be check, cash or bank_transfer.")
    reference = (reference or "").strip()
    if method != "cash" and not reference:
        raise BillingError(f"Give the {METHOD_NAMES[method]}'s reference (check number, "
                           "transfer reference).")
    if len(reference) > 120:
        raise BillingError("The reference is too long (120 characters at most).")
    if not amounts:
        raise BillingError("Choose at least one invoice.")
    client = Client.get_or_none(Client.id == client_id)
    if client is None:
        raise NotAllowed("There is no such client.")
    firm = client.firm
    ids = sorted(amounts)
    with write_transaction():
        lock_receipt_numbers()  # before any row lock: every numbering takes it first
        invoices = {i.id: i for i in for_update(
            Invoice.select().where(Invoice.id.in_(ids)).order_by(Invoice.id))}
        held = held_minor(ids)
        for invoice_id in ids:
            invoice = invoices.get(invoice_id)
            if invoice is None or invoice.client_id != client.id or invoice.status != "issued":
                raise NotAllowed(f"{invoice.number if invoice else 'That invoice'} is not an "
                                 "issued invoice of this client.")
            check_reservable(invoice, amounts[invoice_id], held.get(invoice_id, 0),
                             card=False, locale=firm.locale)
        if reference and not allow_duplicate_reference:
            _refuse_duplicate(ids, method, reference)
        checkout = Checkout.create(
            firm=firm, client=client, payer_kind="staff", staff=staff.staff_id,
            payer_email=client.email, method=method, status="succeeded",
            currency=firm.currency, total_minor=sum(amounts[i].minor for i in ids),
            reference=reference or None, terminal=terminal,
        )
        for position, invoice_id in enumerate(ids):
            amount = amounts[invoice_id].minor
            payment = InvoicePayment.create(
                checkout=checkout, invoice=invoice_id, position=position, amount_minor=amount,
                status="recorded", completed_at=utcnow(),
            )
            InvoicePayment.update(receipt_number=next_payment_receipt_number()).where(
                InvoicePayment.id == payment.id).execute()
            Invoice.update(paid_minor=Invoice.paid_minor + amount).where(
                Invoice.id == invoice_id).execute()
            audit(actor=f"staff:{staff.name}", action="offline_payment.record",
                  subject=f"invoice:{invoices[invoice_id].number}", result="recorded",
                  terminal=terminal,
                  details=(f"checkout:{checkout.id} invoice_payment:{payment.id} "
                           f"{METHOD_NAMES[method]} {reference} amount_minor={amount}"))
        queue_confirmation(checkout.id)
    return ledger.result_of(checkout.id, message=f"Recorded the {METHOD_NAMES[method]}.")


def _refuse_duplicate(invoice_ids: list[int], method: str, reference: str) -> None:
    earlier = (InvoicePayment.select(InvoicePayment, Invoice)
               .join(Checkout).switch(InvoicePayment).join(Invoice)
               .where(InvoicePayment.invoice.in_(invoice_ids), Checkout.method == method,
                      fn.LOWER(Checkout.reference) == reference.lower())
               .order_by(InvoicePayment.id).first())
    if earlier is not None:
        raise DuplicateReference(earlier.invoice.number, method,
                                 earlier.checkout.reference or reference,
                                 earlier.receipt_number)
