"""The words of the result screen, each for its count and case: the failure says once that
nothing was charged, offers to pay the others only when there are others, and names how
many; the success page says, as the review did, how many transactions the statement shows."""

from __future__ import annotations

import re

import pytest

from billing.values import CheckoutResult, TransactionResult
from tests.tui.fakes import DANA, DANA_INVOICES, FIRM, FIXED_NOW, FakeDesk, screen_text, settle, usd
from tests.tui.test_kiosk_walkthrough import kiosk_app, pay_with_card
from tui.app import PaydeskApp
from tui.screens.payment_page import PaymentPageScreen, SelectedInvoice
from tui.screens.result import ResultScreen
from tui.screens.review import ReviewScreen


def make() -> PaydeskApp:
    app = PaydeskApp(FakeDesk(), mode="kiosk", firm=FIRM, clock=lambda: FIXED_NOW)
    app.cursor_blink = False
    return app


def selection(*indexes: int) -> tuple[SelectedInvoice, ...]:
    return tuple(SelectedInvoice(DANA_INVOICES[i], DANA_INVOICES[i].balance) for i in indexes)


def failed_result(chosen: tuple[SelectedInvoice, ...], declined: set[str],
                  message: str = "") -> CheckoutResult:
    """What the engine reports when the card is declined for `declined` and the other
    authorizations are cancelled."""
    transactions = tuple(
        TransactionResult(
            invoice_payment_id=100 + n, invoice_id=s.invoice.invoice_id,
            invoice_number=s.invoice.number, case_title=s.invoice.case_title, amount=s.amount,
            status="declined" if s.invoice.number in declined else "cancelled",
            payment_intent_id=f"pi_{n}", reference=None, card_brand="visa", card_last4="0002",
            statement_descriptor=f"HARBORVALE* {s.invoice.number}",
            failure_message=("The card was declined. Please use another card or call the "
                             "card's issuer.") if s.invoice.number in declined else None,
        )
        for n, s in enumerate(chosen)
    )
    return CheckoutResult(checkout_id=7, status="failed", transactions=transactions,
                          total=usd(sum(s.amount.minor for s in chosen)), email_to=None,
                          message=message)


async def shown(result: CheckoutResult, chosen) -> tuple[str, ResultScreen]:
    app = make()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        screen = ResultScreen(DANA, result, chosen)
        app.push_screen(screen)
        await settle(pilot)
        buttons = [str(b.label) for b in screen.query("#result-buttons Button")]
        return screen_text(app) + "\n" + " | ".join(buttons), screen


def check_sentences(text: str) -> None:
    assert text.count("Nothing was charged") == 1, text
    assert ".." not in text


async def test_one_invoice_declined_says_nothing_was_charged_once_and_offers_no_others():
    chosen = selection(3)
    text, _ = await shown(failed_result(chosen, {"INV-1012"}), chosen)
    check_sentences(text)
    assert "Nothing was charged." in text
    assert "other invoice" not in text and "Pay the other" not in text
    assert "INV-1012: The card was declined. Please use another card" in text


@pytest.mark.parametrize(("indexes", "others_line", "button"), [
    ((0, 3), "The other invoice can be paid on its own", "Pay the other invoice"),
    ((0, 1, 3, 4), "The other 3 invoices can be paid on their own", "Pay the other 3"),
])
async def test_one_of_several_declined_names_how_many_others_can_be_paid(
        indexes, others_line, button):
    chosen = selection(*indexes)
    text, _ = await shown(failed_result(chosen, {"INV-1001"}), chosen)
    check_sentences(text)
    assert f"Nothing was charged for any of the {len(chosen)} invoices." in text
    assert others_line in text
    assert button in text


async def test_every_invoice_declined_offers_another_card_not_the_others():
    chosen = selection(0, 1, 3, 4)
    text, _ = await shown(failed_result(chosen, {s.invoice.number for s in chosen}), chosen)
    check_sentences(text)
    assert "Pay the other" not in text and "can be paid on" not in text
    assert "Another card" in text


async def test_a_card_refused_before_any_invoice_gives_its_reason_once():
    chosen = selection(0, 1)
    result = failed_result(chosen, set(),
                           "Nothing was charged. The card has expired. Please use another card.")
    text, _ = await shown(result, chosen)
    check_sentences(text)
    assert "The card has expired. Please use another card." in text
    assert "Pay the other" not in text


@pytest.mark.parametrize(("indexes", "sentence"), [
    ((3,), "1 transaction will appear on your statement."),
    ((0, 1, 3, 4), "4 separate transactions will appear on your statement."),
])
async def test_the_success_page_says_what_the_review_said_about_the_statement(indexes, sentence):
    chosen = selection(*indexes)
    result = FakeDesk().pay(DANA, {s.invoice.invoice_id: s.amount for s in chosen},
                            _visa())
    text, _ = await shown(result, chosen)
    assert sentence in text
    assert "1 separate" not in text
    app = make()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ReviewScreen(DANA, chosen, _visa()))
        await settle(pilot)
        assert sentence in screen_text(app)


def _visa():
    from billing.values import CardChoice

    return CardChoice(kind="saved", payment_method_id="pm_saved_visa", label="Visa •••• 4242")


async def test_on_the_real_desk_an_expired_card_for_one_invoice_reads_right(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.click("#payment-code")
        for key in "LINK-1013":
            await pilot.press(key)
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, PaymentPageScreen)
        await pay_with_card(pilot, "4000000000000069")
        result = app.screen
        assert isinstance(result, ResultScreen) and not result.succeeded
        text = screen_text(app)
        check_sentences(text)
        assert "expired" in text
        assert "other invoice" not in text and "Pay the other" not in text
        assert not re.search(r"No transaction went through", text)


@pytest.mark.parametrize(("message", "reason"), [
    ("Nothing was charged: we could not confirm every authorization with the card processor.",
     "We could not confirm every authorization with the card processor."),
    ("The payment was interrupted before it finished. Nothing was charged.",
     "The payment was interrupted before it finished."),
    ("", "The payment did not go through."),
])
async def test_each_engine_message_reads_with_the_headline_said_once(message, reason):
    chosen = selection(0, 1)
    text, _ = await shown(failed_result(chosen, set(), message), chosen)
    check_sentences(text)
    assert reason in text


async def test_while_the_bank_has_not_answered_nothing_says_not_charged_nor_offers_a_card():
    chosen = selection(0, 1)
    result = failed_result(chosen, set(), "We are confirming this payment with the card "
                           "processor. Do not pay again: it will show as paid or not paid shortly.")
    result = CheckoutResult(checkout_id=7, status="verifying", transactions=result.transactions,
                            total=result.total, email_to=None, message=result.message)
    text, screen = await shown(result, chosen)
    assert "Nothing was charged" not in text and "not charged for any" not in text
    assert "Do not pay again" in text
    assert "Another card" not in text and "Pay the other" not in text
    assert "Payment not made" not in text
