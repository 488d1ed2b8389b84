"""The kiosk walked key by key on the real Desk, the demo firm and the Stripe sandbox:
Dana pays four invoices, a declined card charges nothing, a payment code pays its one
invoice, the session wipes itself when idle, and no key leaves the kiosk."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from models import Checkout, Invoice, InvoicePayment
from tests.tui.conftest import WALK_NOW
from tests.tui.fakes import keyed_kiosk, screen_text, settle, type_text
from tui.factory import make_app
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import PaymentPageScreen
from tui.screens.result import ResultScreen
from tui.screens.review import ReviewScreen
from tui.screens.welcome import WelcomeScreen


def kiosk_app(services, **kwargs):
    # A kiosk that takes a typed card too (its default is the reader, then the phone).
    app = make_app(keyed_kiosk(services.settings), mode="kiosk", services=services,
                   clock=lambda: WALK_NOW, **kwargs)
    app.cursor_blink = False
    return app


def balance(number: str) -> int:
    invoice = Invoice.get(Invoice.number == number)
    return invoice.total_minor - invoice.paid_minor


def captured_payments() -> list[InvoicePayment]:
    return list(InvoicePayment.select().join(Checkout).where(
        (InvoicePayment.status == "captured") & (Checkout.terminal == "kiosk-test")))


async def dana_signs_in(pilot) -> PaymentPageScreen:
    await settle(pilot)
    assert isinstance(pilot.app.screen, WelcomeScreen)
    await pilot.click("#sign-in")
    await settle(pilot)
    await type_text(pilot, "dana.whitfield@example.com")
    await pilot.press("enter")
    await type_text(pilot, "demo-dana")
    await pilot.press("enter")
    await settle(pilot)
    page = pilot.app.screen
    assert isinstance(page, PaymentPageScreen)
    return page


async def dana_chooses_how_to_pay_three(pilot) -> PaymentMethodScreen:
    """Dana signs in, unticks INV-1012 and INV-1021 (INV-1001, INV-1004 and INV-1009 stay
    ticked) and continues to the payment method screen."""
    page = await dana_signs_in(pilot)
    for number in ("INV-1012", "INV-1021"):
        await go_to_row(pilot, page, number)
        await pilot.press("space")
    await settle(pilot)
    await pilot.press("c")
    await settle(pilot)
    assert isinstance(pilot.app.screen, PaymentMethodScreen)
    return pilot.app.screen


async def go_to_row(pilot, page: PaymentPageScreen, number: str) -> None:
    table = page.query_one("#payment-table")
    while table.cursor_row > 0:
        await pilot.press("up")
    for _ in range(table.row_count):
        if page._rows[table.current_key()].invoice.number == number:
            return
        await pilot.press("down")
        await pilot.pause()
    raise AssertionError(f"{number} is not on the page")


async def choose_invoices(pilot, page: PaymentPageScreen) -> None:
    """Untick INV-1009 and change INV-1004 to 100.00, the way a person would."""
    await go_to_row(pilot, page, "INV-1009")
    await pilot.press("space")
    await go_to_row(pilot, page, "INV-1004")
    await pilot.press("enter")  # to the amount field, its text selected
    await type_text(pilot, "100.00")
    await pilot.press("enter")  # back to the list
    await settle(pilot)
    assert page.summary_text().startswith("4 invoices ticked · total $1,920.25")


async def pay_with_card(pilot, number: str) -> None:
    await pilot.press("c")
    await settle(pilot)
    assert isinstance(pilot.app.screen, PaymentMethodScreen)
    await type_text(pilot, number)
    await pilot.press("enter")
    await type_text(pilot, "12/30")
    await pilot.press("enter")
    await type_text(pilot, "123")
    await pilot.press("enter")
    await type_text(pilot, "94107")
    await pilot.press("enter")
    await settle(pilot)
    review = pilot.app.screen
    assert isinstance(review, ReviewScreen)
    # Nothing beyond the last four is on screen once the number is entered.
    assert number[-4:] in review.card.label and number[:12] not in review.card.label
    await pilot.press("f5")
    for _ in range(50):
        await settle(pilot)
        if isinstance(pilot.app.screen, ResultScreen):
            return
    raise AssertionError(f"no result screen, still on {pilot.app.screen}")


async def test_dana_pays_four_invoices_at_the_kiosk(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await dana_signs_in(pilot)
        await choose_invoices(pilot, page)
        await pay_with_card(pilot, "4242 4242 4242 4242")
        result = app.screen
        assert result.result.succeeded
        assert [t.invoice_number for t in result.result.transactions] == [
            "INV-1001", "INV-1004", "INV-1012", "INV-1021"]
        assert len(result.query_one("#result-table").rows) == 4
        await pilot.click("#result-done")
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)  # the kiosk wiped the session
    payments = captured_payments()
    assert len(payments) == 4
    assert {p.invoice.number: p.amount_minor for p in payments} == {
        "INV-1001": 125000, "INV-1004": 10000, "INV-1012": 47500, "INV-1021": 9525}
    assert balance("INV-1004") == 43050
    assert balance("INV-1009") == 240000


async def test_a_declined_card_shows_the_reason_and_charges_nothing(kiosk_services):
    before = {n: balance(n) for n in ("INV-1001", "INV-1004", "INV-1012", "INV-1021")}
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await dana_signs_in(pilot)
        await choose_invoices(pilot, page)
        await pay_with_card(pilot, "4000 0000 0000 0002")
        result = app.screen
        assert not result.result.succeeded
        after = str(result.query_one("#result-after").render())
        assert "declined" in after.lower()
        assert "Nothing was charged" in str(result.query_one("#result-headline").render())
        await pilot.click("#result-another")
        await settle(pilot)
        assert isinstance(app.screen, PaymentMethodScreen)
        assert app.screen.query_one("#card-number", Input).value == ""
    assert captured_payments() == []
    assert {n: balance(n) for n in before} == before


async def test_a_payment_code_pays_its_one_invoice(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.click("#payment-code")
        await type_text(pilot, "LINK-1013")
        await pilot.press("enter")
        await settle(pilot)
        page = app.screen
        assert isinstance(page, PaymentPageScreen)
        assert [r.invoice.number for r in page._rows.values()] == ["INV-1013"]
        # The code holder sees number, case, due date and balance: not whose invoice it
        # is, nor its issue date, even on a wide screen.
        for size in ((80, 24), (120, 40)):
            await pilot.resize_terminal(*size)
            await settle(pilot)
            shown = screen_text(app)
            assert "INV-1013" in shown and "Estate of Harold Whitfield" in shown
            assert "$190.00" in shown and "10/13/26" in shown
            assert "Dana" not in shown and "Issued" not in shown and "9/13/26" not in shown
        await pilot.resize_terminal(80, 24)
        await settle(pilot)
        await pilot.press("d")  # no details for a code holder
        await settle(pilot)
        assert app.screen is page
        await pay_with_card(pilot, "4242424242424242")
        assert [t.invoice_number for t in app.screen.result.transactions] == ["INV-1013"]
        shown = screen_text(app)
        # No address given: no receipt is emailed, and never to the client's address.
        assert "No confirmation email" in shown and "dana.whitfield@example.com" not in shown
        await pilot.press("v")  # the receipt: the invoice, never whose it is
        for _ in range(20):
            await settle(pilot)
            if "PAYMENT RECEIPT" in screen_text(app):
                break
        shown = screen_text(app)
        assert "PAYMENT RECEIPT" in shown and "INV-1013" in shown
        assert "Dana" not in shown
    assert [p.invoice.number for p in captured_payments()] == ["INV-1013"]
    assert balance("INV-1013") == 0


async def test_the_kiosk_wipes_the_session_after_the_idle_period(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(80, 24)) as pilot:
        page = await dana_signs_in(pilot)
        await choose_invoices(pilot, page)
        assert isinstance(app.screen, PaymentPageScreen)
        # Shortened only now: a slow sign-in (argon2 on a busy machine) is not idleness.
        app.kiosk_idle_seconds = 1
        await pilot.pause(2.5)
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert len(app.screen_stack) == 2
        assert not app.query("PaymentPageScreen")


@pytest.mark.parametrize("key", ["ctrl+p", "ctrl+q", "ctrl+c", "escape"])
async def test_no_key_leaves_the_kiosk(kiosk_services, key):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(80, 24)) as pilot:
        page = await dana_signs_in(pilot)
        for screen_key in (key, key):
            await pilot.press(screen_key)
            await settle(pilot)
        assert app.is_running and app.return_code is None
        assert app.screen is page
        await pilot.click("#payment-leave")
        await settle(pilot)
        await pilot.press(key)
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, WelcomeScreen)
