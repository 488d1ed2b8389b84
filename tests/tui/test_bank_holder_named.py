"""The bank debit's authorization names the account holder typed on the bank-account tab
(not the client, when someone else holds the account), and billing accepts that text: the
record keeps the holder's name. Real Desk, demo firm, Stripe sandbox, at 80x24."""

from __future__ import annotations

from textual.widgets import Input, Static

from models.bank_debits import BankAuthorization
from tests.tui.fakes import settle, type_text
from tests.tui.test_bank_debit_flow import services  # noqa: F401 - the bank flow's fixture
from tests.tui.test_kiosk_walkthrough import dana_signs_in, kiosk_app
from tui.screens.bank_authorization import BankAuthorizationScreen
from tui.screens.bank_result import BankResultScreen
from tui.screens.bank_verify import BankVerifyScreen
from tui.screens.payment_method import PaymentMethodScreen

HOLDER = "Samuel Whitfield"


async def test_the_authorization_names_the_holder_typed_and_billing_accepts_it(services):  # noqa: F811
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await dana_signs_in(pilot)
        await pilot.press("c")
        await settle(pilot)
        method = app.screen
        assert isinstance(method, PaymentMethodScreen)
        await pilot.click("#--content-tab-method-bank")
        await settle(pilot)
        holder = method.query_one("#bank-holder", Input)
        assert holder.value == "Dana Whitfield"  # the client's name, until changed
        holder.focus()
        await pilot.press("home", "ctrl+k")
        await type_text(pilot, HOLDER)
        method.query_one("#bank-routing", Input).focus()
        await type_text(pilot, "110000000")
        method.query_one("#bank-account", Input).focus()
        await type_text(pilot, "000123456789")
        await settle(pilot)
        await pilot.press("f5")  # to the review
        await settle(pilot)
        await pilot.press("f5")  # to the authorization
        await settle(pilot)

        auth = app.screen
        assert isinstance(auth, BankAuthorizationScreen)
        shown = str(auth.query_one("#bank-auth-text", Static).render())
        assert f"I, {HOLDER}, authorize" in shown
        assert "Dana Whitfield" not in shown
        auth.query_one("#bank-auth-agree").focus()
        await pilot.press("space")
        await pilot.press("f5")
        await settle(pilot)
        # Billing took the text (a text naming someone else is refused: back to the tab).
        assert isinstance(app.screen, BankVerifyScreen | BankResultScreen)
    record = BankAuthorization.get()
    assert record.text == auth.text and f"I, {HOLDER}, authorize" in record.text
