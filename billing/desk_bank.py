"""Bank debits at the desk (billing.bank_checkout and its neighbours): the authorization,
the debits, the microdeposit check, what is still settling, and the firm's switch.

The bank modules are imported inside each method: only a bank payment needs them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import replace

from billing.desk_base import DeskBase
from billing.lazy_import import LazyModule
from billing.values import Payer, StaffSession
from models.firm import Client
from models.money import Money

# Loaded when first used: the first screen is drawn before it is needed.
staff = LazyModule("billing.staff")


class DeskBankDebits(DeskBase):
    """Paying an invoice by debit from the payer's bank account."""

    def bank_authorization_text(self, payer: Payer, amounts: Mapping[int, Money], kind: str,
                                last4: str = "", holder: str = "") -> str:
        """The authorization to show (WEB) or read aloud (TEL) for these amounts today,
        naming the account holder (the client when not given)."""
        from billing.bank_authorization import authorization_text

        firm = Client.get_by_id(payer.client_id).firm
        return authorization_text(firm, payer, amounts, kind, self._today(), last4=last4,
                                  holder=holder)

    def pay_by_bank(self, payer: Payer, amounts: Mapping[int, Money], account, context):
        """One bank debit per invoice (billing.bank_checkout.start_bank_checkout): a
        BankCheckoutResult, or NeedsVerification while the account is being verified."""
        from billing import bank_checkout

        if payer.kind == "staff":
            staff.require_staff(payer.staff)
        if not context.terminal:
            context = replace(context, terminal=self.terminal)
        gateway = self.gateway
        result = bank_checkout.start_bank_checkout(gateway, payer, amounts, account, context,
                                                   today=self._today())
        self._deliver_email()
        return result

    def verify_bank_account(self, payer: Payer, checkout_id: int, *,
                            descriptor_code: str | None = None,
                            amounts: tuple[int, int] | None = None):
        """The microdeposit's code or amounts, now or on a later visit; then the debits
        start (see billing.bank_verify)."""
        from billing import bank_verify

        result = bank_verify.verify_bank_account(
            self.gateway, payer, checkout_id, descriptor_code=descriptor_code, amounts=amounts)
        self._deliver_email()
        return result

    def pending_bank_payments(self, payer: Payer):
        """The payer's bank debits still settling ("bank payment pending", with amounts)."""
        from billing.bank_pending import pending_bank_payments
        from billing.bank_verify import check_payer

        check_payer(payer)
        return pending_bank_payments(payer.client_id)

    def bank_notes(self, payer: Payer):
        """What the payment page says of the payer's bank debits (billing.bank_values.
        BankNotes): pending, waiting for the account's code (offered again), and recent
        failures with why. One query."""
        from billing.bank_pending import RECENT, bank_notes
        from billing.bank_verify import check_payer

        check_payer(payer)  # a payment code sees nothing of the client; staff signed in
        return bank_notes(payer.client_id, failed_since=self.clock() - RECENT)

    def set_bank_debits(self, staff_session: StaffSession, enabled: bool) -> bool:
        """Bank debits on or off for the firm (administrators only; audited)."""
        from billing.bank_pending import set_bank_debits

        return set_bank_debits(staff_session, enabled, terminal=self.terminal)
