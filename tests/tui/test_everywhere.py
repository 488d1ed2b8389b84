"""What the issue asks of every screen: themes work, text from the database is shown
literally, the help screen lists the keys, the mouse works as well as the keyboard, and no
card number beyond the last four is on screen once it has been typed."""

from __future__ import annotations

import re
from dataclasses import replace

from textual.widgets import Input

from tests.tui.fakes import DANA, FIRM, FIXED_NOW, FakeDesk, screen_text, settle, type_text
from tui.app import PaydeskApp
from tui.screens.help import HelpScreen
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import PaymentPageScreen
from tui.screens.result import ResultScreen
from tui.screens.review import ReviewScreen

FULL_NUMBER = "4242424242424242"


def make(desk=None, firm=FIRM) -> PaydeskApp:
    app = PaydeskApp(desk or FakeDesk(firm=firm), mode="kiosk", firm=firm,
                     clock=lambda: FIXED_NOW)
    app.cursor_blink = False
    return app


async def open_page(pilot, payer=DANA) -> PaymentPageScreen:
    await settle(pilot)
    page = PaymentPageScreen(payer)
    pilot.app.push_screen(page)
    await settle(pilot)
    return page


async def test_the_payment_page_renders_in_the_light_theme():
    app = make()
    async with app.run_test(size=(80, 24)) as pilot:
        await open_page(pilot)
        dark = app.export_screenshot()
        app.theme = "textual-light"
        await settle(pilot)
        assert app.theme == "textual-light"
        light = app.export_screenshot()
        assert light != dark  # the colours changed
        text = screen_text(app)
        assert "TEST MODE" in text and "INV-1001" in text and "total $4,750.75" in text
        await pilot.press("c")  # and the next screen renders too
        await settle(pilot)
        assert isinstance(app.screen, PaymentMethodScreen)
        assert "Card number" in screen_text(app)


async def test_names_from_the_database_are_shown_as_typed_never_as_markup():
    firm = replace(FIRM, name="[b]Harbor[/b] & Vale")
    payer = replace(DANA, client_name="Dana [/oops] [red]Whitfield[/red]")
    app = make(firm=firm)
    async with app.run_test(size=(120, 30)) as pilot:
        await open_page(pilot, payer)
        text = screen_text(app)
        assert "[b]Harbor[/b] & Vale" in text
        assert "Dana [/oops] [red]Whitfield[/red]" in text


async def test_the_help_screen_lists_every_key_the_payment_page_offers():
    app = make()
    async with app.run_test(size=(100, 40)) as pilot:
        page = await open_page(pilot)
        await pilot.press("f1")
        await settle(pilot)
        assert isinstance(app.screen, HelpScreen)
        text = screen_text(app)
        for binding in (*PaymentPageScreen.BINDINGS, *page.query_one("#payment-table").BINDINGS):
            if binding.description:
                assert binding.description in text, binding.description
        assert "F1 or ?" in text
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is page


async def test_the_mouse_ticks_a_row_and_continues():
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot)
        assert page.summary_text().startswith("5 invoices ticked")
        await pilot.click("#payment-table", offset=(2, 2))  # the second invoice's row
        await settle(pilot)
        assert not next(r for r in page._rows.values() if r.invoice.number == "INV-1004").ticked
        assert page.summary_text().startswith("4 invoices ticked · total $4,220.25")
        await pilot.click("#payment-continue")
        await settle(pilot)
        assert isinstance(app.screen, PaymentMethodScreen)
        assert [s.invoice.number for s in app.screen.selection] == [
            "INV-1001", "INV-1009", "INV-1012", "INV-1021"]


async def test_no_screen_shows_the_card_number_once_it_is_typed():
    app = make()
    async with app.run_test(size=(100, 30)) as pilot:
        await open_page(pilot)
        await pilot.press("c")
        await settle(pilot)
        await type_text(pilot, FULL_NUMBER)
        number = app.screen.query_one("#card-number", Input)
        await pilot.press("enter")  # on to the expiry
        await settle(pilot)
        assert number.value == "•••• 4242"
        seen = [screen_text(app)]
        await type_text(pilot, "12/30")
        await pilot.press("enter")
        await type_text(pilot, "123")
        await pilot.press("enter")
        await type_text(pilot, "94107")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        seen.append(screen_text(app))
        await pilot.press("f5")
        for _ in range(20):
            await settle(pilot)
            if isinstance(app.screen, ResultScreen):
                break
        assert isinstance(app.screen, ResultScreen)
        seen.append(screen_text(app))
    assert "Visa •••• 4242" in seen[0] and "Visa •••• 4242" in seen[1]
    # The method screen lists Stripe's test cards, spaced in fours; what was typed, unspaced,
    # is gone from its field.
    assert FULL_NUMBER not in seen[0]
    # The review and result screens show no card number beyond the last four, in any spacing.
    for text in seen[1:]:
        assert FULL_NUMBER not in re.sub(r"[\s-]", "", text)
