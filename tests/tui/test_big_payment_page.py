"""A payment page of 2,000 invoices across 200 cases: the first screenful is shown at once
and the rest is added in batches, and meanwhile everything the page does keeps working
(typing, ticking, sorting, the footer total, continuing). The batches are held back here
(`Batches`) so that each test looks at the page while rows are still missing."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.values import InstalmentDue, PayableInvoice
from models.money import Money, format_money
from tests.tui.fakes import DANA, FIRM, FIXED_NOW, FakeDesk, screen_text, settle, type_text
from tui.app import PaydeskApp
from tui.screens.payment_page import PaymentPageScreen
from tui.screens.payment_rows import SORTS
from tui.widgets import InvoiceTable, invoice_table

INVOICES, CASES = 2000, 200
SIZE = (120, 30)


def big_client() -> list[PayableInvoice]:
    invoices = []
    start = dt.date(2025, 1, 1)
    for n in range(INVOICES):
        case = n % CASES
        total = 5000 + (n * 7919) % 500000
        plan = None
        if n % 10 == 0:
            plan = InstalmentDue(Money(total // 4, "USD"), start + dt.timedelta(days=60), 1, 4,
                                 overdue=n % 20 == 0)
        invoices.append(PayableInvoice(
            invoice_id=10_000 + n, number=f"INV-{20000 + n}", client_id=1,
            case_number=f"BIG-{case:04d}", case_title=f"Matter number {case}",
            issue_date=start + dt.timedelta(days=n % 300),
            due_date=start + dt.timedelta(days=30 + n % 300),
            total=Money(total, "USD"), paid=Money(0, "USD"), instalment_due=plan,
        ))
    return invoices


INVOICE_LIST = big_client()
TOTAL = sum(i.balance.minor for i in INVOICE_LIST)


class _Row:  # what SORTS' keys read
    def __init__(self, invoice: PayableInvoice) -> None:
        self.invoice = invoice


def keys_sorted(sort: str) -> list[str]:
    _, order = SORTS[sort]
    return [str(i.invoice_id) for i in sorted(INVOICE_LIST, key=lambda i: order(_Row(i)))]


class Batches:
    """Holds back the table's batches until `release` (or `run_held`). Unless `quiet`,
    batches do not wait for the payer to stop typing."""

    def __init__(self, monkeypatch, *, quiet: bool = False) -> None:
        self.held: list[tuple[InvoiceTable, int]] = []
        self._add_batch = InvoiceTable._add_batch
        monkeypatch.setattr(InvoiceTable, "_add_batch",
                            lambda table, fill_id: self.held.append((table, fill_id)))
        if not quiet:
            monkeypatch.setattr(invoice_table, "QUIET_SECONDS", 0.0)

    def run_held(self) -> None:
        waiting, self.held = self.held, []
        for table, fill_id in waiting:
            self._add_batch(table, fill_id)

    async def release(self, pilot) -> None:
        """Run every batch (each schedules the next after a refresh) until none is left."""
        for _ in range(200):
            await pilot.pause()
            if not self.held:
                return
            self.run_held()
        pytest.fail("the table never finished filling")


def make() -> PaydeskApp:
    app = PaydeskApp(FakeDesk(invoices=tuple(INVOICE_LIST)), mode="kiosk", firm=FIRM,
                     clock=lambda: FIXED_NOW)
    app.cursor_blink = False
    return app


async def open_page(pilot) -> tuple[PaymentPageScreen, InvoiceTable]:
    await settle(pilot)
    page = PaymentPageScreen(DANA)
    pilot.app.push_screen(page)
    await settle(pilot)
    return page, page.query_one(InvoiceTable)


def shown_keys(table: InvoiceTable) -> list[str]:
    return [row.key.value for row in table.ordered_rows]


def usd(minor: int) -> str:
    return format_money(Money(minor, "USD"), "en_US")


async def test_a_screenful_at_once_then_every_row_in_order(monkeypatch) -> None:
    batches = Batches(monkeypatch)
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        page, table = await open_page(pilot)
        assert table.filling
        assert table.row_count == SIZE[1]  # a screenful, not 2,000
        assert shown_keys(table) == keys_sorted("case")[:SIZE[1]]
        # The footer counts every invoice from the start, not only those shown.
        assert page.summary_text() == f"2000 invoices ticked · total {usd(TOTAL)}"
        assert "2000 invoices across 200 cases" in screen_text(app)
        await batches.release(pilot)
        assert not table.filling
        assert shown_keys(table) == keys_sorted("case")


async def test_typing_and_ticking_while_rows_are_added(monkeypatch) -> None:
    batches = Batches(monkeypatch)
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        page, table = await open_page(pilot)
        first = INVOICE_LIST[int(keys_sorted("case")[0]) - 10_000]
        await pilot.press("enter")  # the amount field, its text selected
        await type_text(pilot, "7")
        assert table.filling
        assert page.summary_text() == (
            f"2000 invoices ticked · total {usd(TOTAL - first.balance.minor + 700)}")
        await pilot.press("enter", "n")  # back to the list; untick every invoice
        await pilot.pause()
        assert table.filling
        assert page.summary_text() == f"0 invoices ticked · total {usd(0)}"
        await batches.release(pilot)
        # Rows added after the untick show it.
        assert {table.get_row(key)[0].plain for key in keys_sorted("case")} == {"[ ]"}
        await pilot.press("space")
        await pilot.pause()
        assert page.summary_text() == f"1 invoice ticked · total {usd(700)}"


async def test_selection_while_rows_are_added_has_every_ticked_invoice(monkeypatch) -> None:
    Batches(monkeypatch)  # never released: the selection must not wait for the batches
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        page, table = await open_page(pilot)
        assert table.filling
        chosen = page.selection()
        assert [str(s.invoice.invoice_id) for s in chosen] == keys_sorted("case")
        assert sum(s.amount.minor for s in chosen) == TOTAL


async def test_sorting_while_rows_are_added_keeps_the_highlighted_invoice(monkeypatch) -> None:
    batches = Batches(monkeypatch)
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        page, table = await open_page(pilot)
        await pilot.press("down", "down")
        highlighted = table.current_key()
        await pilot.press("s")  # by due date
        await pilot.pause()
        assert table.current_key() == highlighted
        await batches.release(pilot)
        assert shown_keys(table) == keys_sorted("due")
        assert table.current_key() == highlighted


async def test_a_typed_amount_redraws_its_row_and_the_total() -> None:
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        page, table = await open_page(pilot)
        for _ in range(200):
            if not table.filling:
                break
            await pilot.pause()
        assert not table.filling
        await pilot.press("down", "enter")
        key = table.current_key()
        number = INVOICE_LIST[int(key) - 10_000].number
        balance = INVOICE_LIST[int(key) - 10_000].balance.minor
        top = INVOICE_LIST[int(keys_sorted("case")[0]) - 10_000].number
        above = [line for line in screen_text(app).splitlines() if top in line]
        assert len(above) == 1
        await type_text(pilot, "31")
        await pilot.pause()
        lines = [line for line in screen_text(app).splitlines()
                 if number in line and "Amount for" not in line]
        assert len(lines) == 1 and "$31.00" in lines[0]
        assert page.summary_text() == (
            f"2000 invoices ticked · total {usd(TOTAL - balance + 3100)}")
        # The row above is drawn as it was.
        assert [line for line in screen_text(app).splitlines() if top in line] == above


async def test_batches_wait_while_the_payer_types(monkeypatch) -> None:
    batches = Batches(monkeypatch, quiet=True)
    app = make()
    async with app.run_test(size=SIZE) as pilot:
        page, table = await open_page(pilot)
        batches.run_held()  # nobody typing: a batch is added
        await pilot.pause()
        rows = table.row_count
        assert rows == SIZE[1] + invoice_table.BATCH_ROWS
        await pilot.press("enter")
        await type_text(pilot, "7")
        batches.run_held()  # the payer has just typed: the batch waits
        await pilot.pause()
        assert table.row_count == rows
        assert table.filling
