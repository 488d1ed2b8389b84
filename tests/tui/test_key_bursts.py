"""Keys that arrive in one burst, as from a fast typist, a barcode scanner or a paste over
SSH. Textual 8.2.8 runs a widget's bound keys (backspace, arrows, Enter) only after the key
has bubbled up to the app, so a printable key later in the same burst can be applied first
(textual#6605). No such reordering may change an amount: these tests send every key of a
burst before the app handles any of them."""

from __future__ import annotations

from textual import events
from textual.widgets import Input

from tests.tui.fakes import DANA, FIRM, FIXED_NOW, FakeDesk, settle
from tui.app import PaydeskApp
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import PaymentPageScreen


def make() -> PaydeskApp:
    app = PaydeskApp(FakeDesk(), mode="kiosk", firm=FIRM, clock=lambda: FIXED_NOW)
    app.cursor_blink = False
    return app


async def burst(pilot, *keys: str) -> None:
    """Every key handed to the app at once, then time to handle them."""
    app = pilot.app
    for key in keys:
        char = key if len(key) == 1 else {"full_stop": ".", "space": " "}.get(key)
        event = events.Key(key, char)
        event.set_sender(app)
        app._driver.send_message(event)
    await settle(pilot)
    await settle(pilot)


async def open_page(pilot) -> PaymentPageScreen:
    await settle(pilot)
    page = PaymentPageScreen(DANA)
    pilot.app.push_screen(page)
    await settle(pilot)
    return page


def amounts(page: PaymentPageScreen) -> dict[str, str]:
    return {row.invoice.number: row.text for row in page._rows.values()}


async def test_backspace_in_a_burst_clears_before_the_digits_that_follow_it():
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot)
        await pilot.press("down", "enter")  # INV-1004's amount, its text selected
        await burst(pilot, "backspace", "1", "0", "0", "enter")
        assert amounts(page)["INV-1004"] == "100"
        assert page.summary_text().startswith("5 invoices ticked · total $4,320.25")


async def test_an_amount_typed_in_a_burst_stays_on_its_own_invoice():
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot)
        await pilot.press("down", "enter")  # INV-1004
        await burst(pilot, "1", "0", "0", "enter", "down", "down")
        texts = amounts(page)
        assert texts["INV-1004"] == "100"
        assert texts["INV-1009"] == "2,400.00"
        assert texts["INV-1012"] == "475.00"
        field = page.query_one("#payment-amount", Input)
        assert page._rows[page.query_one("#payment-table").current_key()].invoice.number == "INV-1012"
        assert field.value == "475.00"


async def test_continue_in_the_same_burst_as_the_amount_pays_what_was_typed():
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_page(pilot)
        await pilot.press("down", "enter")  # INV-1004
        await burst(pilot, "5", "0", "enter", "c")
        method = app.screen
        assert isinstance(method, PaymentMethodScreen)
        chosen = {s.invoice.number: s.amount.minor for s in method.selection}
        assert chosen["INV-1004"] == 5000
