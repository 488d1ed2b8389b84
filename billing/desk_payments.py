"""Staff's money work at the desk: the payments list, refunds, payments taken offline."""

from __future__ import annotations

from collections.abc import Mapping

from billing.desk_base import DeskBase
from billing.errors import BillingError
from billing.lazy_import import LazyModule
from billing.values import CheckoutResult, PaymentRow, RefundResult, StaffSession
from models.events import dispute_flags
from models.firm import Case, Client
from models.invoices import Invoice
from models.money import Money
from models.payments import Checkout, InvoicePayment

# Loaded when first used: the first screen is drawn before any of them is needed.
offline = LazyModule("billing.offline")
receipts = LazyModule("billing.receipts")
refunds = LazyModule("billing.refunds")
staff = LazyModule("billing.staff")


class DeskPayments(DeskBase):
    """The payments staff see, and the money staff give back or record."""

    def payments(self, staff_session: StaffSession, *, client_id: int | None = None,
                 checkout_id: int | None = None, status: str | None = None, text: str = "",
                 limit: int = 200) -> list[PaymentRow]:
        staff.require_staff(staff_session)
        return payment_rows(client_id=client_id, checkout_id=checkout_id, status=status,
                            text=text, limit=limit)

    def refund(self, staff_session: StaffSession, invoice_payment_id: int,
               amount: Money | None, reason: str) -> RefundResult:
        staff.require_staff(staff_session)
        result = refunds.refund(self.gateway, staff_session, invoice_payment_id, amount,
                                reason, terminal=self.terminal)
        self._deliver_email()  # the refund confirmation, queued with the refund
        return result

    def refund_checkout(self, staff_session: StaffSession, checkout_id: int,
                        reason: str) -> list[RefundResult]:
        staff.require_staff(staff_session)
        if not (reason or "").strip():
            raise BillingError("Give a reason for the refund.")
        results = refunds.refund_checkout(self.gateway, staff_session, checkout_id, reason,
                                          terminal=self.terminal)
        self._deliver_email()
        return results

    def record_offline_payment(self, staff_session: StaffSession, client_id: int,
                               amounts: Mapping[int, Money], method: str,
                               reference: str, *,
                               allow_duplicate_reference: bool = False) -> CheckoutResult:
        staff.require_staff(staff_session)
        result = offline.record_offline_payment(
            staff_session, client_id, amounts, method, reference, terminal=self.terminal,
            allow_duplicate_reference=allow_duplicate_reference)
        self._deliver_email()
        return result


def payment_rows(*, client_id: int | None = None, checkout_id: int | None = None,
                 status: str | None = None, text: str = "", limit: int = 200) -> list[PaymentRow]:
    """Invoice payments, newest first, for the staff payments list and the CLI."""
    query = (InvoicePayment.select(InvoicePayment, Checkout, Invoice, Client, Case)
             .join(Checkout).join(Client)
             .switch(InvoicePayment).join(Invoice).join(Case))
    if client_id is not None:
        query = query.where(Checkout.client == client_id)
    if checkout_id is not None:
        query = query.where(InvoicePayment.checkout == checkout_id)
    if status:
        query = query.where(InvoicePayment.status == status)
    if text.strip():
        pattern = f"%{text.strip()}%"
        query = query.where((Invoice.number ** pattern) | (Client.name ** pattern)
                            | (InvoicePayment.receipt_number ** pattern))
    query = query.order_by(Checkout.created_at.desc(), InvoicePayment.id.desc())
    rows = []
    found = list(query.limit(max(1, min(limit, 5000))))
    disputed, charged_back = dispute_flags([p.id for p in found])
    for p in found:
        c = p.checkout
        rows.append(PaymentRow(
            invoice_payment_id=p.id, checkout_id=c.id, at=p.completed_at or c.created_at,
            client_name=c.client.name, invoice_number=p.invoice.number,
            case_number=p.invoice.case.number, method=c.method,
            card=receipts.method_label(c.method, c.card_brand, c.card_last4, c.reference),
            amount=Money(p.amount_minor, c.currency), refunded=Money(p.refunded_minor, c.currency),
            status=p.status, reference=p.receipt_number,
            failure_message=p.failure_message if p.status in ("declined", "failed") else None,
            failure_code=(p.decline_code or p.failure_code)
            if p.status in ("declined", "failed") else None,
            disputed=p.id in disputed, charged_back=p.id in charged_back,
        ))
    return rows
