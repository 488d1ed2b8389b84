"""The last look before paying: one line per transaction exactly as it will appear on the
statement, how many there will be, the total, and the card. Pay or go back."""

from __future__ import annotations

from dataclasses import dataclass, replace

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Input, Label, Static

from billing.emails import check_address
from billing.errors import BillingError
from billing.plurals import statement_sentence
from billing.values import BalanceChange, CardChoice, Payer
from models.money import Money, format_money
from tui.flow_values import BalancesMoved, FlowStep, PayConfirmed, SelectedInvoice
from tui.screens import PaydeskScreen
from tui.widgets import ScreenTitle, TextField, amount_cell


def bank_statement(count: int) -> str:
    """What a bank debit is not: no all-or-nothing, no money moved today."""
    debits = "1 debit" if count == 1 else f"{count} debits, one per invoice"
    text = (f"Bank debit: {debits}. Each debit settles on its own in a few business days")
    if count > 1:
        text += ("; one can fail (insufficient funds, a closed account) while the others "
                 "succeed: there is no all-or-nothing for bank debits")
    return text + ". Next you read and confirm the authorization; nothing is debited before."


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

    @dataclass
    class Descriptors(Message):
        descriptors: dict[str, str]

    @dataclass
    class BalancesChanged(Message):
        """Checked before Pay is offered: a balance no longer covers its amount."""

        changes: tuple[BalanceChange, ...]

    def __init__(self, payer: Payer, selection: tuple[SelectedInvoice, ...],
                 card: CardChoice) -> None:
        super().__init__()
        self.payer = payer
        self.selection = selection
        self.card = card
        self._ready = False
        self._loaded = False

    def on_screen_resume(self) -> None:
        # Back from the phone's QR code (cancelled, or a new link asked for): nothing was
        # charged, so Pay works again.
        # Back from the bank debit's authorization: the same.
        if self.card.kind in ("phone", "bank") and self._loaded:
            self._ready = True

    @property
    def total(self) -> Money:
        return Money.sum_of((s.amount for s in self.selection), self.selection[0].amount.currency)

    def compose(self) -> ComposeResult:
        locale = self.app.firm.locale
        count = len(self.selection)
        yield ScreenTitle("Review")
        yield Static("Please check. Nothing is debited until you authorize it."
                     if self.card.kind == "bank" else
                     "Please check. Nothing is charged until you press Pay.", id="review-lead")
        yield DataTable(id="review-table", cursor_type="none", zebra_stripes=True)
        statement = statement_sentence(count, locale)
        if self.card.kind == "reader" and count > 1:
            # Known only once the card is presented: whether the reader can keep it.
            statement += (f"\nOn the reader, a card that can't be kept (a phone, some debit "
                          f"cards) is tapped once for each invoice: {count} taps.")
        if self.card.kind == "bank":
            statement = bank_statement(count)
        yield Static(statement, id="review-count")
        text = Text()
        text.append("Total ", style="bold")
        text.append(format_money(self.total, locale), style="bold")
        text.append("  ·  ")
        text.append(self.card.label or "card")
        yield Static(text, id="review-total")
        if self.payer.kind == "code":
            # A payment-code holder is not the client: their receipt goes where they say,
            # or nowhere; never to the client's address (billing.emails).
            with Horizontal(id="review-email-row"):
                yield Label("Email me the receipt (optional)", id="review-email-label")
                yield TextField(id="review-email", compact=True, max_length=254,
                                placeholder="name@example.com")
            yield Static("", id="review-email-error")
        with Horizontal(id="review-buttons"):
            yield Button("Back", id="review-back", compact=True)
            pay = f"Pay {format_money(self.total, locale)}"
            if self.card.kind == "phone":
                pay += " by phone"  # a QR code first: nothing is charged before the card
            elif self.card.kind == "bank":
                pay = "Authorize the debit"  # the authorization first, then the debits
            yield Button(pay, id="review-pay",
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
        # The balances are checked again before Pay is offered: a payment made elsewhere
        # since the payer chose sends them back to the new balances.
        changes = desk.balance_changes(
            self.payer, {s.invoice.invoice_id: s.amount for s in self.selection})
        if changes:
            self.post_message(self.BalancesChanged(changes))
            return
        self.post_message(self.Descriptors(
            {s.invoice.number: desk.statement_descriptor(s.invoice.number) for s in self.selection}
        ))

    @on(Descriptors)
    def _descriptors(self, message: Descriptors) -> None:
        table = self.query_one("#review-table", DataTable)
        for item in self.selection:
            table.update_cell(str(item.invoice.invoice_id), "descriptor",
                              Text(message.descriptors[item.invoice.number]), update_width=True)
        self._ready = self._loaded = True
        pay = self.query_one("#review-pay", Button)
        pay.disabled = False
        if self.payer.kind == "code":
            self.query_one("#review-email", Input).focus()
        else:
            pay.focus()

    @on(BalancesChanged)
    def _balances_changed(self, message: BalancesChanged) -> None:
        self.post_message(FlowStep(BalancesMoved(
            message.changes,
            "A balance changed since you chose the amounts: go back and check.")))

    @on(Input.Submitted, "#review-email")
    def _email_entered(self) -> None:
        if self._receipt_email() is not False:
            self.query_one("#review-pay", Button).focus()

    def _receipt_email(self) -> str | None | bool:
        """The code holder's address for the receipt; None for none; False (with the
        reason shown) when what is typed is not an address."""
        text = self.query_one("#review-email", Input).value
        error = self.query_one("#review-email-error", Static)
        if not text.strip():
            error.update("")
            return None
        try:
            address = check_address(text)
        except BillingError as exc:
            error.update(Text(exc.message))
            self.query_one("#review-email", Input).focus()
            return False
        error.update("")
        return address

    @on(Button.Pressed, "#review-pay")
    def action_pay(self) -> None:
        if not self._ready:
            return
        payer = self.payer
        if payer.kind == "code":
            address = self._receipt_email()
            if address is False:
                return
            payer = replace(payer, email=address)
        self._ready = False  # one press, one payment
        self.post_message(FlowStep(PayConfirmed(payer, self.selection, self.card)))

    @on(Button.Pressed, "#review-back")
    def action_back(self) -> None:
        self.dismiss()
