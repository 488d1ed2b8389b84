"""The payment page's rows: what the page keeps for each invoice (ticked or not, the text
typed, what it means), how a row reads in the table, and how a typed amount is checked.
Plain values and functions, so the page module stays about the screen."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache

from babel.dates import format_date as babel_format_date
from rich.cells import cell_len
from rich.text import Text

from billing.values import BalanceChange, PayableInvoice
from models.money import (
    AmountError,
    Money,
    MoneyError,
    check_amount,
    format_amount_plain,
    format_money,
    parse_amount,
    stripe_minimum_charge,
)
from tui.widgets import amount_cell

COLUMNS = (
    ("tick", ""), ("number", "Invoice"), ("case", "Case"), ("issued", "Issued"),
    ("due", "Due"), ("balance", "Balance"), ("plan", "Plan due"), ("amount", "Amount"),
)
# Narrower than this, the issue date leaves the table (the line under the table shows it for
# the highlighted invoice), so that the table fits 80 columns without scrolling sideways.
WIDE_FROM = 100
NARROW_COLUMNS = tuple(column for column in COLUMNS if column[0] != "issued")
SORTS = {
    "case": ("case", lambda r: (r.invoice.case_number, r.invoice.due_date, r.invoice.number)),
    "due": ("due date", lambda r: (r.invoice.due_date, r.invoice.number)),
    "balance": ("balance", lambda r: (-r.invoice.balance.minor, r.invoice.number)),
    "number": ("invoice number", lambda r: (r.invoice.number,)),
}
SORT_ORDER = tuple(SORTS)
# The largest amount Stripe takes in one charge: 99,999,999 minor units ($999,999.99).
LARGEST_CHARGE_MINOR = 99_999_999
# Clicking these column headers sorts by them.
HEADER_SORTS = {"number": "number", "case": "case", "due": "due", "balance": "balance"}


@lru_cache(maxsize=4096)
def format_date(day: dt.date, style: str, *, locale: str) -> str:
    """Babel's format_date, once per day shown: a page of 2,000 invoices shows few days."""
    return babel_format_date(day, style, locale=locale)


@dataclass
class PageRow:
    """The page's state for one invoice: ticked or not, what is typed, what it means."""

    invoice: PayableInvoice
    ticked: bool
    # What the payer typed; None until they type: the text is then the balance, formatted
    # only when something reads it (a page of 2,000 invoices shows a screenful at first).
    typed: str | None
    amount: Money | None
    locale: str
    error: str | None = None

    @property
    def text(self) -> str:
        """What the amount field shows for this invoice."""
        if self.typed is None:
            return format_amount_plain(self.invoice.balance, self.locale)
        return self.typed

    @text.setter
    def text(self, value: str) -> None:
        self.typed = value

    def contribution(self) -> tuple[int, int, int]:
        """(ticked, amount in minor units, bad) as this row adds to the footer line."""
        if not self.ticked:
            return (0, 0, 0)
        return (1, self.amount.minor if self.amount else 0, 1 if self.error else 0)


def parse_row_amount(invoice: PayableInvoice, text: str, locale: str) -> tuple[Money | None, str | None]:
    """(amount, None) for a good amount; (None, the reason) for a bad one."""
    try:
        amount = parse_amount(text, invoice.currency, locale)
        check_amount(amount, balance=invoice.balance,
                     minimum=stripe_minimum_charge(invoice.currency), locale=locale)
    except (AmountError, MoneyError) as exc:
        return None, str(exc)
    return amount, None


def intro_text(rows: Mapping[str, PageRow], *, online: bool, code_payer: bool,
               single_invoice: bool) -> str:
    """The line above the table: what there is to pay, and how."""
    if not rows:
        return "There is nothing to pay right now. Thank you!"
    if not online:
        return "Online payments are switched off for this firm; please ask the front desk."
    if code_payer:
        return "This payment code opens this one invoice."
    if single_invoice:
        return "This firm takes one invoice per payment: tick one invoice and set the amount."
    cases = len({r.invoice.case_number for r in rows.values()})
    count = len(rows)
    return (f"{count} invoice{'s' if count != 1 else ''} across {cases} "
            f"case{'s' if cases != 1 else ''}. "
            "Untick what you do not want to pay now; each invoice is its own transaction.")


def tick_cell(row: PageRow) -> Text:
    if row.ticked and row.error:
        return Text("[!]", style="bold red")
    return Text("[x]" if row.ticked else "[ ]", style="bold" if row.ticked else "dim")


def amount_of_row(row: PageRow, locale: str) -> Text:
    if row.error:
        return Text(row.text or "?", style="bold red", justify="right")
    return amount_cell(row.amount, locale, style="bold" if row.ticked else "dim")


def detail_lines(inv: PayableInvoice, locale: str, *, code_payer: bool = False) -> Text:
    """The two lines under the table for the highlighted invoice, short enough for 80
    columns: its case, then what a narrow table leaves out (the issue date) and its plan.
    A payment-code holder sees no issue date (DESIGN.md section 1)."""
    text = Text(no_wrap=True, overflow="ellipsis")
    text.append(inv.case_number, style="bold")
    text.append(f"  {inv.case_title}\n")
    parts: list[tuple[str, str]] = []
    if not code_payer:
        parts.append((f"Issued {format_date(inv.issue_date, 'medium', locale=locale)}", ""))
    plan = inv.instalment_due
    if plan is not None:
        due = format_date(plan.due_date, "medium", locale=locale)
        parts.append((
            f"plan {plan.sequence} of {plan.of}: {format_money(plan.amount, locale)} "
            f"due {due}" + (" (overdue)" if plan.overdue else ""),
            "red" if plan.overdue else "",
        ))
    for index, (words, style) in enumerate(parts):
        text.append(("  ·  " if index else "") + words, style=style)
    return text


def column_header(key: str, label: str, currency: str, locale: str) -> Text:
    """A column's header. The Amount column's is as wide as the largest amount Stripe takes
    in one charge, formatted ("$999,999.99"): any amount up to it shows whole, and the
    column keeps its width while the payer types."""
    if key != "amount":
        return Text(label)
    widest = format_money(Money(LARGEST_CHARGE_MINOR, currency), locale)
    return Text(label.ljust(cell_len(widest)))


def columns_for(width: int, *, code_payer: bool = False) -> tuple[tuple[str, str], ...]:
    """The table's (key, header) columns for a screen `width` cells wide. A payment-code
    holder sees only number, case, due date and balance of the invoice: never its issue
    date (DESIGN.md section 1)."""
    return COLUMNS if width >= WIDE_FROM and not code_payer else NARROW_COLUMNS


def row_cells(row: PageRow, locale: str, columns=COLUMNS) -> list[Text]:
    """The table cells of one invoice, in the order of `columns`. Database text stays
    literal. A bad amount is marked by its tick cell ("[!]") and its red amount; the reason
    is shown under the table, where it has the room to be read whole."""
    inv = row.invoice
    plan = inv.instalment_due
    cells = {
        "tick": tick_cell(row),
        "number": Text(inv.number),
        "case": Text(inv.case_number),
        "issued": Text(format_date(inv.issue_date, "short", locale=locale)),
        "due": Text(format_date(inv.due_date, "short", locale=locale)),
        "balance": amount_cell(inv.balance, locale),
        "plan": amount_cell(plan.amount, locale, style="bold red" if plan.overdue else "")
        if plan else Text(""),
        "amount": amount_of_row(row, locale),
    }
    return [cells[key] for key, _ in columns]


def _why(change: BalanceChange | None) -> str:
    """Why a balance went down, as far as the page knows."""
    if change is None:
        return "paid or being paid elsewhere"
    if change.in_progress.minor:
        return "a payment is in progress on it elsewhere"
    return "paid elsewhere"


def merge_rows(rows: Mapping[str, PageRow], invoices: list[PayableInvoice], locale: str,
               changes: Mapping[int, BalanceChange] | None = None,
               ) -> tuple[dict[str, PageRow], list[str]]:
    """The page's rows for balances read again, keeping what the payer chose, and one line
    per invoice that changed saying how ("INV-1013: the balance is now $0.00 (paid
    elsewhere); it was taken off this payment."). `changes` are what the engine found when
    it refused (they say why a balance went down).

    An invoice with nothing left leaves the page (and the payment). An amount above the new
    balance is lowered to it, and the line says so; if the new balance cannot be paid by
    card (under the smallest card payment), the amount is flagged to be fixed instead. An
    invoice new on the page comes unticked. Nothing changes without a line saying so."""
    changes = changes or {}
    fresh = {str(i.invoice_id): i for i in invoices}
    merged: dict[str, PageRow] = {}
    notes: list[str] = []
    for key, row in rows.items():
        inv = fresh.get(key)
        hint = changes.get(row.invoice.invoice_id)
        old = row.invoice.balance
        money = lambda m: format_money(m, locale)  # noqa: E731 - a local shorthand
        if inv is None:
            head = (f"{row.invoice.number}: the balance is now "
                    f"{money(Money(0, old.currency))} ({_why(hint)})")
            notes.append(head + ("; it was taken off this payment." if row.ticked else "."))
            continue
        # An untouched text stays the balance it showed, even if the balance moved.
        typed = row.typed if inv.balance == old else row.text
        new = PageRow(invoice=inv, ticked=row.ticked, typed=typed, amount=row.amount,
                      locale=locale, error=row.error)
        merged[key] = new
        over = (row.ticked and row.amount is not None
                and row.amount.minor > inv.balance.minor)
        if inv.balance == old and not over:
            continue
        head = f"{inv.number}: the balance is now {money(inv.balance)}"
        head += f" ({_why(hint)})" if inv.balance.minor < old.minor else f" (was {money(old)})"
        if over:
            capped = format_amount_plain(inv.balance, locale)
            amount, error = parse_row_amount(inv, capped, locale)
            if error is None:
                new.text, new.amount, new.error = capped, amount, None
                notes.append(f"{head}; the amount was lowered from {money(row.amount)} to "
                             f"{money(amount)}.")
            else:
                new.amount, new.error = parse_row_amount(inv, row.text, locale)
                notes.append(f"{head}; set a new amount for it, or untick it.")
            continue
        new.amount, new.error = parse_row_amount(inv, new.text, locale)
        notes.append(head + ".")
    for key, inv in fresh.items():
        if key not in merged and key not in rows:
            merged[key] = PageRow(invoice=inv, ticked=False, typed=None,
                                  amount=inv.balance, locale=locale)
    return merged, notes


def pending_text(lines, locale: str) -> Text:
    """The bank debits still settling, one line each: "INV-1001 · $500.00 · bank payment
    pending (settles in a few business days)". They are held: not on the list to pay."""
    text = Text()
    for line in lines:
        if text.plain:
            text.append("\n")
        text.append(f"{line.invoice_number} · {format_money(line.amount, locale)} · ")
        if line.status == "waiting":
            text.append("bank payment waiting for the account's verification", style="bold")
        else:
            text.append("bank payment pending", style="bold")
            text.append(" (settles in a few business days)")
    return text
