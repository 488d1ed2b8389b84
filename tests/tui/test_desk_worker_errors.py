"""The front desk reports a failed worker through the app's one handler: plain words, never
the exception's own text (which may hold paths, SQL or markup)."""

from __future__ import annotations

from textual.widgets import Static

from tests.tui.desk_fakes import FRONT_DESK, NOW, DeskTestApp, FakeDesk
from tests.tui.fakes import screen_text, settle
from tui.app import UNEXPECTED_ERROR, PaydeskApp
from tui.screens.desk_home import DeskHomeScreen
from tui.screens.staff_sign_in import StaffSignInScreen

RAW = "psycopg.OperationalError: connection to /var/run/db failed [bold]boom[/bold]"


class BrokenSearchDesk(FakeDesk):
    def find_clients(self, staff, query: str, limit: int = 50):
        raise RuntimeError(RAW)


async def test_a_failed_search_shows_plain_words_not_the_exception():
    desk = BrokenSearchDesk()
    app = PaydeskApp(desk, mode="desk", firm=desk.firm(), clock=lambda: NOW)
    app.cursor_blink = False
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        home = DeskHomeScreen(FRONT_DESK)
        app.push_screen(home)
        messages: list[str] = []
        for _ in range(60):
            await settle(pilot)
            messages = [n.message for n in app._notifications]
            if messages:
                break
        assert messages == [UNEXPECTED_ERROR]  # once, from the app's handler
        status = str(home.query_one("#desk-home-status", Static).render())
        assert status and "RuntimeError" not in status and "boom" not in status
        text = screen_text(app)
        assert "/var/run/db" not in text and "boom" not in text and "OperationalError" not in text


async def test_a_failed_staff_sign_in_shows_plain_words_not_the_exception():
    """A sign-in that fails for a reason billing did not expect says so in plain words;
    the exception's own text never reaches the screen."""

    class BrokenDesk(FakeDesk):
        def sign_in_staff(self, name, pin):
            raise RuntimeError("connection to server at 10.0.0.5 failed: secret detail")

    app = DeskTestApp(StaffSignInScreen, BrokenDesk())
    async with app.run_test(size=(100, 30)) as pilot:
        await pilot.pause()
        for key in "Front":
            await pilot.press(key)
        await pilot.press("enter")
        for key in "2468":
            await pilot.press(key)
        await pilot.press("enter")
        for _ in range(3):
            await pilot.pause()
            await app.workers.wait_for_complete()
        text = str(app.screen.query_one("#staff-sign-in-message", Static).render())
        assert "Sign-in is not available" in text
        assert "secret detail" not in text and "10.0.0.5" not in text


async def test_a_desk_dialog_reports_its_failed_worker_through_the_app_in_its_own_words():
    """The staff sign-in dialog hands its failed worker to the app's one handler, which
    says what the dialog means (not the general "nothing was changed") exactly once; the
    dialog only puts itself back in order."""

    class BrokenDesk(FakeDesk):
        def sign_in_staff(self, name, pin):
            raise RuntimeError(RAW)

    desk = BrokenDesk()
    app = PaydeskApp(desk, mode="desk", firm=desk.firm(), clock=lambda: NOW)
    app.cursor_blink = False
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        dialog = StaffSignInScreen()
        app.push_screen(dialog)
        await settle(pilot)
        for key in "Front":
            await pilot.press(key)
        await pilot.press("enter")
        for key in "2468":
            await pilot.press(key)
        await pilot.press("enter")
        messages: list[str] = []
        for _ in range(60):
            await settle(pilot)
            messages = [n.message for n in app._notifications]
            if messages:
                break
        assert messages == [StaffSignInScreen.WORKER_FAILED]
        assert not dialog.query_one("#staff-sign-in-submit").disabled
        text = screen_text(app)
        assert "/var/run/db" not in text and "boom" not in text and "OperationalError" not in text
