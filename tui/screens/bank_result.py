"""Where the bank debits stand after the payer authorized them: each invoice's "bank
payment pending" with its amount (held, not yet paid: it settles in a few business days),
or failed with the reason in words. Receipts come when a debit settles, by email."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.widgets import Button, DataTable, Footer, Static

from billing.bank_values import BankCheckoutResult, BankDebitLine
from billing.values import Payer
from models.money import Money, format_money
from tui.flow_values import BackToList, FlowStep, PaymentDone, SelectedInvoice
from tui.screens import PaydeskScreen
from tui.widgets import ScreenTitle, amount_cell

PENDING = "bank payment pending"


def status_text(line: BankDebitLine, *, why: bool = True) -> Text:
    """One debit's state in words: pending (held), failed (why, unless `why` is False: the
    table says it under itself, where a long reason is not cut), or not sent."""
    if line.status == "processing":
        return Text(PENDING, style="bold yellow")
    if line.status == "captured":
        return Text("paid", style="bold green")
    if line.status == "failed":
        text = Text("failed", style="bold red")
        if line.message and why:
            text.append(f": {line.message}", style="red")
        return text
    if line.status == "waiting":
        return Text("waiting for the account's verification", style="yellow")
    return Text(line.message or "not debited", style="dim")


class BankResultScreen(PaydeskScreen):
    CSS_PATH = "bank_result.tcss"
    HELP = ("Each bank debit settles on its own in a few business days: a receipt is emailed "
            "for each once it has. Until then the amount is held on the invoice. F5 is done.")

    BINDINGS = [
        Binding("f5", "done", "Done", id="bank_result.done"),
        Binding("escape", "back", "Back to invoices", id="bank_result.back"),
    ]

    def __init__(self, payer: Payer, selection: tuple[SelectedInvoice, ...],
                 result: BankCheckoutResult) -> None:
        super().__init__()
        self.payer = payer
        self.selection = selection
        self.result = result

    def compose(self) -> ComposeResult:
        locale = self.app.firm.locale
        pending = self.result.processing
        failed = self.result.failed
        title = "Bank payment pending" if pending else "Bank payment not made"
        yield ScreenTitle(title)
        if pending:
            total = Money.sum_of((d.amount for d in pending), pending[0].amount.currency)
            noun = "debit" if len(pending) == 1 else "debits"
            lead = (f"{len(pending)} {noun}, {format_money(total, locale)} in all: bank payment "
                    "pending. Each settles on its own in a few business days; a receipt is "
                    "emailed for each when it has.")
        else:
            lead = "Nothing was debited."
        if failed:
            which = "that invoice" if len(failed) == 1 else "those invoices"
            lead += f" {len(failed)} failed: {which} can be paid again, as said below."
        yield Static(Text(lead), id="bank-result-lead")
        yield DataTable(id="bank-result-table", cursor_type="none", zebra_stripes=True)
        yield Static(Text(self._message()), id="bank-result-message")
        with Horizontal(id="bank-result-buttons"):
            yield Button("Back to invoices", id="bank-result-back", compact=True)
            yield Button("Done", id="bank-result-done", variant="primary", compact=True)
        yield Footer()

    def _message(self) -> str:
        """Billing's summary, and why each failed debit failed when it does not say so (the
        table shows "failed" alone: a reason is longer than its column at 80 columns)."""
        message = self.result.message
        for line in self.result.failed:
            if line.message and line.message not in message:
                message += f" {line.invoice_number} was not debited: {line.message}."
        return message.strip()

    def on_mount(self) -> None:
        table = self.query_one("#bank-result-table", DataTable)
        table.add_column("Invoice", key="number")
        table.add_column("Amount", key="amount")
        table.add_column("Status", key="status")
        for line in self.result.debits:
            table.add_row(Text(line.invoice_number), amount_cell(line.amount, self.app.firm.locale),
                          status_text(line, why=False), key=str(line.invoice_payment_id))
        self.query_one("#bank-result-done", Button).focus()

    @on(Button.Pressed, "#bank-result-done")
    def action_done(self) -> None:
        self.post_message(FlowStep(PaymentDone(self.payer)))

    @on(Button.Pressed, "#bank-result-back")
    def action_back(self) -> None:
        self.post_message(FlowStep(BackToList()))
