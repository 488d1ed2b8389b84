"""The last look before paying: one line per transaction exactly as it will appear on the
statement, how many there will be, the total, and the card. Pay or go back."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Static

from billing.values import CardChoice, Payer
from models.money import Money, format_money
from tui.screens import PaydeskScreen
from tui.screens.payment_page import SelectedInvoice
from tui.widgets import ScreenTitle, amount_cell


class ReviewScreen(PaydeskScreen):
    CSS_PATH = "review.tcss"
    HELP = (
        "Every line is one card transaction, with the amount and the text your bank "
        "statement will show. Nothing is charged until you press Pay (F5). Escape goes back."
    )

    BINDINGS = [
        Binding("f5", "pay", "Pay", id="review.pay"),
        Binding("escape", "back", "Back", id="review.back"),
    ]

    class Descriptors(Message):
        def __init__(self, descriptors: dict[str, str]) -> None:
            super().__init__()
            self.descriptors = descriptors

    def __init__(self, payer: Payer, selection: tuple[SelectedInvoice, ...],
                 card: CardChoice) -> None:
        super().__init__()
        self.payer = payer
        self.selection = selection
        self.card = card
        self._ready = False

    @property
    def total(self) -> Money:
        return Money.sum_of((s.amount for s in self.selection), self.selection[0].amount.currency)

    def compose(self) -> ComposeResult:
        locale = self.app.firm.locale
        count = len(self.selection)
        yield ScreenTitle("Review")
        yield Static("Please check. Nothing is charged until you press Pay.", id="review-lead")
        yield DataTable(id="review-table", cursor_type="none", zebra_stripes=True)
        statement = (
            "1 transaction will appear on your statement." if count == 1
            else f"{count} separate transactions will appear on your statement."
        )
        if self.card.kind == "reader" and count > 1:
            # Known only once the card is presented: whether the reader can keep it.
            statement += (f"\nOn the reader, a card that can't be kept (a phone, some debit "
                          f"cards) is tapped once for each invoice: {count} taps.")
        yield Static(statement, id="review-count")
        text = Text()
        text.append("Total ", style="bold")
        text.append(format_money(self.total, locale), style="bold")
        text.append("  ·  ")
        text.append(self.card.label or "card")
        yield Static(text, id="review-total")
        with Horizontal(id="review-buttons"):
            yield Button("Back", id="review-back", compact=True)
            yield Button(f"Pay {format_money(self.total, locale)}", id="review-pay",
                         variant="success", compact=True, disabled=True)
        yield Footer()

    def on_mount(self) -> None:
        table = self.query_one("#review-table", DataTable)
        table.add_column("Invoice", key="number")
        table.add_column("Case", key="case")
        table.add_column("Amount", key="amount")
        table.add_column("On your statement", key="descriptor")
        locale = self.app.firm.locale
        for item in self.selection:
            inv = item.invoice
            table.add_row(Text(inv.number), Text(inv.case_title),
                          amount_cell(item.amount, locale), Text("..."),
                          key=str(inv.invoice_id))
        self._load_descriptors()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load_descriptors(self) -> None:
        desk = self.app.desk
        self.post_message(self.Descriptors(
            {s.invoice.number: desk.statement_descriptor(s.invoice.number) for s in self.selection}
        ))

    @on(Descriptors)
    def _descriptors(self, message: Descriptors) -> None:
        table = self.query_one("#review-table", DataTable)
        for item in self.selection:
            table.update_cell(str(item.invoice.invoice_id), "descriptor",
                              Text(message.descriptors[item.invoice.number]), update_width=True)
        self._ready = True
        pay = self.query_one("#review-pay", Button)
        pay.disabled = False
        pay.focus()

    @on(Button.Pressed, "#review-pay")
    def action_pay(self) -> None:
        if not self._ready:
            return
        self._ready = False  # one press, one payment
        from tui.screens.processing import ProcessingScreen

        self.app.switch_screen(ProcessingScreen(self.payer, self.selection, self.card))

    @on(Button.Pressed, "#review-back")
    def action_back(self) -> None:
        self.dismiss()
