"""The bank-account tab shows neither number whole: the routing number, like the account
number, shows bullets and its last four digits as it is typed, while its checksum is still
checked on the spot and the digits reach the payment. Real Desk, demo firm, sandbox."""

from __future__ import annotations

from textual.widgets import Input, Static

from tests.tui.fakes import screen_text, settle, type_text
from tests.tui.test_bank_debit_flow import to_bank_tab
from tests.tui.test_kiosk_walkthrough import kiosk_app
from tui.screens.bank_fields import RoutingNumberField
from tui.screens.review import ReviewScreen


async def test_the_routing_number_is_masked_checked_and_kept_for_the_payment(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_bank_tab(pilot, app)
        routing = screen.query_one("#bank-routing", RoutingNumberField)
        routing.focus()
        await type_text(pilot, "110-000-001")  # a typo: the checksum fails
        await settle(pilot)
        assert routing.value == "•••••0001"
        assert "not valid" in str(screen.query_one("#bank-routing-ok", Static).render())
        await pilot.press("backspace")
        await type_text(pilot, "0")
        await settle(pilot)
        assert routing.value == "•••••0000" and routing.peek_digits() == "110000000"
        assert str(screen.query_one("#bank-routing-ok", Static).render()) == "✓"
        screen.query_one("#bank-account", Input).focus()
        await type_text(pilot, "000123456789")
        await settle(pilot)
        text = screen_text(app)
        assert "110000000" not in text and "11000" not in text
        assert "000123456789" not in text
        await pilot.press("f5")
        await settle(pilot)
        review = app.screen
        assert isinstance(review, ReviewScreen)
        assert review.card.keyed.routing == "110000000"  # the digits, handed on once
        assert routing.peek_digits() == ""  # and forgotten by the field
