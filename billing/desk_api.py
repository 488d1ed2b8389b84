"""What the screens and the command line may ask of billing: the `DeskApi` protocol.

`billing.desk.Desk` implements it over the database and the Stripe gateway; the screens
depend only on this protocol and on `billing.values`, so they can be tested with a
stand-in. Every method is blocking (database, Stripe): call it from a worker thread.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Protocol

from billing.values import (
    AuditRow,
    BalanceChange,
    CardChoice,
    CheckoutResult,
    ClientSummary,
    FirmInfo,
    InvoiceDetails,
    PayableInvoice,
    Payer,
    PaymentRow,
    ProgressEvent,
    ReconcileReport,
    RefundResult,
    ShareResult,
    StaffSession,
)
from models.money import Money

if TYPE_CHECKING:  # imported when paying, not at start-up
    from billing.bank_values import (
        AuthorizationContext,
        BankAccountEntry,
        BankCheckoutResult,
        BankDebitLine,
        BankNotes,
        NeedsVerification,
    )
    from billing.phone_entry import PhoneLink, PhoneStatus


class DeskApi(Protocol):
    # --- the firm -------------------------------------------------------------------
    def firm(self) -> FirmInfo: ...

    def set_firm_switches(
        self, staff: StaffSession, *, online: bool | None = None, multi_invoice: bool | None = None
    ) -> FirmInfo:
        """Admins only (NotAllowed otherwise); audited."""

    # --- who pays ---------------------------------------------------------------------
    def sign_in_client(self, email: str, password: str) -> Payer:
        """A portal sign-in; SignInFailed (with the tries left) for a wrong email or
        password, the same for an unknown email; SignInLocked after 5 wrong passwords for
        the email or 10 wrong sign-ins at this terminal."""

    def payer_for_code(self, code: str) -> tuple[Payer, PayableInvoice]:
        """The holder of a payment code and the one invoice it opens; SignInFailed when
        the code opens nothing payable."""

    def sign_in_staff(self, name: str, pin: str) -> StaffSession:
        """SignInFailed (with the attempts left) or StaffLocked after 5 wrong PINs."""

    def find_clients(self, staff: StaffSession, query: str, limit: int = 50) -> list[ClientSummary]:
        """Clients matching a name, email, case number or invoice number."""

    def payer_for_client(self, staff: StaffSession, client_id: int) -> Payer:
        """Staff acting for a client (a phone payment)."""

    # --- what can be paid -------------------------------------------------------------
    def payable_invoices(self, payer: Payer) -> list[PayableInvoice]:
        """The payer's payment page (a code payer: the one invoice). Balances already
        take off what open checkouts hold."""

    def invoice_details(self, payer: Payer, invoice_id: int) -> InvoiceDetails:
        """Line items and history; NotAllowed for code payers and other clients' invoices."""

    def parse_amount(self, payer: Payer, invoice: PayableInvoice, text: str) -> Money:
        """A typed amount, parsed in the firm's locale and checked against the balance and
        Stripe's minimum; raises models.money.AmountError with the reason."""

    def balance_changes(
        self, payer: Payer, amounts: Mapping[int, Money]
    ) -> tuple[BalanceChange, ...]:
        """The invoices among `amounts` whose balance no longer covers the amount chosen
        (paid, or being paid, elsewhere since): the check `pay` makes before reserving."""

    def statement_descriptor(self, invoice_number: str) -> str:
        """The line the payer will see on the bank statement for this invoice."""

    # --- paying -----------------------------------------------------------------------
    def saved_cards(self, payer: Payer) -> list[CardChoice]:
        """The client's cards kept on file (with consent, after a payment that succeeded),
        one per card, with the card's own expiry; none for a payment-code payer."""

    def remove_saved_card(self, payer: Payer, payment_method_id: str) -> str:
        """Take one of the client's saved cards off file (the client, or staff acting for
        them), recorded in the audit log; returns the card's label. NotAllowed (nothing
        changes) for a card that is not on file for this client."""

    def readers(self) -> list[tuple[str, str]]:
        """(reader id, label) of the firm's card readers."""

    def present_test_card(self, reader_id: str, card_number: str) -> None:
        """Test mode only: simulate a card presented on a reader."""

    def cancel_reader_action(self, reader_id: str) -> bool:
        """Stop the reader waiting for a card; the payment waiting on it charges nothing.
        False when the reader was not waiting."""

    def pay(
        self,
        payer: Payer,
        amounts: Mapping[int, Money],
        card: CardChoice,
        on_progress: Callable[[ProgressEvent], None] | None = None,
    ) -> CheckoutResult:
        """One checkout: one transaction per invoice (invoice id -> amount), all captured
        or none. Raises BillingError subclasses before anything is charged when a rule is
        broken (BalancesChanged, naming every invoice, when balances changed since the
        payer chose); declines come back as a failed CheckoutResult naming the invoice."""

    # --- bank debits -------------------------------------------------------------------
    def bank_authorization_text(self, payer: Payer, amounts: Mapping[int, Money], kind: str,
                                last4: str = "", holder: str = "") -> str:
        """The exact authorization text to show (kind "WEB") or read aloud ("TEL")."""

    def pay_by_bank(self, payer: Payer, amounts: Mapping[int, Money],
                    account: BankAccountEntry, context: AuthorizationContext
                    ) -> BankCheckoutResult | NeedsVerification:
        """One debit per invoice, not all-or-nothing; BillingError (nothing changed) for a
        bad account number or an authorization text that no longer matches."""

    def verify_bank_account(self, payer: Payer, checkout_id: int, *,
                            descriptor_code: str | None = None,
                            amounts: tuple[int, int] | None = None
                            ) -> BankCheckoutResult | NeedsVerification:
        """The microdeposit reading; the debits start once it is right."""

    def pending_bank_payments(self, payer: Payer) -> list[BankDebitLine]:
        """The payer's bank debits still settling: "bank payment pending" and the amount."""

    def bank_notes(self, payer: Payer) -> BankNotes:
        """In one query: the payer's debits pending, those waiting for the account's
        microdeposit code (offered again on a later visit), and recent failures with why."""

    def set_bank_debits(self, staff: StaffSession, enabled: bool) -> bool:
        """Switch bank debits on or off for the firm (administrators)."""

    # --- the card entered on the payer's phone ----------------------------------------
    def start_phone_entry(self, payer: Payer, amounts: Mapping[int, Money]) -> PhoneLink:
        """Open a card page for the payer's own phone, paying exactly `amounts` (the
        review's list): its link, expiry and lines. BalancesChanged, NotAllowed or
        StripeUnavailable (nothing opened) otherwise."""

    def phone_entry_status(self, payer: Payer, entry_id: int) -> PhoneStatus:
        """One look at the page: pending, saved (with the card's label), expired,
        canceled or used. A page past its time is closed and says expired."""

    def cancel_phone_entry(self, payer: Payer, entry_id: int) -> None:
        """Close the page: its card will never be charged."""

    def pay_phone_entry(
        self,
        payer: Payer,
        entry_id: int,
        amounts: Mapping[int, Money],
        on_progress: Callable[[ProgressEvent], None] | None = None,
        keep: bool = False,
    ) -> CheckoutResult:
        """`pay` with the card saved on the page, once (`keep`: the payer agreed to keep
        it); BillingError (nothing charged) for other amounts, or a page used, expired,
        closed or without a card."""

    def email_phone_link(self, payer: Payer, entry_id: int, to: str, local_expiry: str) -> str:
        """Queue the page's link to `to` through the outbox; the address it goes to."""

    # --- staff ------------------------------------------------------------------------
    def payments(
        self,
        staff: StaffSession,
        *,
        client_id: int | None = None,
        checkout_id: int | None = None,
        status: str | None = None,
        text: str = "",
        limit: int = 200,
    ) -> list[PaymentRow]: ...

    def refund(
        self, staff: StaffSession, invoice_payment_id: int, amount: Money | None, reason: str
    ) -> RefundResult:
        """None refunds what is left. Never above captured less refunded."""

    def refund_checkout(self, staff: StaffSession, checkout_id: int, reason: str) -> list[RefundResult]: ...

    def record_offline_payment(
        self,
        staff: StaffSession,
        client_id: int,
        amounts: Mapping[int, Money],
        method: str,
        reference: str,
        *,
        allow_duplicate_reference: bool = False,
    ) -> CheckoutResult:
        """Check, cash or bank transfer over one or several invoices. A reference already
        recorded on one of them (same method) is refused unless `allow_duplicate_reference`."""

    def share_invoice(
        self, staff: StaffSession, invoice_id: int, channel: str, recipient: str | None
    ) -> ShareResult:
        """Link channels return a new payment code, shown once."""

    def shareable_invoices(self, staff: StaffSession, client_id: int) -> list[PayableInvoice]:
        """Every issued invoice of the client with a balance, shared or not."""

    def audit_log(self, staff: StaffSession, *, limit: int = 200, offset: int = 0) -> list[AuditRow]: ...

    def receipt_text(self, reference: str, *, payer: Payer | None = None) -> str:
        """A receipt (invoice payment or refund) as plain text, by its number; for a
        payment-code `payer`, without the client's name."""

    def receipt_pdf(self, reference: str, *, payer: Payer | None = None) -> bytes: ...

    def set_firm_details(self, staff: StaffSession, *, time_zone: str | None = None,
                         address: str | None = None, phone: str | None = None,
                         email: str | None = None) -> FirmInfo:
        """The firm's time zone and contact details (admin only)."""

    def email_receipt(self, reference: str, to: str, *, payer: Payer | None = None) -> str:
        """Queue a receipt to `to` through the outbox (a kiosk's or an SSH session's
        "Email me the receipt"); the address it goes to."""

    def reconcile(self) -> ReconcileReport: ...
