"""`Desk`: the one implementation of `DeskApi`, over the database and the Stripe gateway.

Every method is blocking (database, Stripe): the screens call it from worker threads.
Values in and out are plain (`billing.values`, `models.money.Money`); errors are
`billing.errors` with a message a person can act on.

The desk's jobs live in their own modules, each a mixin over `billing.desk_base.DeskBase`:
cards (desk_cards), the phone's card page (desk_phone), bank debits (desk_bank), staff's
payments and refunds (desk_payments), receipts and shared invoices (desk_documents), the
audit log (desk_audit). This module keeps the firm, who pays, what can be paid and
reconciliation, and joins the rest into `Desk`.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping

from billing.audit import audit
from billing.desk_audit import ACTION_WORDS, DeskAudit, _details_in_words, audit_rows
from billing.desk_bank import DeskBankDebits
from billing.desk_base import DeskBase
from billing.desk_cards import DeskCards
from billing.desk_documents import DeskDocuments
from billing.desk_payments import DeskPayments, payment_rows
from billing.desk_phone import DeskPhoneEntry
from billing.lazy_import import LazyModule
from billing.values import (
    BalanceChange,
    ClientSummary,
    FirmInfo,
    InvoiceDetails,
    PayableInvoice,
    Payer,
    ReconcileReport,
    StaffSession,
)
from models.db import write_transaction
from models.firm import Firm
from models.money import Money, check_amount, parse_amount, stripe_minimum_charge

# Loaded when first used: the first screen is drawn before any of them is needed.
clients = LazyModule("billing.clients")
firm_details = LazyModule("billing.firm_details")
ledger = LazyModule("billing.ledger")
reconcile = LazyModule("billing.reconcile")
reserve = LazyModule("billing.reserve")
saved_cards = LazyModule("billing.saved_cards")
staff = LazyModule("billing.staff")

# A start-up reconciliation leaves alone what another terminal may still be paying.
STARTUP_RECONCILE_AFTER = dt.timedelta(minutes=2)


class Desk(DeskCards, DeskPhoneEntry, DeskBankDebits, DeskPayments, DeskDocuments, DeskAudit,
           DeskBase):
    """Paydesk's billing, for one terminal."""

    # --- the firm ---------------------------------------------------------------------------
    def firm(self) -> FirmInfo:
        f = self._firm()
        return FirmInfo(
            name=f.name, currency=f.currency, locale=f.locale,
            online_payments_enabled=f.online_payments_enabled,
            multi_invoice_payments_enabled=f.multi_invoice_payments_enabled,
            statement_descriptor_prefix=f.statement_descriptor_prefix,
            test_mode=self.settings.stripe.test_mode,
            time_zone=f.time_zone,
            bank_debits_enabled=f.bank_debits_enabled,
        )

    def set_firm_switches(self, staff_session: StaffSession, *, online: bool | None = None,
                          multi_invoice: bool | None = None) -> FirmInfo:
        staff.require_admin(staff_session)
        firm = self._firm()
        changes = {}
        if online is not None:
            changes["online_payments_enabled"] = bool(online)
        if multi_invoice is not None:
            changes["multi_invoice_payments_enabled"] = bool(multi_invoice)
        if changes:
            with write_transaction():
                Firm.update(**changes).where(Firm.id == firm.id).execute()
                audit(actor=f"staff:{staff_session.name}", action="firm.switches",
                      subject=f"firm:{firm.id}", result="changed", terminal=self.terminal,
                      details=" ".join(f"{k}={v}" for k, v in changes.items()))
        return self.firm()

    def set_firm_details(self, staff_session: StaffSession, *, time_zone: str | None = None,
                         address: str | None = None, phone: str | None = None,
                         email: str | None = None) -> FirmInfo:
        """The firm's time zone (IANA name) and the contact details printed on receipts and
        in emails (admin only); a bad value is refused naming its setting, nothing changes."""
        staff.require_admin(staff_session)
        firm_details.set_firm_details(
            self._firm().id, actor=f"staff:{staff_session.name}", terminal=self.terminal,
            time_zone=time_zone, address=address, phone=phone, email=email)
        return self.firm()

    # --- who pays ---------------------------------------------------------------------------
    def sign_in_client(self, email: str, password: str) -> Payer:
        return clients.sign_in_client(email, password, terminal=self.terminal, clock=self.clock)

    def payer_for_code(self, code: str) -> tuple[Payer, PayableInvoice]:
        return clients.payer_for_code(code, today=self._today())

    def sign_in_staff(self, name: str, pin: str) -> StaffSession:
        return staff.sign_in_staff(name, pin, terminal=self.terminal, clock=self.clock)

    def find_clients(self, staff_session: StaffSession, query: str,
                     limit: int = 50) -> list[ClientSummary]:
        staff.require_staff(staff_session)
        return clients.find_clients(query, limit)

    def payer_for_client(self, staff_session: StaffSession, client_id: int) -> Payer:
        staff.require_staff(staff_session)
        return clients.payer_for_client(staff_session, client_id)

    # --- what can be paid -------------------------------------------------------------------
    def payable_invoices(self, payer: Payer) -> list[PayableInvoice]:
        return clients.payable_for(payer, today=self._today())

    def invoice_details(self, payer: Payer, invoice_id: int) -> InvoiceDetails:
        return clients.invoice_details(payer, invoice_id, today=self._today())

    def parse_amount(self, payer: Payer, invoice: PayableInvoice, text: str) -> Money:
        locale = self._firm().locale
        amount = parse_amount(text, invoice.currency, locale)
        check_amount(amount, balance=invoice.balance,
                     minimum=stripe_minimum_charge(invoice.currency), locale=locale)
        return amount

    def balance_changes(self, payer: Payer, amounts: Mapping[int, Money]
                        ) -> tuple[BalanceChange, ...]:
        return reserve.balance_changes(payer, amounts)

    def statement_descriptor(self, invoice_number: str) -> str:
        return ledger.statement_descriptor(self._firm().statement_descriptor_prefix,
                                           invoice_number)

    def reconcile(self, *, older_than: dt.timedelta | None = None) -> ReconcileReport:
        """Settle every unfinished checkout and refund (with `older_than`: only those
        untouched for that long)."""
        return self._reconcile(self.gateway, older_than)

    def reconcile_at_start(self, gateway, *, stop: Callable[[], bool] | None = None
                           ) -> ReconcileReport:
        """Start-up's reconciliation, over the `gateway` start-up has just built (the gate is
        still shut: it opens once this has run); it ends early once `stop()` is true."""
        self._gateway = gateway
        return self._reconcile(gateway, STARTUP_RECONCILE_AFTER, stop=stop)

    def _reconcile(self, gateway, older_than: dt.timedelta | None, *,
                   stop: Callable[[], bool] | None = None) -> ReconcileReport:
        report = reconcile.reconcile(gateway, terminal=self.terminal,
                                     older_than=older_than, clock=self.clock, stop=stop)
        # The cards of checkouts that ended meanwhile are kept or released now.
        saved_cards.settle_pending(gateway, terminal=self.terminal)
        return report


# The names other modules and the tests import from here, wherever they now live.
__all__ = ["ACTION_WORDS", "STARTUP_RECONCILE_AFTER", "Desk", "_details_in_words", "audit_rows",
           "payment_rows"]
