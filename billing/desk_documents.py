"""What the desk hands a payer on paper or by email: receipts, and invoices shared."""

from __future__ import annotations

from billing.desk_base import DeskBase
from billing.lazy_import import LazyModule
from billing.values import PayableInvoice, Payer, ShareResult, StaffSession

# Loaded when first used: the first screen is drawn before any of them is needed.
emails = LazyModule("billing.emails")
receipts = LazyModule("billing.receipts")
sharing = LazyModule("billing.sharing")
staff = LazyModule("billing.staff")


class DeskDocuments(DeskBase):
    """Invoices shared by staff; receipts as text, PDF or email."""

    def share_invoice(self, staff_session: StaffSession, invoice_id: int, channel: str,
                      recipient: str | None) -> ShareResult:
        staff.require_staff(staff_session)
        return sharing.share_invoice(staff_session, invoice_id, channel, recipient,
                                     terminal=self.terminal)

    def shareable_invoices(self, staff_session: StaffSession,
                           client_id: int) -> list[PayableInvoice]:
        staff.require_staff(staff_session)
        return sharing.shareable_invoices(client_id, today=self._today())

    def receipt_text(self, reference: str, *, payer: Payer | None = None) -> str:
        return receipts.receipt_text(reference, show_client=_may_see_client(payer))

    def receipt_pdf(self, reference: str, *, payer: Payer | None = None) -> bytes:
        return receipts.receipt_pdf(reference, show_client=_may_see_client(payer))

    def email_receipt(self, reference: str, to: str, *, payer: Payer | None = None) -> str:
        """Queue the receipt to `to` (at a kiosk or over SSH, instead of a file on the
        server) and try to deliver it now; the address it goes to. BillingError for a bad
        address or an unknown receipt, with nothing queued."""
        queued = emails.queue_receipt_email(reference, to, show_client=_may_see_client(payer))
        self._deliver_email()
        return queued.recipient


def _may_see_client(payer: Payer | None) -> bool:
    """A payment-code holder sees the invoice, never whose it is (DESIGN.md section 1)."""
    return payer is None or payer.kind != "code"
