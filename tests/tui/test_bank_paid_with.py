"""The front desk's payments list names a bank debit "Bank •••• 6789" (its last four digits
only), never "Card" nor the bank's name as if it were a card's brand; card payments keep
"Visa •••• 4242". Real Desk, demo firm, Stripe sandbox."""

from __future__ import annotations

from textual.widgets import Select, Static

from billing.event_sync import read_events
from tests.billing.bank_support import DELAY, FAILS, pay_three
from tests.billing.conftest import full_balances, keyed
from tests.tui.fakes import screen_text, settle
from tests.tui.test_desk_walkthrough import desk_app, sign_in
from tui.screens.desk_payments import DeskPaymentsScreen


def line_of(text: str, number: str) -> str:
    return next(line for line in text.splitlines() if number in line)


async def test_the_payments_list_says_bank_and_the_last_four_for_a_bank_debit(desk_services):
    desk = desk_services.desk
    dana = desk.sign_in_client("dana.whitfield@example.com", "demo-dana")
    pay_three(desk, dana, desk_services.sandbox, numbers=("INV-1009",), account=FAILS)
    desk_services.sandbox.advance_clock(DELAY)
    read_events(desk_services.gateway)  # returned by the bank: no account (R03)
    pay_three(desk, dana, desk_services.sandbox, numbers=("INV-1001",))
    desk.pay(dana, full_balances(("INV-1004",)), keyed())
    app = desk_app(desk_services)
    async with app.run_test(size=(140, 40)) as pilot:
        await sign_in(pilot, "Front Desk", "2468")
        await pilot.press("f2")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, DeskPaymentsScreen)
        text = screen_text(app)
        bank = line_of(text, "INV-1001")
        assert "Bank •••• 6789" in bank and "bank payment pending" in bank
        assert "Card" not in bank and "Test Bank" not in bank
        assert "Visa •••• 4242" in line_of(text, "INV-1004")
        returned = line_of(text, "INV-1009")
        assert "Bank •••• 1116" in returned and "failed" in returned
        # Narrow, the "Paid with" column leaves: the line under the table says it.
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        screen.query_one("#desk-payments-table").focus()
        while screen.selected_row().invoice_number != "INV-1001":
            await pilot.press("down")
        detail = str(screen.query_one("#desk-payments-detail", Static).render())
        assert "Bank •••• 6789 · receipt" in detail
        while screen.selected_row().invoice_number != "INV-1009":
            await pilot.press("down")
        detail = str(screen.query_one("#desk-payments-detail", Static).render())
        assert "Bank •••• 1116 · receipt" in detail
        # The bank's reason in words, its return code said once.
        assert detail.endswith("Failed: the bank could not find that account (ACH return R03)")
        assert "000123456789" not in screen_text(app)
        # The status filter finds the debits still settling.
        screen.query_one("#desk-payments-status", Select).value = "processing"
        await settle(pilot)
        assert [r.invoice_number for r in screen._rows.values()] == ["INV-1001"]
