"""The payment page's row editing: ticking invoices, typing amounts, and the footer line
that counts and totals them as the payer types (tui.screens.payment_page is the page).

`PaymentRowsEditor` is a screen class of its own, so that Textual registers the `@on`
handlers below (it reads them from each class that its message-pump metaclass builds);
`PaymentPageScreen` derives from it and holds the state these handlers keep exact.
"""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.widgets import DataTable, Static

from billing.bank_values import BankFailure
from models.money import Money, format_amount_plain, format_money
from tui.screens import PaydeskScreen
from tui.screens.payment_bank import failure_sentence
from tui.screens.payment_rows import (
    PageRow,
    amount_of_row,
    detail_lines,
    parse_row_amount,
    tick_cell,
)
from tui.widgets import AmountField, InvoiceTable

__all__ = ["PaymentRowsEditor"]


class PaymentRowsEditor(PaydeskScreen):
    """Ticks, amounts and the running count and total of the payment page."""

    _rows: dict[str, PageRow]
    _editing: str | None
    _ticked: int
    _total_minor: int
    _bad: int
    _bank_failures: dict[int, BankFailure]

    def _refresh_row(self, key: str) -> None:
        table = self.query_one(InvoiceTable)
        if not table.has_row(key):
            return  # not added yet: it shows the row as it is when it is added
        row = self._rows[key]
        # Wider when a typed text (a bad amount, shown as typed) needs it: never cut.
        table.set_cells(key, {"tick": tick_cell(row),
                              "amount": amount_of_row(row, self.firm.locale)})

    # --- ticking ----------------------------------------------------------------------

    def _change(self, key: str, **changes) -> None:
        """Apply changes to one row, keeping the running count and total exact."""
        row = self._rows[key]
        before = row.contribution()
        for name, value in changes.items():
            setattr(row, name, value)
        after = row.contribution()
        self._ticked += after[0] - before[0]
        self._total_minor += after[1] - before[1]
        self._bad += after[2] - before[2]
        self._refresh_row(key)

    def _set_ticked(self, key: str, ticked: bool) -> None:
        if ticked and self.single_invoice:
            others = [k for k, r in self._rows.items() if r.ticked and k != key]
            for other in others:
                self._change(other, ticked=False)
            if others:
                self.notify(
                    "One invoice per payment: "
                    + ", ".join(self._rows[k].invoice.number for k in others)
                    + " unticked.",
                    markup=False,
                )
        self._change(key, ticked=ticked)
        self._summary()

    @on(InvoiceTable.Toggle)
    def _toggle(self, message: InvoiceTable.Toggle) -> None:
        self.query_one(InvoiceTable).hold_batches()
        row = self._rows.get(message.row_key)
        if row is not None:
            self._set_ticked(message.row_key, not row.ticked)

    def action_select_all(self) -> None:
        if self.single_invoice:
            self.notify("This payment takes one invoice only.", markup=False)
            return
        for key, row in self._rows.items():
            if not row.ticked:
                self._change(key, ticked=True)
        self._summary()

    def action_select_none(self) -> None:
        for key, row in self._rows.items():
            if row.ticked:
                self._change(key, ticked=False)
        self._summary()

    def action_instalment(self) -> None:
        """Set the highlighted invoice's amount to the instalment now due on its plan."""
        key = self.query_one(InvoiceTable).current_key()
        row = self._rows.get(key) if key else None
        if row is None:
            return
        plan = row.invoice.instalment_due
        if plan is None:
            self.notify(f"{row.invoice.number} has no payment plan.", markup=False)
            return
        self._set_text(key, format_amount_plain(plan.amount, self.firm.locale))
        if key == self._editing:
            self.query_one(AmountField).load(key, self._rows[key].text)

    # --- amounts ------------------------------------------------------------------------

    def _set_text(self, key: str, text: str) -> None:
        row = self._rows[key]
        amount, error = parse_row_amount(row.invoice, text, self.firm.locale)
        if not row.ticked:
            self._set_ticked(key, True)
        self._change(key, text=text, amount=amount, error=error)
        self._summary()
        if key == self._editing:
            self._show_error(row)

    @on(DataTable.RowHighlighted, "#payment-table")
    def _highlighted(self, event: DataTable.RowHighlighted) -> None:
        self._show_current()

    def _show_current(self) -> None:
        key = self.query_one(InvoiceTable).current_key()
        row = self._rows.get(key) if key else None
        self._editing = key
        field = self.query_one(AmountField)
        label = self.query_one("#payment-amount-label", Static)
        current = self.query_one("#payment-current", Static)
        if row is None:
            field.load(None, "")
            label.update("Amount")
            current.update("")
            return
        inv = row.invoice
        label.update(Text(f"Amount for {inv.number}"))
        field.load(key, row.text)  # not the payer typing
        self._show_error(row)
        lines = detail_lines(inv, self.firm.locale, code_payer=self.payer.kind == "code")
        failure = self._bank_failures.get(inv.invoice_id)
        if failure is not None:
            lines.append("\n" + failure_sentence(failure, self.firm.locale), style="bold red")
        current.update(lines)

    def _show_error(self, row: PageRow) -> None:
        error = self.query_one("#payment-amount-error", Static)
        if str(error.render()) != (row.error or ""):  # a new layout only when it changes
            error.update(Text(row.error or ""))

    def _amount_typed(self, key: str, text: str) -> None:
        self.query_one(InvoiceTable).hold_batches()
        # The invoice the text was typed for, even if the highlight has moved since.
        row = self._rows.get(key)
        if row is not None and row.text != text:
            self._set_text(key, text)

    def _read_field(self) -> None:
        """Take what the amount field holds now, even if its last change is still on its
        way here as a message: what is on screen is what gets paid."""
        field = self.query_one(AmountField)
        row = self._rows.get(field.key) if field.key is not None else None
        if row is not None and row.text != field.value:
            self._set_text(field.key, field.value)

    @on(InvoiceTable.Edit)
    def _edit(self, message: InvoiceTable.Edit) -> None:
        field = self.query_one(AmountField)
        self.set_focus(field)
        field.select_all()

    def action_back_to_list(self) -> None:
        table = self.query_one(InvoiceTable)
        if self.focused is not table:
            table.focus()
        elif self.payer.kind == "staff":
            self.action_leave()  # back to the front desk, as the Back button
        else:
            from tui.screens.sign_out import SignOutScreen

            self.app.push_screen(SignOutScreen(), callback=self._sign_out_answered)

    def _sign_out_answered(self, sign_out: bool | None) -> None:
        if sign_out:
            self.action_leave()

    # --- the footer line ------------------------------------------------------------------

    def _summary(self) -> None:
        total = format_money(Money(self._total_minor, self.firm.currency), self.firm.locale)
        noun = "invoice" if self._ticked == 1 else "invoices"
        text = Text(f"{self._ticked} {noun} ticked · total {total}", style="bold")
        if self._bad:
            text.append(
                f"  ·  {self._bad} amount{'s' if self._bad != 1 else ''} to fix", style="red"
            )
        # One line whatever it says: no new layout for it.
        self.query_one("#payment-summary", Static).update(text, layout=False)

    def summary_text(self) -> str:
        """What the footer line says (for tests and the benchmark)."""
        return str(self.query_one("#payment-summary", Static).render())
