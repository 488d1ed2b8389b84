"""Every way back to the card page puts the focus in the card number, so the next card,
typed one key at a time as a person types it, lands there and nowhere else: after a decline
("Another card"), back from the review, and back from a payment that stopped before anything
was charged. An empty card number asks for one."""

from __future__ import annotations

from textual.widgets import Input, Static

from billing.errors import StripeUnavailable
from tests.tui.fakes import DANA, FIRM, FIXED_NOW, FakeDesk, screen_text, settle, type_text
from tests.tui.test_kiosk_walkthrough import choose_invoices, dana_signs_in, kiosk_app
from tui.app import PaydeskApp
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import PaymentPageScreen
from tui.screens.result import ResultScreen
from tui.screens.review import ReviewScreen
from tui.widgets import CardNumberField

NEXT_CARD = "4242424242424242"


class StoppedDesk(FakeDesk):
    """Stripe cannot be reached: the payment stops before anything is charged."""

    def pay(self, payer, amounts, card, on_progress=None):
        raise StripeUnavailable("Paying: Stripe did not answer. Nothing was charged.")


def make(desk=None) -> PaydeskApp:
    app = PaydeskApp(desk or FakeDesk(), mode="kiosk", firm=FIRM, clock=lambda: FIXED_NOW)
    app.cursor_blink = False
    return app


async def wait_for(pilot, kind: type, tries: int = 50):
    for _ in range(tries):
        await settle(pilot)
        if isinstance(pilot.app.screen, kind):
            return pilot.app.screen
    raise AssertionError(f"no {kind.__name__}, still on {pilot.app.screen}")


async def to_card_page(pilot) -> PaymentMethodScreen:
    await settle(pilot)
    pilot.app.push_screen(PaymentPageScreen(DANA))
    await settle(pilot)
    await pilot.press("c")
    return await wait_for(pilot, PaymentMethodScreen)


async def key_in_card(pilot, number: str) -> None:
    """Number, expiry, CVC and postal code, each ended with Enter, one key at a time."""
    for text in (number, "12/30", "123", "94107"):
        await type_text(pilot, text)
        await pilot.press("enter")


async def to_review(pilot, number: str) -> ReviewScreen:
    await key_in_card(pilot, number)
    review = await wait_for(pilot, ReviewScreen)
    for _ in range(50):  # Pay is enabled (and focused) once the statement lines are in
        await settle(pilot)
        if not review.query_one("#review-pay").disabled:
            return review
    raise AssertionError("the review never became ready")


def fields(method: PaymentMethodScreen) -> dict[str, str]:
    number = method.query_one("#card-number", CardNumberField)
    return {
        "number": number.peek_digits(),
        "expiry": method.query_one("#card-expiry", Input).value,
        "postal": method.query_one("#card-postal", Input).value,
    }


async def the_next_card_lands_in_the_number(pilot, method: PaymentMethodScreen) -> None:
    assert pilot.app.screen is method
    await type_text(pilot, NEXT_CARD)
    now = fields(method)
    assert now["postal"] == "94107"  # not "941074242..."
    assert now["number"] == NEXT_CARD
    assert now["expiry"] == "12/30"
    assert method.focused is method.query_one("#card-number")


async def test_after_a_decline_another_card_is_typed_into_the_card_number():
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        method = await to_card_page(pilot)
        await to_review(pilot, "4000000000000002")
        await pilot.press("f5")
        result = await wait_for(pilot, ResultScreen)
        assert not result.succeeded
        assert result.focused is result.query_one("#result-another")
        await pilot.press("enter")  # "Another card"
        await settle(pilot)
        await the_next_card_lands_in_the_number(pilot, method)
        # ... and that card goes through, with what was typed.
        await pilot.press("enter")
        for text in ("12/30", "123"):
            await type_text(pilot, text)
            await pilot.press("enter")
        await pilot.press("enter")  # the postal code kept from before
        review = await wait_for(pilot, ReviewScreen)
        assert review.card.label.endswith("4242")


async def test_back_from_the_review_the_card_is_typed_into_the_card_number():
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        method = await to_card_page(pilot)
        await to_review(pilot, "4000000000000002")
        await pilot.press("escape")
        await settle(pilot)
        await the_next_card_lands_in_the_number(pilot, method)


async def test_back_from_a_stopped_payment_the_card_is_typed_into_the_card_number():
    app = make(StoppedDesk())
    async with app.run_test(size=(100, 30)) as pilot:
        method = await to_card_page(pilot)
        await to_review(pilot, "4242424242424242")
        await pilot.press("f5")
        for _ in range(50):
            await settle(pilot)
            if app.screen is method:
                break
        await the_next_card_lands_in_the_number(pilot, method)


async def test_help_on_the_card_page_leaves_the_focus_where_it_was():
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        method = await to_card_page(pilot)
        await type_text(pilot, NEXT_CARD)
        await pilot.press("enter")
        await type_text(pilot, "12")
        await pilot.press("f1")
        await settle(pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert method.focused is method.query_one("#card-expiry")
        await type_text(pilot, "/30")
        assert fields(method)["expiry"] == "12/30"
        assert fields(method)["number"] == NEXT_CARD


async def test_an_empty_card_number_asks_for_one_and_keeps_the_focus_there():
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        method = await to_card_page(pilot)
        await key_in_card(pilot, "")  # no number; the postal code's Enter asks for review
        await settle(pilot)
        assert app.screen is method
        error = str(method.query_one("#card-error", Static).render())
        assert error == "Enter the card number"
        assert "not valid" not in screen_text(app)
        assert method.focused is method.query_one("#card-number")
        await type_text(pilot, NEXT_CARD)
        assert fields(method)["number"] == NEXT_CARD


async def test_on_the_real_desk_a_declined_card_then_the_next_lands_in_the_number(
        kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await dana_signs_in(pilot)
        await choose_invoices(pilot, page)
        method = await to_card_page_from(pilot)
        await to_review(pilot, "4000 0000 0000 0002")
        await pilot.press("f5")
        result = await wait_for(pilot, ResultScreen)
        assert not result.succeeded
        await pilot.press("enter")  # "Another card"
        await settle(pilot)
        await the_next_card_lands_in_the_number(pilot, method)


async def to_card_page_from(pilot) -> PaymentMethodScreen:
    await pilot.press("c")
    return await wait_for(pilot, PaymentMethodScreen)
