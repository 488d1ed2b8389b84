"""The client sign-in screen, on the real Desk: each wrong password says how many tries
are left, an unknown email reads the same, and after the fifth the right password is
refused with the lock's message."""

from __future__ import annotations

from textual.widgets import Input, Static

from tests.tui.conftest import WALK_NOW
from tests.tui.fakes import screen_text, settle, type_text
from tui.factory import make_app
from tui.screens.client_sign_in import ClientSignInScreen
from tui.screens.payment_page import PaymentPageScreen

DANA = "dana.whitfield@example.com"


def message(app) -> str:
    return str(app.screen.query_one("#client-sign-in-message", Static).content)


async def submit(pilot, email: str | None, password: str) -> str:
    """Type the email (None: keep it; a refusal leaves the focus in the emptied password
    field) and the password, then Enter."""
    screen = pilot.app.screen
    if email is not None:
        screen.query_one("#client-email", Input).value = ""
        screen.query_one("#client-email", Input).focus()
        await type_text(pilot, email)
        await pilot.press("enter")
    assert screen.focused is screen.query_one("#client-password", Input)
    await type_text(pilot, password)
    await pilot.press("enter")
    await settle(pilot)
    return message(pilot.app)


async def test_each_wrong_password_shows_the_tries_left_until_the_lock(kiosk_services):
    app = make_app(kiosk_services.settings, mode="kiosk", services=kiosk_services,
                   clock=lambda: WALK_NOW)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        await pilot.click("#sign-in")
        await settle(pilot)
        assert isinstance(app.screen, ClientSignInScreen)

        first = await submit(pilot, DANA, "not-it")
        assert first == ("Wrong email or password. 4 tries left before sign-in is locked "
                         "for 15 minutes.")
        assert "4 tries left" in screen_text(app)
        # An email with no account reads exactly like a wrong password.
        assert await submit(pilot, "nobody@example.com", "not-it") == first

        await submit(pilot, DANA, "not-it")
        shown = [message(app)] + [await submit(pilot, None, "not-it") for _ in range(3)]
        assert shown[:3] == [
            "Wrong email or password. 3 tries left before sign-in is locked for 15 minutes.",
            "Wrong email or password. 2 tries left before sign-in is locked for 15 minutes.",
            "Wrong email or password. 1 try left before sign-in is locked for 15 minutes.",
        ]
        locked = ("Too many wrong passwords: sign-in with this email is locked for 15 more "
                  "minutes.")
        assert shown[3] == locked
        # The right password no longer opens it.
        assert await submit(pilot, None, "demo-dana") == locked
        assert isinstance(app.screen, ClientSignInScreen)
        assert not isinstance(app.screen, PaymentPageScreen)
