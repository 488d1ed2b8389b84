"""The payment page shows an amount whole, however small the invoices around it: the table's
Amount column was as wide as the widest amount it was filled with, so on a $190.00 invoice
"99999999" typed in showed as "9999999". Any amount up to the largest Stripe takes in one
charge ($999,999.99) fits formatted, and a longer text typed in widens the column."""

from __future__ import annotations

from rich.cells import cell_len

from tests.tui.fakes import DANA, DANA_BY_CODE, FIRM, FIXED_NOW, FakeDesk, screen_text, settle
from tests.tui.fakes import type_text as type_keys
from tui.app import PaydeskApp
from tui.screens.payment_page import PaymentPageScreen


def make() -> PaydeskApp:
    app = PaydeskApp(FakeDesk(), mode="kiosk", firm=FIRM, clock=lambda: FIXED_NOW)
    app.cursor_blink = False
    return app


async def open_page(pilot, payer) -> PaymentPageScreen:
    await settle(pilot)
    page = PaymentPageScreen(payer)
    pilot.app.push_screen(page)
    await settle(pilot)
    return page


def table_line(app, number: str) -> str:
    lines = [line for line in screen_text(app).splitlines() if number in line
             and "Amount for" not in line]
    assert len(lines) == 1, lines
    return lines[0]


def amount_column_width(page: PaymentPageScreen) -> int:
    table = page.query_one("#payment-table")
    column = table.columns[next(k for k in table.columns if k.value == "amount")]
    return column.get_render_width(table) - 2 * table.cell_padding


async def type_amount(pilot, text: str) -> None:
    await pilot.press("enter")  # the amount field, its text selected
    await type_keys(pilot, text)
    await pilot.press("enter")
    await settle(pilot)


async def test_99999999_typed_on_a_small_invoice_shows_whole() -> None:
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot, DANA_BY_CODE)  # LINK-1013: one invoice of $190.00
        assert "$190.00" in table_line(app, "INV-1013")
        await type_amount(pilot, "99999999")
        assert page.query_one("#payment-amount").value == "99999999"
        assert "99999999" in table_line(app, "INV-1013").split()


async def test_the_amount_column_holds_the_largest_stripe_charge_formatted() -> None:
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot, DANA_BY_CODE)
        assert amount_column_width(page) >= cell_len("$999,999.99")
        # A longer text typed in (refused, shown as typed) widens the column rather than
        # being cut.
        await type_amount(pilot, "1234567890123")
        assert "1234567890123" in table_line(app, "INV-1013").split()
        assert amount_column_width(page) >= len("1234567890123")


async def test_the_wider_column_still_fits_80_columns() -> None:
    app = make()
    async with app.run_test(size=(80, 24)) as pilot:
        page = await open_page(pilot, DANA)
        table = page.query_one("#payment-table")
        assert amount_column_width(page) >= cell_len("$999,999.99")
        assert table.virtual_size.width <= table.scrollable_content_region.width
        assert "$2,400.00" in table_line(app, "INV-1009")
