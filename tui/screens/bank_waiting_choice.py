"""Asked on the payment page when more than one bank payment waits for the code from the
bank statement (two sittings, perhaps two accounts): which one the code is for. Each line
says its invoices, total, account and the day Stripe stops waiting. Answers the chosen
checkout's id, or None (Escape: back to the page)."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from billing.bank_values import WaitingVerification
from models.money import format_money
from tui.screens import PaydeskModal
from tui.screens.payment_rows import format_date


def choice_line(waiting: WaitingVerification, locale: str) -> str:
    """"INV-1001, INV-1004 · $1,725.00 · account ending 6789 · until Oct 30, 2026"."""
    numbers = ", ".join(d.invoice_number for d in waiting.debits)
    until = format_date(waiting.expires_on, "medium", locale=locale)
    return (f"{numbers} · {format_money(waiting.total, locale)} · account ending "
            f"{waiting.last4 or '????'} · until {until}")


class BankWaitingChoiceScreen(PaydeskModal[int | None]):
    CSS_PATH = "bank_waiting_choice.tcss"
    HELP = ("Several bank payments wait for the code from the bank statement: choose the one "
            "whose deposit you have (arrows, then Enter). Escape goes back.")

    BINDINGS = [
        Binding("escape", "back", "Back", id="bank_waiting_choice.back"),
    ]

    def __init__(self, waiting: tuple[WaitingVerification, ...], locale: str) -> None:
        super().__init__()
        self.waiting = waiting
        self.locale = locale

    def compose(self) -> ComposeResult:
        with Vertical(id="bank-choice-box"):
            yield Static("Which bank payment is the code for?", id="bank-choice-heading")
            yield Static(Text("Each waits for its own deposit; the code starts only the "
                              "debits of that payment."), id="bank-choice-text")
            yield OptionList(*(Option(choice_line(w, self.locale), id=str(w.checkout_id))
                               for w in self.waiting), id="bank-choice-list")

    def on_mount(self) -> None:
        options = self.query_one(OptionList)
        options.highlighted = 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        self.dismiss(int(event.option.id or 0) or None)

    def action_back(self) -> None:
        self.dismiss(None)
