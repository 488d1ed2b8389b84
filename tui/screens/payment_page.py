"""The payment page: every payable invoice of the payer, across their cases, each with a
tick and an amount; the footer counts the ticked invoices and totals them as the payer
types.

Amounts come only from what the amount field holds: every change is reported with the
invoice it was typed for (AmountField's on_typed), and the field's current text is read again
before the page hands the amounts on. Textual can reorder a burst of keys when some are
bindings (tui.widgets.fields keeps a field's keys in order), and a reordered key must never
change an amount silently. The review screen shows every amount again before anything is
charged.
"""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import events, on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Input, Static

from billing.bank_values import BankFailure, BankNotes, WaitingVerification
from billing.values import BalanceChange, PayableInvoice, Payer
from tui.flow_values import FlowStep, InvoicesChosen, SelectedInvoice
from tui.screens.payment_bank import OFFER, later_visit, notes_text
from tui.screens.payment_editing import PaymentRowsEditor
from tui.screens.payment_rows import (
    HEADER_SORTS,
    SORT_ORDER,
    SORTS,
    PageRow,
    column_header,
    columns_for,
    intro_text,
    merge_rows,
    row_cells,
)
from tui.widgets import AmountField, InvoiceTable, ScreenTitle

__all__ = ["PaymentPageScreen"]

# How often a page on screen reads its balances again (besides whenever it is shown again).
REFRESH_SECONDS = 20.0


class PaymentPageScreen(PaymentRowsEditor):
    CSS_PATH = "payment_page.tcss"
    HELP = (
        "Tick the invoices to pay (space, or click a row) and set the amount of each: "
        "Enter or Tab moves to the amount field, where you type; Enter goes back to the list. "
        "The total at the bottom follows what you type. Each invoice becomes its own card "
        "transaction; you see them all before paying."
    )

    BINDINGS = [
        Binding("a", "select_all", "All", id="payment.select_all"),
        Binding("n", "select_none", "None", id="payment.select_none"),
        Binding("i", "instalment", "Plan", id="payment.instalment"),
        Binding("d", "details", "Details", id="payment.details"),
        Binding("s", "sort", "Sort", show=False, id="payment.sort"),
        Binding("c", "continue", "Continue", id="payment.continue"),
        # A bank account waiting for its microdeposit code (a later visit): enter it. Not in
        # the footer nor the help (no description): it does something only when the line
        # above the table offers it ("press V"), beside its button.
        Binding("v", "verify_bank", "", show=False, id="payment.verify_bank"),
        # From the amount field, back to the list; from the list, leave the page (a client
        # is asked first: SignOutScreen).
        Binding("escape", "back_to_list", "Back", show=False, id="payment.back_to_list"),
        # Not in the footer (the Sign out / Back button beside Continue is always shown), so
        # that the footer fits 80 columns with F1 Help; the help screen lists it.
        Binding("ctrl+o", "leave", "Sign out", show=False, id="payment.leave"),
    ]

    @dataclass
    class Loaded(Message):
        invoices: list[PayableInvoice]
        # Bank debits still settling (held, so not payable; shown so nobody pays them
        # twice), waiting for the account's code, or failed lately (billing BankNotes).
        notes: BankNotes = BankNotes()

    def __init__(self, payer: Payer) -> None:
        super().__init__()
        self.payer = payer
        self._rows: dict[str, PageRow] = {}
        self._sort = "case"
        self._editing: str | None = None
        self._ticked = 0
        self._total_minor = 0
        self._bad = 0
        self._columns: tuple[tuple[str, str], ...] = ()
        # Balances are read again whenever the page is shown again; the first read is the
        # page's own, later ones keep what the payer chose (merge_rows).
        self._loaded_once = False
        self._shown_once = False
        # What the engine reported when it refused a payment because balances changed.
        self._changes: dict[int, BalanceChange] = {}
        # The payer's bank debits: failed lately, by invoice id (marked on their rows), and
        # those waiting for the code from the bank statement (offered: V).
        self._bank_failures: dict[int, BankFailure] = {}
        self._waiting: tuple[WaitingVerification, ...] = ()

    # --- layout -------------------------------------------------------------------------

    def compose(self) -> ComposeResult:
        # The invoices are read while the page is put together; Loaded is handled after
        # on_mount all the same (Textual composes and mounts a screen before its queue).
        self._load()
        # A payment-code holder is not told whose invoice it is.
        title = ("Pay with a payment code" if self.payer.kind == "code"
                 else f"Pay invoices · {self.payer.client_name}")
        yield ScreenTitle(title)
        yield Static("Loading your invoices...", id="payment-intro")
        yield Static("", id="payment-changes")
        yield Static("", id="payment-bank-pending")
        yield Button(OFFER, id="payment-bank-verify", compact=True)
        yield InvoiceTable(id="payment-table")
        yield Static("", id="payment-current")
        with Horizontal(id="payment-amount-row"):
            yield Static("Amount", id="payment-amount-label")
            yield AmountField(id="payment-amount", return_to="#payment-table", disabled=True,
                              compact=True, on_typed=self._amount_typed)
            yield Static("", id="payment-amount-error")
        with Horizontal(id="payment-summary-row"):
            yield Static("", id="payment-summary")
            yield Button(self._leave_label(), id="payment-leave", compact=True)
            yield Button("Continue", id="payment-continue", variant="primary", compact=True)
        yield Footer()

    def _leave_label(self) -> str:
        return "Back" if self.payer.kind == "staff" else "Sign out"

    @property
    def firm(self):
        return self.app.firm

    @property
    def single_invoice(self) -> bool:
        return self.payer.kind == "code" or not self.firm.multi_invoice_payments_enabled

    def on_mount(self) -> None:
        self._set_columns(self.app.size.width)
        self.query_one("#payment-changes", Static).display = False
        self.query_one(InvoiceTable).focus()
        self.set_interval(REFRESH_SECONDS, self._refresh_while_shown)

    def _refresh_while_shown(self) -> None:
        # A page left open while another terminal takes a payment catches up by itself;
        # not while the payer is typing an amount.
        if self.app.screen is self and not isinstance(self.focused, Input):
            self.reload()

    def on_screen_resume(self) -> None:
        # Back from the card page, a refused payment, the details or the help: the balances
        # are read again, so the page never shows one older than the last payment made.
        if self._shown_once:
            self.reload()
        self._shown_once = True

    def balances_changed(self, changes: tuple[BalanceChange, ...]) -> None:
        """The engine refused because balances changed: the next read of the balances
        (when the page is shown again) says why each of these went down."""
        self._changes = {c.invoice_id: c for c in changes}

    def on_resize(self, event: events.Resize) -> None:
        self._set_columns(event.size.width)

    def _set_columns(self, width: int) -> None:
        """The table's columns for this width: a narrow screen leaves out the issue date
        (shown under the table) so that nothing has to scroll sideways."""
        columns = columns_for(width, code_payer=self.payer.kind == "code")
        if columns == self._columns:
            return
        self._columns = columns
        table = self.query_one(InvoiceTable)
        keep = table.current_key()
        table.clear(columns=True)
        for key, label in columns:
            table.add_column(column_header(key, label, self.firm.currency, self.firm.locale),
                             key=key)
        if self._rows:
            self._fill_table(keep=keep)

    def reload(self) -> None:
        """Fetch the invoices again (balances change after a payment)."""
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        desk = self.app.desk
        invoices = desk.payable_invoices(self.payer)
        # A code holder sees only the code's invoice, nothing else of the client.
        # One query, whatever the number of debits (billing.bank_pending.bank_notes).
        notes = BankNotes() if self.payer.kind == "code" else desk.bank_notes(self.payer)
        self.post_message(self.Loaded(invoices, notes))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        locale = self.firm.locale
        failures_moved = self._show_bank_notes(message.notes)
        if self._loaded_once:
            same = {str(i.invoice_id): i for i in message.invoices} == {
                k: r.invoice for k, r in self._rows.items()}
            if same and not self._changes and not failures_moved:
                return  # nothing moved: the list stays exactly as the payer left it
            self._read_field()  # what is in the amount field counts, even mid-change
            keep = self.query_one(InvoiceTable).current_key()
            self._rows, notes = merge_rows(self._rows, message.invoices, locale, self._changes)
            self._changes = {}
            self._recount()
            self._fill_table(keep=keep)
            if notes:
                self._show_changes(notes)
        else:
            self._loaded_once = True
            tick_all = not self.single_invoice or len(message.invoices) == 1
            self._rows = {}
            for invoice in message.invoices:
                self._rows[str(invoice.invoice_id)] = PageRow(
                    invoice=invoice, ticked=tick_all, typed=None, amount=invoice.balance,
                    locale=locale,
                )
            self._recount()
            self._fill_table()
        self._intro()
        self._summary()
        field = self.query_one("#payment-amount", Input)
        field.disabled = not self._rows
        self._show_current()

    def _show_bank_notes(self, notes: BankNotes) -> bool:
        """The bank debits' lines above the table and the offer to enter the code; True
        when the failures marked on rows changed."""
        box = self.query_one("#payment-bank-pending", Static)
        box.update(notes_text(notes, self.firm.locale))
        box.display = bool(notes.pending or notes.failed)
        self._waiting = notes.waiting
        self.query_one("#payment-bank-verify", Button).display = bool(notes.waiting)
        failures = {f.invoice_id: f for f in notes.failed}
        moved = failures.keys() != self._bank_failures.keys()
        self._bank_failures = failures
        return moved

    def action_verify_bank(self) -> None:
        """A later visit: the code from the bank statement; its debits start as they were
        authorized. With several bank payments waiting, the one of the current row's
        invoice (an invoice part-paid by bank debit stays on the list), else the payer
        chooses (BankWaitingChoiceScreen)."""
        if not self._waiting:
            self.notify("No bank account is waiting for a code.", markup=False)
            return
        if len(self._waiting) == 1:
            self._open_verify(self._waiting[0].checkout_id)
            return
        key = self.query_one(InvoiceTable).current_key()
        row = self._rows.get(key) if key is not None else None
        number = row.invoice.number if row is not None else None
        mine = [w for w in self._waiting if number in {d.invoice_number for d in w.debits}]
        if mine:
            self._open_verify(mine[0].checkout_id)
            return
        from tui.screens.bank_waiting_choice import BankWaitingChoiceScreen

        self.app.push_screen(BankWaitingChoiceScreen(self._waiting, self.firm.locale),
                             self._open_verify)

    def _open_verify(self, checkout_id: int | None) -> None:
        chosen = next((w for w in self._waiting if w.checkout_id == checkout_id), None)
        if chosen is None:
            return  # Escape from the choice, or it stopped waiting meanwhile
        from tui.screens.bank_verify import BankVerifyScreen

        waiting, summary = later_visit(chosen, self.firm.locale)
        self.app.push_screen(BankVerifyScreen(self.payer, (), waiting, summary=summary,
                                              later=True))

    @on(Button.Pressed, "#payment-bank-verify")
    def _verify_pressed(self) -> None:
        self.action_verify_bank()

    def _recount(self) -> None:
        ticked = [r.contribution() for r in self._rows.values()]
        self._ticked = sum(t for t, _, _ in ticked)
        self._total_minor = sum(m for _, m, _ in ticked)
        self._bad = sum(b for _, _, b in ticked)

    def _show_changes(self, notes: list[str]) -> None:
        """Say which invoices changed and how, above the list, until the payer goes on."""
        box = self.query_one("#payment-changes", Static)
        box.update(Text("Balances changed since you chose:\n" + "\n".join(notes)))
        box.display = True
        self.notify("\n".join(notes), title="Balances changed", severity="warning",
                    markup=False, timeout=10)

    def changes_text(self) -> str:
        """What the page says changed (for tests)."""
        box = self.query_one("#payment-changes", Static)
        return str(box.render()) if box.display else ""

    def _intro(self) -> None:
        self.query_one("#payment-intro", Static).update(intro_text(
            self._rows, online=self.firm.online_payments_enabled,
            code_payer=self.payer.kind == "code", single_invoice=self.single_invoice))

    # --- the table ----------------------------------------------------------------------

    def _fill_table(self, keep: str | None = None) -> None:
        """Show the rows in the page's order: a screenful now, the rest in batches."""
        _, order = SORTS[self._sort]
        keys = [key for key, _ in sorted(self._rows.items(), key=lambda kv: order(kv[1]))]
        locale = self.firm.locale

        failed = self._bank_failures
        numbered = "number" in dict(self._columns)
        at = [k for k, _ in self._columns].index("number") if numbered else -1

        def cells(key: str) -> list[Text]:
            row = self._rows[key]
            shown = row_cells(row, locale, self._columns)
            if numbered and row.invoice.invoice_id in failed:
                # Its bank payment failed: the line under the table says when and why.
                shown[at] = Text(f"{row.invoice.number} !", style="bold red")
            return shown

        self.query_one(InvoiceTable).fill(keys, cells, first=self.app.size.height,
                                          keep=keep if keep in self._rows else None)

    # --- sorting ----------------------------------------------------------------------------

    def action_sort(self) -> None:
        self._sort = SORT_ORDER[(SORT_ORDER.index(self._sort) + 1) % len(SORT_ORDER)]
        self._fill_table(keep=self.query_one(InvoiceTable).current_key())
        self.notify(f"Sorted by {SORTS[self._sort][0]}", markup=False, timeout=2)

    @on(DataTable.HeaderSelected, "#payment-table")
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        sort = HEADER_SORTS.get(event.column_key.value or "")
        if sort is not None:
            self._sort = sort
            self._fill_table(keep=self.query_one(InvoiceTable).current_key())

    # --- leaving ---------------------------------------------------------------------------

    def action_details(self) -> None:
        if not self.payer.may_see_details:
            self.notify("Invoice details are shown after signing in to the portal.", markup=False)
            return
        key = self.query_one(InvoiceTable).current_key()
        if key is None:
            return
        from tui.screens.invoice_details import InvoiceDetailsScreen

        self.app.push_screen(InvoiceDetailsScreen(self.payer, self._rows[key].invoice))

    def selection(self) -> tuple[SelectedInvoice, ...]:
        """The ticked invoices with valid amounts, in the order shown."""
        self._read_field()
        table = self.query_one(InvoiceTable)
        table.finish()
        chosen = []
        for table_row in table.ordered_rows:
            row = self._rows[table_row.key.value]
            if row.ticked and row.amount is not None and row.error is None:
                chosen.append(SelectedInvoice(row.invoice, row.amount))
        return tuple(chosen)

    @on(Button.Pressed, "#payment-continue")
    def action_continue(self) -> None:
        if not self.firm.online_payments_enabled:
            self.notify("Online payments are switched off for this firm.", markup=False)
            return
        self._read_field()
        if self._bad:
            first = next(k for k, r in self._rows.items() if r.ticked and r.error)
            table = self.query_one(InvoiceTable)
            table.finish()
            table.move_cursor(row=table.get_row_index(first), animate=False)
            self.notify(
                f"Fix the amount of {self._rows[first].invoice.number}: {self._rows[first].error}",
                severity="warning", markup=False,
            )
            return
        chosen = self.selection()
        if not chosen:
            self.notify("Tick at least one invoice to pay.", severity="warning", markup=False)
            return
        self.query_one("#payment-changes", Static).display = False
        self.post_message(FlowStep(InvoicesChosen(self.payer, chosen)))

    @on(Button.Pressed, "#payment-leave")
    def action_leave(self) -> None:
        if self.payer.kind == "staff":
            self.dismiss()
        else:
            self.app.wipe_session()

