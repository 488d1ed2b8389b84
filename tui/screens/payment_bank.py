"""What the payment page says of the payer's bank debits (billing.bank_values.BankNotes):
those still settling, those waiting for the code from the bank statement (offered again on
a later visit, at the kiosk, in the client's own session, or at the front desk), and recent
failures: "Bank payment of $920.00 failed on Oct 20, 2026: the bank account is closed"."""

from __future__ import annotations

from rich.text import Text

from billing.bank_values import BankFailure, BankNotes, NeedsVerification, WaitingVerification
from models.money import format_money
from tui.screens.payment_rows import format_date, pending_text

OFFER = "Enter the code from your bank statement"


def failure_sentence(failure: BankFailure, locale: str) -> str:
    """"Bank payment of $920.00 failed on Oct 20, 2026: the bank account is closed"."""
    return (f"Bank payment of {format_money(failure.amount, locale)} failed on "
            f"{format_date(failure.failed_on, 'medium', locale=locale)}: {failure.reason}")


def _numbers(waiting: WaitingVerification) -> str:
    numbers = [d.invoice_number for d in waiting.debits]
    return numbers[0] if len(numbers) == 1 else ", ".join(numbers[:-1]) + " and " + numbers[-1]


def notes_text(notes: BankNotes, locale: str) -> Text:
    """The lines above the table: debits waiting for the code (with the offer), those
    settling, then the recent failures, one line each."""
    text = Text()

    def line() -> None:
        if text.plain:
            text.append("\n")

    for waiting in notes.waiting:
        line()
        text.append(f"{_numbers(waiting)} · {format_money(waiting.total, locale)} · ")
        text.append("bank payment waiting for the code from the bank statement", style="bold")
        text.append(f" (until {format_date(waiting.expires_on, 'medium', locale=locale)}): "
                    "press V to enter it")
    offered = {d.invoice_payment_id for w in notes.waiting for d in w.debits}
    settling = pending_text([d for d in notes.pending if d.invoice_payment_id not in offered],
                            locale)
    if settling.plain:
        line()
        text.append_text(settling)
    for failure in notes.failed:
        line()
        text.append(f"{failure.invoice_number} · ")
        text.append(failure_sentence(failure, locale), style="bold red")
    return text


def later_visit(waiting: WaitingVerification, locale: str) -> tuple[NeedsVerification, Text]:
    """What the verification screen says on a later visit: why it asks, and for what."""
    total = format_money(waiting.total, locale)
    noun = "debit" if len(waiting.debits) == 1 else "debits"
    until = format_date(waiting.expires_on, "medium", locale=locale)
    if waiting.microdeposit_type == "amounts":
        lead = (f"Two small deposits from Stripe were sent to the account ending "
                f"{waiting.last4} 1-2 business days after the payment: type their two "
                f"amounts to start the {noun} authorized then. Stripe stops waiting on "
                f"{until}; the invoices are then released and nothing is debited.")
    else:
        lead = (f"A small deposit from Stripe was sent to the account ending {waiting.last4} "
                "1-2 business days after the payment. Its line on the bank statement "
                "carries a 6-character code starting with SM: type it to start the "
                f"{noun} authorized then. Stripe stops waiting on {until}; the invoices "
                "are then released and nothing is debited.")
    if waiting.attempts_left is not None:
        lead += f" Tries left: {waiting.attempts_left}."
    summary = Text(f"Bank {noun} for {_numbers(waiting)} · total {total}", style="bold")
    return NeedsVerification(waiting.checkout_id, lead,
                             microdeposit_type=waiting.microdeposit_type), summary
