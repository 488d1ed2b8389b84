"""A payment-code holder is asked, optionally, where to send their receipt, on the review
screen: a bad address is refused with the reason and nothing is paid; a good one gets the
receipt, and the client's address is never shown or used for it."""

from __future__ import annotations

from textual.widgets import Input

from models import OutboundEmail
from models.demo import DANA_EMAIL
from tests.tui.fakes import screen_text, settle, type_text
from tests.tui.test_kiosk_walkthrough import kiosk_app
from tests.tui.test_stale_balances import kiosk_checkouts, to_review, wait_for
from tui.screens.payment_page import PaymentPageScreen
from tui.screens.result import ResultScreen


async def open_code(pilot) -> None:
    await settle(pilot)
    await pilot.click("#payment-code")
    await type_text(pilot, "LINK-1013")
    await pilot.press("enter")
    await wait_for(pilot, PaymentPageScreen)


async def test_the_code_holder_gives_an_address_and_gets_the_receipt_there(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_code(pilot)
        review = await to_review(pilot)
        field = review.query_one("#review-email", Input)
        assert app.focused is field  # the next keystroke belongs there
        assert "Email me the receipt (optional)" in screen_text(app)

        await type_text(pilot, "sam@example")
        await pilot.press("f5")
        await settle(pilot)
        assert app.screen is review
        assert "not an email address" in str(review.query_one("#review-email-error").render())
        assert kiosk_checkouts() == 0

        await type_text(pilot, ".net")
        await pilot.press("enter")  # checked, then on to Pay
        await settle(pilot)
        assert str(review.query_one("#review-email-error").render()) == ""
        await pilot.press("f5")
        result = await wait_for(pilot, ResultScreen)
        assert result.result.succeeded
        shown = screen_text(app)
        assert "A confirmation email was sent to sam@example.net." in shown
        assert DANA_EMAIL not in shown and "Dana" not in shown
    to_holder = [e for e in OutboundEmail.select() if e.recipient == "sam@example.net"]
    assert len(to_holder) == 1 and "Dana" not in to_holder[0].message


async def test_no_address_means_no_receipt_and_nothing_to_the_clients_address(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await open_code(pilot)
        await to_review(pilot)
        await pilot.press("f5")
        result = await wait_for(pilot, ResultScreen)
        assert result.result.succeeded and result.result.email_to is None
        assert "No confirmation email" in screen_text(app)
    # The client hears only that the invoice was paid: no receipt with the holder's card.
    [notice] = list(OutboundEmail.select())[-1:]
    assert notice.recipient == DANA_EMAIL and "was paid" in notice.subject
    assert "4242" not in notice.message

