"""Plain, frozen values that billing hands to the screens and the command line.

No ORM rows leave billing: a screen can be tested with values made up by hand.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from billing.values_firm import FirmInfo, StaffSession
from models.money import Money
from models.queries import InstalmentDue, PayableInvoice, PlanInstalmentRow

__all__ = [
    "AuditRow", "BalanceChange", "CardChoice", "CheckoutResult", "ClientSummary", "FirmInfo",
    "InstalmentDue", "InvoiceDetails", "InvoiceHistoryRow", "InvoiceLineRow", "PayableInvoice",
    "Payer", "PaymentRow", "PlanInstalmentRow", "ProgressEvent", "ReconcileReport",
    "RefundResult", "ShareResult", "StaffSession", "TransactionResult",
]


@dataclass(frozen=True)
class Payer:
    """Who is paying. `kind` is "client" (signed in to the portal), "staff" (acting for
    a client over the phone) or "code" (holder of a payment code: one invoice only)."""

    kind: str
    client_id: int
    client_name: str
    email: str | None
    staff: StaffSession | None = None
    # code payers: the one invoice the code opens
    code_invoice_id: int | None = None

    @property
    def may_see_details(self) -> bool:
        return self.kind in ("client", "staff")


@dataclass(frozen=True)
class ClientSummary:
    client_id: int
    name: str
    email: str
    case_numbers: tuple[str, ...]
    payable_count: int
    balance: Money


@dataclass(frozen=True)
class InvoiceLineRow:
    position: int
    service_date: dt.date | None
    description: str
    amount: Money


@dataclass(frozen=True)
class InvoiceHistoryRow:
    """One earlier payment or refund of an invoice."""

    at: dt.datetime
    kind: str  # "payment" or "refund"
    method: str  # card_keyed, check, ...
    amount: Money
    status: str
    reference: str | None  # receipt number
    detail: str  # "Visa •••• 4242", "check CHK-1004", refund reason


@dataclass(frozen=True)
class InvoiceDetails:
    invoice: PayableInvoice
    lines: tuple[InvoiceLineRow, ...]
    history: tuple[InvoiceHistoryRow, ...]
    # Its payment plan, instalment by instalment (empty without one).
    plan: tuple[PlanInstalmentRow, ...] = ()


@dataclass(frozen=True)
class BalanceChange:
    """An invoice whose balance no longer covers what the payer asked to pay on it: it
    was paid elsewhere meanwhile, or another payment running elsewhere holds part of it."""

    invoice_id: int
    invoice_number: str
    requested: Money
    balance: Money  # what can be paid on it now (never below zero)
    in_progress: Money  # the part held by payments still running elsewhere

    @property
    def nothing_left(self) -> bool:
        return self.balance.minor <= 0


@dataclass(frozen=True)
class CardChoice:
    """How the card is collected: "keyed" (typed in, `keyed` is a gateway KeyedCard),
    "saved" (`payment_method_id` of the client's saved card) or "reader" (`reader_id`)."""

    kind: str
    keyed: object | None = field(default=None, repr=False)
    payment_method_id: str | None = None
    reader_id: str | None = None
    # For the review screen, e.g. "Visa •••• 4242" (never more than the last four).
    label: str = ""
    # The payer agreed to keep this new card on file (keyed or reader only): it is kept
    # only if the payment succeeds (billing.saved_cards).
    keep: bool = False


@dataclass(frozen=True)
class ProgressEvent:
    """Sent while a checkout runs: one invoice changed state."""

    invoice_number: str
    status: str  # authorizing, authorized, capturing, captured, declined, cancelled, verifying, failed
    message: str = ""
    # A card on the reader that cannot be kept: "taps" (no invoice; the message says how many
    # taps the payment needs), then "tap" for each invoice as the reader waits for it.


@dataclass(frozen=True)
class TransactionResult:
    invoice_payment_id: int
    invoice_id: int
    invoice_number: str
    case_title: str
    amount: Money
    status: str
    payment_intent_id: str | None
    reference: str | None  # the receipt number
    card_brand: str | None
    card_last4: str | None
    statement_descriptor: str
    failure_message: str | None = None
    decline_code: str | None = None


@dataclass(frozen=True)
class CheckoutResult:
    checkout_id: int
    status: str  # succeeded, failed, cancelled, verifying
    transactions: tuple[TransactionResult, ...]
    total: Money
    email_to: str | None
    message: str = ""

    @property
    def succeeded(self) -> bool:
        return self.status == "succeeded"

    @property
    def failed(self) -> tuple[TransactionResult, ...]:
        return tuple(t for t in self.transactions if t.status in ("declined", "failed"))


@dataclass(frozen=True)
class PaymentRow:
    """One invoice payment, for the staff payments list."""

    invoice_payment_id: int
    checkout_id: int
    at: dt.datetime
    client_name: str
    invoice_number: str
    case_number: str
    method: str
    card: str  # "Visa •••• 4242" or "check CHK-1004"
    amount: Money
    refunded: Money
    status: str
    reference: str | None
    # A declined or failed attempt: what the card processor said, and its code.
    failure_message: str | None = None
    failure_code: str | None = None
    # The cardholder's bank disputes it (a chargeback or an inquiry still open).
    disputed: bool = False
    # A dispute was lost: the money went back to the cardholder, nothing is left to refund.
    charged_back: bool = False

    @property
    def refundable(self) -> Money:
        if self.charged_back:
            return Money(0, self.amount.currency)
        return self.amount - self.refunded


@dataclass(frozen=True)
class RefundResult:
    refund_id: int
    invoice_payment_id: int
    invoice_number: str
    amount: Money
    status: str  # succeeded, failed, verifying
    reference: str | None
    message: str = ""


@dataclass(frozen=True)
class ShareResult:
    invoice_number: str
    channel: str
    recipient: str | None
    # Link shares only: shown once, never stored.
    payment_code: str | None


@dataclass(frozen=True)
class AuditRow:
    """One audit entry: the raw values as stored, and the same entry in words."""

    at: dt.datetime
    actor: str
    action: str
    subject: str
    result: str
    terminal: str
    details: str
    # In words, for the screen ("" falls back to the raw value): "Front Desk for Dana
    # Whitfield", "payment captured", "Checkout 19", the amount, the details
    # ("$475.00 · Checkout 19").
    who: str = ""
    what: str = ""
    subject_name: str = ""
    amount: Money | None = None
    summary: str = ""


@dataclass(frozen=True)
class ReconcileReport:
    checkouts_settled: int
    refunds_settled: int
    still_unknown: int
    notes: tuple[str, ...] = ()
