"""One invoice in full, for a signed-in client or staff: its line items, its payment plan
(each instalment's due date, amount and whether it is paid) and its earlier payments and
refunds. Descriptions are shown exactly as written (never as markup)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from babel.dates import format_date, format_datetime
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import Button, DataTable, Footer, Static

from billing.localtime import firm_zone
from billing.plurals import plural
from billing.values import InvoiceDetails, PayableInvoice, Payer, PlanInstalmentRow
from models.money import format_money
from tui.screens import PaydeskScreen
from tui.widgets import ScreenTitle, amount_cell


class InvoiceDetailsScreen(PaydeskScreen):
    CSS_PATH = "invoice_details.tcss"
    HELP = ("The invoice's line items, its payment plan if it has one, and its earlier "
            "payments and refunds. Escape goes back.")

    BINDINGS = [Binding("escape", "back", "Back", id="details.back")]

    @dataclass
    class Loaded(Message):
        details: InvoiceDetails

    def __init__(self, payer: Payer, invoice: PayableInvoice) -> None:
        super().__init__()
        self.payer = payer
        self.invoice = invoice

    def compose(self) -> ComposeResult:
        inv = self.invoice
        locale = self.app.firm.locale
        yield ScreenTitle(f"Invoice {inv.number}")
        head = Text()
        head.append(f"{inv.number}  ", style="bold")
        head.append(f"{inv.case_number} {inv.case_title}")
        head.append(
            f"\nIssued {format_date(inv.issue_date, 'medium', locale=locale)} · due "
            f"{format_date(inv.due_date, 'medium', locale=locale)} · total "
            f"{format_money(inv.total, locale)} · paid {format_money(inv.paid, locale)} · "
            f"balance {format_money(inv.balance, locale)}"
        )
        yield Static(head, id="details-head")
        yield Static("Line items", classes="details-heading")
        yield DataTable(id="details-lines", cursor_type="row", zebra_stripes=True)
        # Shown once the details say the invoice has a payment plan.
        yield Static("Payment plan", id="details-plan-heading", classes="details-heading")
        yield DataTable(id="details-plan", cursor_type="row", zebra_stripes=True)
        yield Static("Payments and refunds", classes="details-heading")
        yield DataTable(id="details-history", cursor_type="row", zebra_stripes=True)
        yield Button("Back", id="details-back", compact=True)
        yield Footer()

    def on_mount(self) -> None:
        lines = self.query_one("#details-lines", DataTable)
        for key, label in (("date", "Date"), ("description", "Description"),
                           ("amount", "Amount")):
            lines.add_column(label, key=key)
        plan = self.query_one("#details-plan", DataTable)
        for key, label in (("instalment", "Instalment"), ("due", "Due"), ("amount", "Amount"),
                           ("paid", "Paid"), ("status", "Status")):
            plan.add_column(label, key=key)
        for hidden in ("#details-plan-heading", "#details-plan"):
            self.query_one(hidden).display = False
        history = self.query_one("#details-history", DataTable)
        for key, label in (("date", "Date"), ("kind", "What"), ("detail", "How"),
                           ("amount", "Amount"), ("status", "Status"), ("reference", "Receipt")):
            history.add_column(label, key=key)
        lines.focus()
        self._load()

    @work(thread=True, exclusive=True, exit_on_error=False)
    def _load(self) -> None:
        self.post_message(self.Loaded(
            self.app.desk.invoice_details(self.payer, self.invoice.invoice_id)))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        locale = self.app.firm.locale
        lines = self.query_one("#details-lines", DataTable)
        for line in message.details.lines:
            lines.add_row(
                Text(format_date(line.service_date, "short", locale=locale)
                     if line.service_date else ""),
                Text(line.description), amount_cell(line.amount, locale))
        if message.details.plan:
            self._show_plan(message.details.plan)
        history = self.query_one("#details-history", DataTable)
        for row in message.details.history:
            history.add_row(
                Text(format_datetime(row.at.replace(tzinfo=row.at.tzinfo or dt.UTC), "short",
                                     tzinfo=firm_zone(self.app.firm.time_zone),
                                     locale=locale)),
                Text(row.kind), Text(row.detail), amount_cell(row.amount, locale),
                Text(row.status), Text(row.reference or ""))
        if not message.details.history:
            history.add_row(Text(""), Text("No payments yet"), Text(""), Text(""), Text(""),
                            Text(""))

    def _show_plan(self, schedule: tuple[PlanInstalmentRow, ...]) -> None:
        locale = self.app.firm.locale
        self.query_one("#details-plan-heading", Static).update("Payment plan: " + plural(
            len(schedule), locale, one="1 instalment", other="{n} instalments"))
        table = self.query_one("#details-plan", DataTable)
        for item in schedule:
            table.add_row(
                Text(f"{item.sequence} of {item.of}"),
                Text(format_date(item.due_date, "medium", locale=locale)),
                amount_cell(item.amount, locale),
                amount_cell(item.paid, locale),
                plan_status(item, locale),
            )
        for shown in ("#details-plan-heading", "#details-plan"):
            self.query_one(shown).display = True

    @on(Button.Pressed, "#details-back")
    def action_back(self) -> None:
        self.dismiss()


def plan_status(item: PlanInstalmentRow, locale: str) -> Text:
    """An instalment's state in words (not by colour alone): "Paid", "Unpaid",
    "Part paid, $400.00 left", and whether it is the one due now or overdue."""
    if item.state == "paid":
        return Text("Paid")
    words = ("Unpaid" if item.state == "unpaid"
             else f"Part paid, {format_money(item.left, locale)} left")
    if item.overdue:
        return Text(f"{words} · overdue", style="bold red")
    if item.due_now:
        return Text(f"{words} · due now", style="bold")
    return Text(words)
