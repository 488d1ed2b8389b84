"""The front desk, walked key by key as a person would, on the real Desk: the demo firm in
a SQLite file of this test's own and the in-process Stripe sandbox."""

from __future__ import annotations

import re

import pytest
from textual.widgets import DataTable, Input, Static

from billing.values import CardChoice
from gateway import KeyedCard
from models import Client, Firm, Invoice
from models.money import Money
from models.records import AuditEntry
from tests.tui.conftest import WALK_NOW
from tests.tui.fakes import settle, type_text
from tui.factory import make_app
from tui.screens.desk_home import DeskHomeScreen
from tui.screens.desk_payments import DeskPaymentsScreen
from tui.screens.desk_refund import DeskRefundScreen
from tui.screens.desk_settings import DeskSettingsScreen
from tui.screens.desk_share import DeskShareScreen
from tui.screens.payment_page import PaymentPageScreen
from tui.screens.staff_sign_in import StaffSignInScreen

NOW = WALK_NOW
VISA = "4242424242424242"


@pytest.fixture
def services(desk_services):
    return desk_services


def desk_app(services):
    app = make_app(services.settings, mode="desk", services=services, clock=lambda: NOW,
                   demo_sign_ins=True)
    app.cursor_blink = False
    return app


async def sign_in(pilot, name: str, pin: str) -> None:
    await settle(pilot)
    assert isinstance(pilot.app.screen, StaffSignInScreen)
    await type_text(pilot, name)
    await pilot.press("enter")
    await type_text(pilot, pin)
    await pilot.press("enter")
    await settle(pilot)


async def open_client(pilot, text: str):
    """At the front desk: search for `text` and open the first client found (their payment
    page, which is returned)."""
    await type_text(pilot, text)
    await settle(pilot)
    await pilot.press("down")
    await pilot.press("enter")
    await settle(pilot)
    page = pilot.app.screen
    assert isinstance(page, PaymentPageScreen), page
    return page


def text_of(app, selector: str) -> str:
    return str(app.screen.query_one(selector, Static).render())


def invoice(number: str) -> Invoice:
    return Invoice.get(Invoice.number == number)


def pay_inv_1004_for_dana(desk) -> None:
    """A phone payment of INV-1004's whole balance (530.50) with the Visa test card."""
    staff = desk.sign_in_staff("Front Desk", "2468")
    dana = Client.get(Client.name == "Dana Whitfield")
    payer = desk.payer_for_client(staff, dana.id)
    inv = invoice("INV-1004")
    result = desk.pay(payer, {inv.id: Money(inv.total_minor - inv.paid_minor, inv.currency)},
                      CardChoice(kind="keyed", keyed=KeyedCard(VISA, 12, 2034, "123"),
                                 label="Visa •••• 4242"))
    assert result.succeeded


async def test_staff_signs_in_finds_dana_and_refunds_part_of_a_payment(services):
    pay_inv_1004_for_dana(services.desk)
    assert invoice("INV-1004").paid_minor == 83050
    app = desk_app(services)
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "Front Desk", "2468")
        assert isinstance(app.screen, DeskHomeScreen)
        await type_text(pilot, "Dana")
        await settle(pilot)
        results = app.screen.query_one("#desk-home-results", DataTable)
        assert [str(results.get_cell_at((r, 0))) for r in range(results.row_count)] == [
            "Dana Whitfield"
        ]

        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, DeskPaymentsScreen)
        table = app.screen.query_one("#desk-payments-table", DataTable)
        invoices = [str(table.get_cell_at((r, 2))) for r in range(table.row_count)]
        for _ in range(invoices.index("INV-1004")):
            await pilot.press("down")
        await pilot.press("r")
        await settle(pilot)
        assert isinstance(app.screen, DeskRefundScreen)
        amount = app.screen.query_one("#desk-refund-amount", Input)
        assert amount.value == "530.50"  # what is left, by default
        # A bad amount gets a clear message and changes nothing.
        await type_text(pilot, "1,000.00")  # the field selected its text on focus
        assert amount.value == "1,000.00"
        await pilot.press("enter")
        await type_text(pilot, "client overpaid")
        await pilot.press("enter")
        await settle(pilot)
        assert "more than the $530.50 left to refund" in text_of(app, "#desk-refund-error")
        assert app.screen.query_one("#desk-refund-steps").current == "desk-refund-form"

        amount.focus()
        await pilot.pause()
        amount.value = ""
        await type_text(pilot, "100.00")
        await pilot.press("enter")  # to the reason, which is still there
        await pilot.press("enter")
        await settle(pilot)
        question = text_of(app, "#desk-refund-question")
        assert "Refund $100.00 of INV-1004 to Visa •••• 4242?" in question
        await pilot.press("enter")  # the Refund button has the focus
        await settle(pilot)
        assert "Refunded $100.00 of INV-1004." in text_of(app, "#desk-refund-outcome")
        assert invoice("INV-1004").paid_minor == 83050 - 10000  # the balance came back
        await pilot.press("enter")  # Close
        await settle(pilot)
        assert isinstance(app.screen, DeskPaymentsScreen)
        table = app.screen.query_one("#desk-payments-table", DataTable)
        row = next(r for r in range(table.row_count)
                   if str(table.get_cell_at((r, 2))) == "INV-1004")
        key = table.coordinate_to_cell_key((row, 0)).row_key
        assert str(table.get_cell(key, "status")) == "part refunded"
        # At 100 columns the Refunded column is left out (it is the least important): the
        # detail line under the table says how much was refunded.
        table.move_cursor(row=row)
        await settle(pilot)
        assert "refunded $100.00 · $430.50 can still be refunded" in text_of(
            app, "#desk-payments-detail")


async def test_five_wrong_pins_lock_the_account_and_the_screen_says_so(services):
    app = desk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await type_text(pilot, "Front Desk")
        await pilot.press("enter")
        for _ in range(5):
            await type_text(pilot, "1111")
            await pilot.press("enter")
            await settle(pilot)
        message = text_of(app, "#staff-sign-in-message")
        assert re.match(r"Locked until \d\d:\d\d", message), message
        await type_text(pilot, "2468")  # the right PIN does not open a locked account
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, StaffSignInScreen)
        assert text_of(app, "#staff-sign-in-message").startswith("Locked until")


async def test_front_desk_cannot_open_firm_settings(services):
    app = desk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "Front Desk", "2468")
        assert isinstance(app.screen, DeskHomeScreen)
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, DeskHomeScreen)
        # nor is the key offered in the footer
        assert not any(b.binding.action == "settings" for b in app.active_bindings.values())


async def test_admin_turns_multi_invoice_payments_off_and_it_is_audited(services):
    app = desk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "Avery Admin", "1357")
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, DeskSettingsScreen)
        await pilot.press("m")
        await settle(pilot)
        assert "Multi-invoice payments are now off" in text_of(app, "#desk-settings-status")
    assert Firm.get().multi_invoice_payments_enabled is False
    assert AuditEntry.select().where(AuditEntry.action.contains("firm")).count() >= 1


async def test_a_text_link_share_shows_a_new_code_that_opens_the_invoice(services):
    app = desk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "Front Desk", "2468")
        await type_text(pilot, "INV-1009")
        await settle(pilot)
        await pilot.press("f4")
        await settle(pilot)
        assert isinstance(app.screen, DeskShareScreen)
        table = app.screen.query_one("#desk-share-invoices", DataTable)
        numbers = [str(table.get_cell_at((r, 0))) for r in range(table.row_count)]
        for _ in range(numbers.index("INV-1009")):
            await pilot.press("down")
        await pilot.press("enter")  # to the channels
        await pilot.press("down")
        await pilot.press("down")
        await pilot.press("enter")  # Text link
        await pilot.press("tab")
        await type_text(pilot, "+1 555 0100")
        await pilot.press("enter")
        await settle(pilot)
        outcome = text_of(app, "#desk-share-outcome")
    assert "INV-1009 shared by text link to +1 555 0100." in outcome
    code = re.search(r"Payment code:\s+(\S+)", outcome).group(1)
    payer, opened = services.desk.payer_for_code(code)
    assert opened.number == "INV-1009"
    assert payer.kind == "code"
