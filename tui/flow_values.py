"""The values the client payment flow hands from screen to screen, and the steps its screens
report to the flow (tui.flow.PaymentFlow).

Each screen of the flow knows only its own job: it reports what the payer did as a
`FlowStep` message, which bubbles up to the app, and the flow decides which screen comes
next. No screen of the flow imports another."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual.message import Message

from billing.values import BalanceChange, CardChoice, CheckoutResult, PayableInvoice, Payer
from models.money import Money, format_money

# Stripe's test cards, offered in test mode on the card page and (with a wallet) on the
# simulated reader.
TEST_CARDS = (
    ("4242 4242 4242 4242", "succeeds"),
    ("4000 0000 0000 0002", "declined"),
    ("4000 0000 0000 9995", "insufficient funds"),
    ("4000 0000 0000 0069", "expired card"),
    ("4000 0000 0000 0127", "incorrect CVC"),
    ("4000 0000 0000 0119", "processing error"),
    ("4000 0027 6000 3184", "needs authentication"),
)
# Test mode on the sandbox only: a phone tapped on the simulated reader (a wallet tap, which
# the reader cannot keep, so each invoice is tapped). Stripe's own test mode has no wallets.
READER_TEST_CARDS = (*TEST_CARDS, ("4000 0000 0000 7775", "Apple Pay (sandbox only)"))


@dataclass(frozen=True)
class SelectedInvoice:
    """One invoice the payer chose to pay, and how much."""

    invoice: PayableInvoice
    amount: Money


Selection = tuple[SelectedInvoice, ...]


def selection_line(selection: Selection, locale: str) -> Text:
    """"Paying 4 invoices · total $1,920.25"."""
    currency = selection[0].amount.currency
    total = Money.sum_of((s.amount for s in selection), currency)
    noun = "invoice" if len(selection) == 1 else "invoices"
    return Text(f"Paying {len(selection)} {noun} · total {format_money(total, locale)}",
                style="bold")


@dataclass(frozen=True)
class PhoneCardSaved:
    """The phone-entry screen's answer when the payer saved a card on the page: pay with
    it (`card` is a "phone" CardChoice), once, through the page's entry."""

    entry_id: int
    card: CardChoice


# The phone-entry screen's answer: the card saved, "expired" (the payer asked for a new
# link) or "cancelled" (back to the review).
PhoneOutcome = PhoneCardSaved | str


# --- what a screen of the flow reports ------------------------------------------------------


@dataclass(frozen=True)
class StartPayment:
    """Sign-in, a payment code or the front desk: open the payment page for this payer
    (over the current screen, or in its place)."""

    payer: Payer
    replace: bool = False


@dataclass(frozen=True)
class InvoicesChosen:
    """The payment page: these invoices, these amounts; on to the card."""

    payer: Payer
    selection: Selection


@dataclass(frozen=True)
class CardChosen:
    """The card page: pay with this card; on to the review."""

    payer: Payer
    selection: Selection
    card: CardChoice


@dataclass(frozen=True)
class PayConfirmed:
    """The review: Pay was pressed (the payer may carry a code holder's receipt address)."""

    payer: Payer
    selection: Selection
    card: CardChoice


@dataclass(frozen=True)
class PaymentFinished:
    """The payment ran to an outcome (paid, declined, or waiting on the bank)."""

    payer: Payer
    selection: Selection
    result: CheckoutResult


@dataclass(frozen=True)
class BalancesMoved:
    """The engine refused (or the review found) that balances changed since the payer
    chose: nothing was reserved or charged. `message` is billing's words for it."""

    changes: tuple[BalanceChange, ...]
    message: str
    # With no payment page to go back to: close the reporting screen (the payment could
    # not run) or stay on it (the review, where the payer can go back).
    close_screen: bool = False


@dataclass(frozen=True)
class PayOthers:
    """After a partial failure: pay the invoices that did not fail, with another card."""

    payer: Payer
    others: Selection


@dataclass(frozen=True)
class BackToList:
    """Leave the result for the payment page, as the payer had set it."""


@dataclass(frozen=True)
class PaymentDone:
    """The payer is done after a payment."""

    payer: Payer


@dataclass(frozen=True)
class BankAnswered:
    """Bank debits: billing's answer after the authorization or the microdeposit code:
    the debits (a BankCheckoutResult) or the account to verify first (NeedsVerification)."""

    payer: Payer
    selection: Selection
    outcome: object  # billing.bank_values.BankCheckoutResult | NeedsVerification


@dataclass(frozen=True)
class BankRefused:
    """Billing refused the bank debit before anything was debited (`message` says why)."""

    message: str


@dataclass(frozen=True)
class BankLater:
    """The payer verifies the account later: the invoices stay held; `message` says what
    happens meanwhile."""

    payer: Payer
    message: str


Step = (StartPayment | InvoicesChosen | CardChosen | PayConfirmed | PaymentFinished | BalancesMoved
        | PayOthers | BackToList | PaymentDone | BankAnswered | BankRefused | BankLater)


@dataclass
class FlowStep(Message):
    """A screen of the client payment flow reports a step; the app hands it to the flow."""

    step: Step


__all__ = [
    "READER_TEST_CARDS", "TEST_CARDS", "BackToList", "BalancesMoved", "BankAnswered",
    "BankLater", "BankRefused", "CardChosen", "FlowStep",
    "InvoicesChosen", "PayConfirmed", "PayOthers", "PaymentDone", "PaymentFinished",
    "PhoneCardSaved", "PhoneOutcome",
    "SelectedInvoice", "Selection", "StartPayment", "Step", "selection_line",
]
