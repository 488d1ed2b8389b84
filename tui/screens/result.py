"""What happened. Success: one line per transaction with its receipt and card, the
confirmation email, and receipts to view, print or save. Failure: which invoice failed
and why, that nothing was charged, and what to do next."""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import platformdirs
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Input, Static

from billing.errors import BillingError
from billing.plurals import plural, statement_sentence
from billing.receipts import write_new_file
from billing.values import CheckoutResult, Payer, TransactionResult
from models.money import format_money
from tui.flow_values import BackToList, FlowStep, PaymentDone, PayOthers, SelectedInvoice
from tui.screens import PaydeskScreen
from tui.widgets import ScreenTitle, TextField, amount_cell, card_label


def default_receipt_dir() -> Path:
    """The user's downloads folder, or Paydesk's data folder when there is none."""
    try:
        downloads = Path(platformdirs.user_downloads_dir())
        if downloads.is_dir():
            return downloads
    except Exception:  # noqa: BLE001, S110 - platformdirs can fail on a bare server
        pass
    return Path(platformdirs.user_data_dir("paydesk")) / "receipts"


# The headline says it once; billing's message for the checkout may say it again.
_NOTHING_CHARGED = re.compile(r"^\s*Nothing was charged(?:\.\s*|:\s*)|\s*Nothing was charged\.\s*$")


def _reason(message: str) -> str:
    """Why the payment was not made, without repeating that nothing was charged."""
    reason = _NOTHING_CHARGED.sub("", message or "").strip()
    if not reason:
        return "The payment did not go through."
    return reason[:1].upper() + reason[1:]


def _card(t: TransactionResult) -> str:
    return card_label(t.card_brand or "", t.card_last4) if t.card_last4 else ""


class ResultScreen(PaydeskScreen):
    CSS_PATH = "result.tcss"
    HELP = (
        "The outcome of the payment. After a payment, pick a row and view, print or save "
        "its receipt. After a failure nothing was charged: try another card, pay only the "
        "invoices that did not fail, or go back to the list (Escape)."
    )

    BINDINGS = [
        Binding("v", "view", "View receipt", id="result.view"),
        Binding("p", "print", "Print", id="result.print"),
        Binding("ctrl+s", "save", "Save PDF", id="result.save"),
        Binding("ctrl+e", "email", "Email receipt", id="result.email"),
        Binding("f5", "done", "Done", id="result.done"),
        # After a failure, as the Back button does: to the list, with what was ticked.
        Binding("escape", "back", "Back", id="result.back"),
    ]

    @dataclass
    class Receipt(Message):
        reference: str
        text: str

    @dataclass
    class Saved(Message):
        path: str

    @dataclass
    class Emailed(Message):
        reference: str
        to: str

    @dataclass
    class NotEmailed(Message):
        reason: str

    def __init__(self, payer: Payer, result: CheckoutResult,
                 selection: tuple[SelectedInvoice, ...]) -> None:
        super().__init__()
        self.payer = payer
        self.result = result
        self.selection = selection

    @property
    def succeeded(self) -> bool:
        return self.result.succeeded

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        # Receipt keys mean nothing after a failure: hide them from the footer.
        if action in ("view", "print", "save", "email", "done") and not self.succeeded:
            return False
        if action == "back" and self.succeeded:
            return False
        if action == "save" and self.app.receipts_by_email:
            return False
        if action == "email" and not self.app.receipts_by_email:
            return False
        return True

    def compose(self) -> ComposeResult:
        yield ScreenTitle("Payment complete" if self.succeeded
                          else "Payment not confirmed yet" if self.verifying
                          else "Payment not made")
        yield Static(self._headline(), id="result-headline")
        yield DataTable(id="result-table", cursor_type="row" if self.succeeded else "none",
                        zebra_stripes=True)
        yield Static(self._after(), id="result-after")
        if self.succeeded:
            with VerticalScroll(id="result-receipt"):
                yield Static("", id="result-receipt-text", markup=False)
            if self.app.receipts_by_email:
                # A file saved here would stay on this server, not with the payer.
                with Horizontal(id="result-save-row"):
                    yield Static("Email to", id="result-save-label")
                    yield TextField(id="result-email-to", compact=True)
            else:
                with Horizontal(id="result-save-row"):
                    yield Static("Save PDF to", id="result-save-label")
                    yield TextField(id="result-save-path", compact=True)
            with Horizontal(id="result-buttons"):
                yield Button("View receipt", id="result-view", compact=True)
                yield Button("Print", id="result-print", compact=True)
                if self.app.receipts_by_email:
                    yield Button("Email me the receipt", id="result-email", compact=True)
                else:
                    yield Button("Save PDF", id="result-save", compact=True)
                yield Button("Done", id="result-done", variant="primary", compact=True)
        else:
            with Horizontal(id="result-buttons"):
                if not self.verifying:  # "do not pay again" until the bank answers
                    yield Button("Another card", id="result-another", variant="primary",
                                 compact=True)
                others = self._others()
                if others:
                    yield Button(self._others_label(len(others)), id="result-others",
                                 compact=True)
                yield Button("Back", id="result-back", compact=True)
        yield Footer()

    @property
    def verifying(self) -> bool:
        return self.result.status == "verifying"

    def _headline(self) -> Text:
        locale = self.app.firm.locale
        count = len(self.result.transactions)
        if self.succeeded:
            paid = plural(count, locale, one="{n} transaction", other="{n} transactions")
            return Text(f"Paid: {paid}, total {format_money(self.result.total, locale)}. "
                        "Thank you!", style="bold green")
        if self.verifying:
            return Text("The bank has not answered yet. Nothing is shown as paid until it does; "
                        "the front desk can check this payment.", style="bold yellow")
        # The one place the failure screen says that nothing was charged.
        return Text(plural(count, locale, one="Nothing was charged.",
                           other="Nothing was charged for any of the {n} invoices."),
                    style="bold red")

    def _after(self) -> Text:
        locale = self.app.firm.locale
        if self.succeeded:
            # As the review screen said before paying: one line on the statement per invoice.
            count = len(self.result.transactions)
            lines = Text(statement_sentence(count, locale))
            lines.append("\n")
            # A payment-code holder's email_to is the address they gave, never the client's.
            if self.result.email_to:
                lines.append(f"A confirmation email was sent to {self.result.email_to}.")
            else:
                lines.append("No confirmation email: there is no email address for this payer.")
            return lines
        if self.verifying:
            return Text(self.result.message or "")
        lines = Text()
        reasons: dict[str, list[str]] = {}
        for t in self.result.failed:
            reasons.setdefault(t.failure_message or "The card was not accepted.", []).append(
                t.invoice_number)
        for reason, numbers in reasons.items():
            lines.append(f"{', '.join(numbers)}: ", style="bold")
            lines.append(reason)
            lines.append("\n")
        if not self.result.failed:
            lines.append(_reason(self.result.message), style="bold")
            lines.append("\n")
        others = len(self._others())
        if others:
            lines.append(plural(
                others, locale,
                one="The other invoice can be paid on its own, with this card or another.",
                other="The other {n} invoices can be paid on their own, with this card or "
                      "another."))
        lines.rstrip()
        return lines

    def _others_label(self, count: int) -> str:
        return plural(count, self.app.firm.locale, one="Pay the other invoice",
                      other="Pay the other {n}")

    def on_mount(self) -> None:
        locale = self.app.firm.locale
        table = self.query_one("#result-table", DataTable)
        table.add_column("Invoice", key="number")
        table.add_column("Amount", key="amount")
        table.add_column("Card" if self.succeeded else "Result", key="card")
        if self.succeeded:
            table.add_column("Receipt", key="reference")
            table.add_column("Transaction", key="pi")
        for t in self.result.transactions:
            if self.succeeded:
                table.add_row(Text(t.invoice_number), amount_cell(t.amount, locale),
                              Text(_card(t)), Text(t.reference or ""),
                              Text(t.payment_intent_id or "", style="dim"),
                              key=str(t.invoice_payment_id))
            else:
                # The reason is said once, under the table, for every invoice it applies to.
                failed = t.status in ("declined", "failed")
                word = t.status if failed else "not charged"
                table.add_row(Text(t.invoice_number), amount_cell(t.amount, locale),
                              Text(word, style="red" if failed else "dim"),
                              key=str(t.invoice_payment_id))
        if self.succeeded:
            first = next((t.reference for t in self.result.transactions if t.reference), "receipt")
            if self.app.receipts_by_email:
                self.query_one("#result-email-to", Input).value = self.result.email_to or ""
            else:
                self.query_one("#result-save-path", Input).value = str(
                    self._receipt_dir() / f"receipt-{first}.pdf")
            self.query_one("#result-receipt").display = False
            self.query_one("#result-done", Button).focus()
            table.focus()
        elif self.verifying:
            self.query_one("#result-back", Button).focus()
        else:
            self.query_one("#result-another", Button).focus()

    # --- receipts -------------------------------------------------------------------------

    def _receipt_dir(self) -> Path:
        chosen = getattr(self.app, "receipt_dir", None)
        return Path(chosen) if chosen else default_receipt_dir()

    def _selected(self) -> TransactionResult | None:
        if not self.succeeded:
            return None
        table = self.query_one("#result-table", DataTable)
        if table.row_count == 0:
            return None
        return self.result.transactions[table.cursor_row]

    @on(DataTable.RowHighlighted, "#result-table")
    def _row_changed(self) -> None:
        chosen = self._selected()
        if chosen is not None and chosen.reference and not self.app.receipts_by_email:
            field = self.query_one("#result-save-path", Input)
            field.value = str(Path(field.value or self._receipt_dir()).with_name(
                f"receipt-{chosen.reference}.pdf"))

    @on(Button.Pressed, "#result-view")
    def action_view(self) -> None:
        chosen = self._selected()
        if chosen is not None and chosen.reference:
            self._load_receipt(chosen.reference, False)

    @on(Button.Pressed, "#result-print")
    def action_print(self) -> None:
        chosen = self._selected()
        if chosen is not None and chosen.reference:
            self._load_receipt(chosen.reference, True)

    @work(thread=True, exclusive=True, exit_on_error=False, group="receipt")
    def _load_receipt(self, reference: str, to_printer: bool) -> None:
        text = self.app.desk.receipt_text(reference, payer=self.payer)
        if to_printer:
            lp = shutil.which("lp")
            if lp is None:
                self.app.call_from_thread(
                    self.notify, "No printer is set up on this terminal; the receipt is shown "
                    "instead.", markup=False)
            else:
                subprocess.run([lp], input=text.encode(), check=True, timeout=30)
                self.app.call_from_thread(self.notify, f"Receipt {reference} sent to the printer.",
                                          markup=False)
        self.post_message(self.Receipt(reference, text))

    @on(Receipt)
    def _show_receipt(self, message: Receipt) -> None:
        box = self.query_one("#result-receipt")
        box.display = True
        self.query_one("#result-receipt-text", Static).update(message.text)
        box.border_title = f"Receipt {message.reference}"

    @on(Button.Pressed, "#result-save")
    @on(Input.Submitted, "#result-save-path")
    def action_save(self) -> None:
        if self.app.receipts_by_email or not self.succeeded:
            return
        chosen = self._selected()
        path = self.query_one("#result-save-path", Input).value.strip()
        if chosen is None or not chosen.reference or not path:
            self.notify("Pick a transaction and a file name.", severity="warning", markup=False)
            return
        self._save_pdf(chosen.reference, path)

    @work(thread=True, exclusive=True, exit_on_error=False, group="save")
    def _save_pdf(self, reference: str, path: str) -> None:
        target = Path(path).expanduser()
        if target.is_dir():
            target = target / f"receipt-{reference}.pdf"
        pdf = self.app.desk.receipt_pdf(reference, payer=self.payer)
        target.parent.mkdir(parents=True, exist_ok=True)
        self.post_message(self.Saved(str(write_new_file(target, pdf))))

    @on(Saved)
    def _saved(self, message: Saved) -> None:
        self.notify(f"Saved {message.path}", markup=False)

    @on(Button.Pressed, "#result-email")
    @on(Input.Submitted, "#result-email-to")
    def action_email(self) -> None:
        if not self.app.receipts_by_email or not self.succeeded:
            return
        chosen = self._selected()
        to = self.query_one("#result-email-to", Input).value.strip()
        if chosen is None or not chosen.reference:
            self.notify("Pick a transaction.", severity="warning", markup=False)
            return
        if not to:
            self.notify("Type the email address to send the receipt to.", severity="warning",
                        markup=False)
            self.query_one("#result-email-to", Input).focus()
            return
        self._email_receipt(chosen.reference, to)

    @work(thread=True, exclusive=True, exit_on_error=False, group="email")
    def _email_receipt(self, reference: str, to: str) -> None:
        try:
            sent_to = self.app.desk.email_receipt(reference, to, payer=self.payer)
        except BillingError as exc:
            self.post_message(self.NotEmailed(str(exc)))
            return
        self.post_message(self.Emailed(reference, sent_to))

    @on(Emailed)
    def _emailed(self, message: Emailed) -> None:
        self.notify(f"Receipt {message.reference} is on its way to {message.to}.",
                    markup=False)

    @on(NotEmailed)
    def _not_emailed(self, message: NotEmailed) -> None:
        self.notify(message.reason, severity="warning", markup=False)
        self.query_one("#result-email-to", Input).focus()

    # --- leaving ----------------------------------------------------------------------------

    def _others(self) -> tuple[SelectedInvoice, ...]:
        """The invoices that did not fail, when some did (none when the card as a whole
        was refused, nor while the bank has not answered)."""
        failed = {t.invoice_id for t in self.result.failed}
        if not failed or self.verifying:
            return ()
        return tuple(s for s in self.selection if s.invoice.invoice_id not in failed)

    @on(Button.Pressed, "#result-done")
    def action_done(self) -> None:
        if not self.succeeded:
            return
        self.post_message(FlowStep(PaymentDone(self.payer)))

    @on(Button.Pressed, "#result-another")
    def _another(self) -> None:
        # The card page puts the focus back in the card number (PaymentMethodScreen).
        self.dismiss()

    @on(Button.Pressed, "#result-others")
    def _pay_others(self) -> None:
        others = self._others()
        if not others:
            return
        self.post_message(FlowStep(PayOthers(self.payer, others)))

    @on(Button.Pressed, "#result-back")
    def action_back(self) -> None:
        if self.succeeded:
            return
        self.post_message(FlowStep(BackToList()))
