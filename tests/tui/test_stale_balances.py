"""Balances that change under the payer, driven key by key on the real Desk: another
terminal pays while this one is at the review, on the card page, or away from the list. The
payer is brought back to the new balances, told which invoice changed and how, and goes on
with the rest; the list never shows a balance older than the last payment made."""

from __future__ import annotations

from dataclasses import replace

from billing.desk import Desk
from billing.values import CardChoice
from gateway import KeyedCard
from models import Checkout, Client, InvoicePayment
from models.money import Money
from tests.tui.conftest import WALK_NOW
from tests.tui.fakes import screen_text, settle, type_text
from tests.tui.test_kiosk_walkthrough import balance, dana_signs_in, go_to_row, kiosk_app
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import PaymentPageScreen
from tui.screens.result import ResultScreen
from tui.screens.review import ReviewScreen

VISA = "4242424242424242"


def other_terminal(services) -> Desk:
    """A second terminal on the same database and the same Stripe account."""
    settings = replace(services.settings, terminal="front-desk-2")
    return Desk(settings, services.gateway, clock=lambda: WALK_NOW)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def visa() -> CardChoice:
    return CardChoice(kind="keyed", keyed=KeyedCard(VISA, 12, 2034, "123"),
                      label="Visa •••• 4242")


def pay_elsewhere_for_dana(services, number: str, minor: int) -> None:
    from models import Invoice

    desk = other_terminal(services)
    staff = desk.sign_in_staff("Front Desk", "2468")
    payer = desk.payer_for_client(staff, Client.get(Client.name == "Dana Whitfield").id)
    inv = Invoice.get(Invoice.number == number)
    assert desk.pay(payer, {inv.id: usd(minor)}, visa()).succeeded


def kiosk_checkouts() -> int:
    return Checkout.select().where(Checkout.terminal == "kiosk-test").count()


async def wait_for(pilot, kind, tries: int = 60):
    for _ in range(tries):
        await settle(pilot)
        if isinstance(pilot.app.screen, kind):
            return pilot.app.screen
    raise AssertionError(f"no {kind.__name__}, still on {pilot.app.screen}")


async def type_card(pilot) -> None:
    """On the card page: the Visa test card, then on to the review (Pay offered)."""
    assert isinstance(pilot.app.screen, PaymentMethodScreen)
    for text in ("4242 4242 4242 4242", "12/30", "123", "94107"):
        await type_text(pilot, text)
        await pilot.press("enter")
    await settle(pilot)


async def to_review(pilot) -> ReviewScreen:
    await pilot.press("c")
    await settle(pilot)
    await type_card(pilot)
    review = await wait_for(pilot, ReviewScreen)
    assert review._ready, "Pay is offered once the balances were checked"
    return review


async def test_f5_after_the_invoice_was_paid_elsewhere_reloads_the_page(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.click("#payment-code")
        await type_text(pilot, "LINK-1013")
        await pilot.press("enter")
        page = await wait_for(pilot, PaymentPageScreen)
        await pilot.press("enter")  # to the amount field
        await type_text(pilot, "40.00")
        await pilot.press("enter")
        await settle(pilot)
        assert page.summary_text().startswith("1 invoice ticked · total $40.00")
        await to_review(pilot)

        # Another terminal pays INV-1013 in full while this one is at the review.
        desk = other_terminal(kiosk_services)
        payer, invoice = desk.payer_for_code("LINK-1013")
        assert desk.pay(payer, {invoice.invoice_id: usd(19000)}, visa()).succeeded

        await pilot.press("f5")
        assert await wait_for(pilot, PaymentPageScreen) is page
        assert ("INV-1013: the balance is now $0.00 (paid elsewhere); it was taken off "
                "this payment.") in page.changes_text()
        assert page._rows == {}
        shown = screen_text(app)
        assert "There is nothing to pay right now" in shown
        assert "$40.00" not in shown and "$190.00" not in shown
        assert "INV-1013: the balance is now $0.00" in shown
    assert kiosk_checkouts() == 0  # refused before anything was reserved
    assert balance("INV-1013") == 0


async def test_an_amount_above_the_new_balance_is_lowered_and_the_rest_is_paid(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await dana_signs_in(pilot)
        await pilot.press("n")
        for number in ("INV-1012", "INV-1021"):
            await go_to_row(pilot, page, number)
            await pilot.press("space")
        await settle(pilot)
        assert page.summary_text().startswith("2 invoices ticked · total $570.25")
        await to_review(pilot)

        pay_elsewhere_for_dana(kiosk_services, "INV-1012", 40000)  # 75.00 left of 475.00

        await pilot.press("f5")
        assert await wait_for(pilot, PaymentPageScreen) is page
        note = page.changes_text()
        assert ("INV-1012: the balance is now $75.00 (paid elsewhere); the amount was "
                "lowered from $475.00 to $75.00.") in note
        assert "INV-1021" not in note  # unchanged, not mentioned
        assert page.summary_text().startswith("2 invoices ticked · total $170.25")
        table = page.query_one("#payment-table")
        key = next(k for k, r in page._rows.items() if r.invoice.number == "INV-1012")
        assert str(table.get_cell(key, "balance")).strip() == "$75.00"
        assert kiosk_checkouts() == 0

        # The payer goes on with the rest.
        await to_review(pilot)
        await pilot.press("f5")
        result = await wait_for(pilot, ResultScreen)
        assert result.result.succeeded
    paid = {p.invoice.number: p.amount_minor for p in InvoicePayment.select().join(Checkout)
            .where((Checkout.terminal == "kiosk-test") & (InvoicePayment.status == "captured"))}
    assert paid == {"INV-1012": 7500, "INV-1021": 9525}
    assert balance("INV-1012") == 0 and balance("INV-1021") == 0


async def test_the_list_shows_the_new_balance_when_the_payer_comes_back(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await dana_signs_in(pilot)
        key = next(k for k, r in page._rows.items() if r.invoice.number == "INV-1004")
        table = page.query_one("#payment-table")
        assert str(table.get_cell(key, "balance")).strip() == "$530.50"
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, PaymentMethodScreen)

        pay_elsewhere_for_dana(kiosk_services, "INV-1004", 10000)

        await pilot.press("escape")  # back to the list
        assert await wait_for(pilot, PaymentPageScreen) is page
        await settle(pilot)
        assert str(table.get_cell(key, "balance")).strip() == "$430.50"
        assert page._rows[key].amount == usd(43050)
        assert ("INV-1004: the balance is now $430.50 (paid or being paid elsewhere); the "
                "amount was lowered from $530.50 to $430.50.") in page.changes_text()
        assert "$4,650.75" in page.summary_text()  # 4,750.75 less the 100.00 paid elsewhere


async def test_the_review_checks_the_balances_before_offering_pay(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await dana_signs_in(pilot)
        await pilot.press("c")
        await settle(pilot)

        pay_elsewhere_for_dana(kiosk_services, "INV-1021", 9525)  # paid in full

        await type_card(pilot)  # on to the review, which checks first
        assert await wait_for(pilot, PaymentPageScreen) is page
        assert ("INV-1021: the balance is now $0.00 (paid elsewhere); it was taken off this "
                "payment.") in page.changes_text()
        assert "INV-1021" not in [r.invoice.number for r in page._rows.values()]
        assert page.summary_text().startswith("4 invoices ticked")
    assert kiosk_checkouts() == 0


async def test_a_page_left_open_catches_up_by_itself(kiosk_services, monkeypatch):
    import tui.screens.payment_page as payment_page

    monkeypatch.setattr(payment_page, "REFRESH_SECONDS", 0.2)
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await dana_signs_in(pilot)
        key = next(k for k, r in page._rows.items() if r.invoice.number == "INV-1012")
        table = page.query_one("#payment-table")

        pay_elsewhere_for_dana(kiosk_services, "INV-1012", 47500)  # paid in full

        for _ in range(100):  # polled with a deadline: the page reads again on its own
            await pilot.pause(0.05)
            if key not in page._rows:
                break
        assert key not in page._rows and table.row_count == 4
        assert ("INV-1012: the balance is now $0.00 (paid or being paid elsewhere); it was "
                "taken off this payment.") in page.changes_text()
