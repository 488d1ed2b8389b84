"""A declined attempt shows in the staff payments list as declined, with the reason the
card processor gave, and the card that was tried: never as "cancelled / Card"."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from billing.values import CardChoice
from gateway import KeyedCard
from models import Client, Invoice
from models.money import Money
from tests.tui.fakes import settle
from tests.tui.test_desk_walkthrough import desk_app
from tui.screens.desk_payments import DeskPaymentsScreen

DECLINED = "4000000000000002"


async def test_a_declined_card_shows_as_declined_with_its_reason(desk_services):
    desk = desk_services.desk
    staff = desk.sign_in_staff("Front Desk", "2468")
    payer = desk.payer_for_client(staff, Client.get(Client.name == "Dana Whitfield").id)
    inv = Invoice.get(Invoice.number == "INV-1012")
    result = desk.pay(payer, {inv.id: Money(47500, "USD")},
                      CardChoice(kind="keyed", keyed=KeyedCard(DECLINED, 12, 2034, "123"),
                                 label="Visa •••• 0002"))
    assert result.status == "failed"
    [row] = desk.payments(staff, checkout_id=result.checkout_id)
    assert row.status == "declined" and row.failure_message and row.failure_code

    app = desk_app(desk_services)
    async with app.run_test(size=(120, 30)) as pilot:
        await settle(pilot)
        app.push_screen(DeskPaymentsScreen(staff))
        await settle(pilot)
        screen = app.screen
        table = screen.query_one("#desk-payments-table", DataTable)
        key = str(row.invoice_payment_id)
        status = str(table.get_cell(key, "status"))
        assert status == f"declined ({row.failure_code.replace('_', ' ')})"
        assert "cancelled" not in status
        assert str(table.get_cell(key, "card")) == "Visa •••• 0002"
        table.move_cursor(row=table.get_row_index(key))
        await settle(pilot)
        detail = str(screen.query_one("#desk-payments-detail", Static).render())
        assert f"Declined: {row.failure_message} ({row.failure_code})" in detail
