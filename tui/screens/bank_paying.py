"""The bank debits being sent: one row per invoice while billing creates the account's
debits under the authorization just given. Billing answers with the debits (pending) or
asks for the account's microdeposit code first; the flow decides what comes next."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.message import Message
from textual.widgets import DataTable, Footer, Static

from billing.bank_values import AuthorizationContext, BankAccountEntry
from billing.errors import BalancesChanged, BillingError
from billing.values import BalanceChange, Payer
from gateway.errors import GatewayError
from tui.flow_values import (
    BalancesMoved,
    BankAnswered,
    BankRefused,
    FlowStep,
    SelectedInvoice,
    selection_line,
)
from tui.screens import PaydeskScreen
from tui.widgets import ScreenTitle, amount_cell


class BankPayingScreen(PaydeskScreen):
    CSS_PATH = "bank_paying.tcss"
    HELP = "The bank debits are being sent. Please wait: this screen changes by itself."
    HOLDS_SESSION = True
    # Unexpected: what was sent is not known here; billing's reconciliation finishes it
    # with the same keys, so nothing is debited twice.
    WORKER_FAILED = ("The bank debits could not be confirmed. The front desk sees what was "
                     "sent; nothing will be debited twice.")

    @dataclass
    class Answered(Message):
        outcome: object

    @dataclass
    class Refused(Message):
        message: str

    @dataclass
    class Moved(Message):
        changes: tuple[BalanceChange, ...]
        message: str

    def __init__(self, payer: Payer, selection: tuple[SelectedInvoice, ...],
                 account: BankAccountEntry, context: AuthorizationContext) -> None:
        super().__init__()
        self.payer = payer
        self.selection = selection
        # The numbers are handed to billing once, then dropped (see _send).
        self._account: BankAccountEntry | None = account
        self._label = f"{account.account_type} account •••• {account.last4}"
        self.context = context

    def compose(self) -> ComposeResult:
        yield ScreenTitle("Paying by bank debit")
        yield Static(selection_line(self.selection, self.app.firm.locale), id="bank-paying-summary")
        yield Static(Text(f"Sending one debit per invoice from the {self._label}. Please wait."),
                     id="bank-paying-lead")
        yield DataTable(id="bank-paying-table", cursor_type="none")
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#bank-paying-table", DataTable)
        table.add_column("Invoice", key="number")
        table.add_column("Amount", key="amount")
        table.add_column("Status", key="status")
        for item in self.selection:
            table.add_row(Text(item.invoice.number),
                          amount_cell(item.amount, self.app.firm.locale),
                          Text("sending…", style="yellow"), key=str(item.invoice.invoice_id))
        self._send()

    @work(thread=True, exclusive=True, exit_on_error=False, group="pay")
    def _send(self) -> None:
        account, self._account = self._account, None
        amounts = {s.invoice.invoice_id: s.amount for s in self.selection}
        try:
            outcome = self.app.desk.pay_by_bank(self.payer, amounts, account, self.context)
        except BalancesChanged as exc:
            self.post_message(self.Moved(exc.changes, exc.message))
            return
        except (BillingError, GatewayError) as exc:
            self.post_message(self.Refused(exc.message))
            return
        self.post_message(self.Answered(outcome))

    def worker_failed(self, worker) -> None:
        self.dismiss()

    @on(Answered)
    def _answered(self, message: Answered) -> None:
        self.post_message(FlowStep(BankAnswered(self.payer, self.selection, message.outcome)))

    @on(Refused)
    def _refused(self, message: Refused) -> None:
        self.post_message(FlowStep(BankRefused(message.message)))

    @on(Moved)
    def _moved(self, message: Moved) -> None:
        self.post_message(FlowStep(BalancesMoved(message.changes, message.message,
                                                 close_screen=True)))
