"""Keys a person will guess: Escape leaves the invoice list (a client is asked first) and
goes back from "Payment not made"; F6 tells front-desk staff why the settings do not open;
a kiosk has no quit key however it was started; and before an idle kiosk clears itself it
counts down the last seconds, and any key keeps the session.

The idle timer runs on a clock the test moves (`idle_clock`), and the test runs the timer's
tick itself (`kiosk_idle_tick`) or waits for the app's own timer with a deadline: never a sleep."""

from __future__ import annotations

import time

import pytest

from billing.config import Settings
from billing.values import Payer
from tests.tui.desk_fakes import FakeDesk as DeskFake
from tests.tui.fakes import DANA, FIRM, FIXED_NOW, FRONT_DESK, FakeDesk, settle, type_text
from tui.app import PaydeskApp
from tui.factory import make_app
from tui.screens.desk_home import SETTINGS_NEED_ADMIN, DeskHomeScreen
from tui.screens.idle_warning import IdleWarningScreen
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import PaymentPageScreen
from tui.screens.result import ResultScreen
from tui.screens.sign_out import SignOutScreen
from tui.screens.welcome import WelcomeScreen


class MovableClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def kiosk(desk=None, *, clock: MovableClock | None = None, mode: str = "kiosk",
          **kwargs) -> PaydeskApp:
    if clock is not None:
        kwargs["idle_clock"] = clock
    app = PaydeskApp(desk or FakeDesk(), mode=mode, firm=FIRM, clock=lambda: FIXED_NOW,
                     **kwargs)
    app.cursor_blink = False
    return app


async def open_page(pilot, payer=DANA) -> PaymentPageScreen:
    await settle(pilot)
    assert isinstance(pilot.app.screen, WelcomeScreen)
    page = PaymentPageScreen(payer)
    pilot.app.push_screen(page)
    await settle(pilot)
    return page


def notifications(app) -> list[str]:
    return [n.message for n in app._notifications]


# --- Escape on the invoice list -------------------------------------------------------------


async def test_escape_on_the_invoice_list_asks_then_signs_out():
    app = kiosk()
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot)
        assert page.focused is page.query_one("#payment-table")
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SignOutScreen)
        await pilot.press("enter")  # "Sign out" is focused
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert len(app.screen_stack) == 2
        assert not app.query("PaymentPageScreen")


async def test_a_second_escape_stays_on_the_invoice_list():
    app = kiosk()
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot)
        await pilot.press("space")  # untick the first invoice: kept when staying
        ticked = page.summary_text()
        await pilot.press("escape")
        await settle(pilot)
        assert isinstance(app.screen, SignOutScreen)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is page
        assert page.summary_text() == ticked


async def test_escape_in_the_amount_field_goes_back_to_the_list_first():
    app = kiosk()
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot)
        await pilot.press("enter")  # to the amount field
        await settle(pilot)
        assert page.focused is page.query_one("#payment-amount")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is page
        assert page.focused is page.query_one("#payment-table")


async def test_escape_on_a_payment_taken_at_the_desk_goes_back_without_asking():
    staff_payer = Payer(kind="staff", client_id=1, client_name="Dana Whitfield",
                        email="dana.whitfield@example.com", staff=FRONT_DESK)
    app = kiosk(mode="demo")
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot, staff_payer)
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, SignOutScreen | PaymentPageScreen)
        assert isinstance(app.screen, WelcomeScreen)
        assert not page.is_attached


# --- Escape on "Payment not made" -----------------------------------------------------------


async def test_escape_on_payment_not_made_goes_back_to_the_list():
    app = kiosk()
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, PaymentMethodScreen)
        for text in ("4000000000000002", "12/30", "123", "94107"):
            await type_text(pilot, text)
            await pilot.press("enter")
        for _ in range(50):
            await settle(pilot)
            if not app.screen.query("#review-pay") or not app.screen.query_one(
                    "#review-pay").disabled:
                break
        await pilot.press("f5")
        for _ in range(50):
            await settle(pilot)
            if isinstance(app.screen, ResultScreen):
                break
        assert isinstance(app.screen, ResultScreen) and not app.screen.succeeded
        assert any(b.binding.key == "escape" and b.binding.description == "Back"
                   for b in app.active_bindings.values())  # offered in the footer
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is page


# --- F6 for staff who are not administrators ------------------------------------------------


async def test_f6_tells_front_desk_staff_the_settings_need_an_administrator():
    app = PaydeskApp(DeskFake(), mode="desk", firm=FIRM, clock=lambda: FIXED_NOW)
    app.cursor_blink = False
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        home = DeskHomeScreen(FRONT_DESK)
        app.push_screen(home)
        await settle(pilot)
        await pilot.press("f6")
        await settle(pilot)
        assert app.screen is home
        assert SETTINGS_NEED_ADMIN in notifications(app)
        # Still not offered in the footer.
        assert not any(b.binding.key == "f6" and b.binding.show
                       for b in app.active_bindings.values())


# --- no quit key in a kiosk -----------------------------------------------------------------


@pytest.mark.parametrize("key", ["ctrl+q", "ctrl+c"])
async def test_the_demo_kiosk_has_no_quit_key(tmp_path, key):
    """`paydesk demo --app kiosk` builds its app with allow_quit=True (the demo's own
    choice); the kiosk mode wins."""
    class Given:
        desk = FakeDesk()

        def close(self) -> None:
            pass

    app = make_app(Settings(database_url=str(tmp_path / "x.db"), outbox_dir=str(tmp_path), terminal="t"), mode="kiosk",
                   services=Given(), demo_sign_ins=True, allow_quit=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        for _ in range(3):
            await pilot.press(key)
            await settle(pilot)
        assert app.is_running and app.return_code is None
        assert isinstance(app.screen, WelcomeScreen)


async def test_the_demo_welcome_still_quits_on_ctrl_q(tmp_path):
    class Given:
        desk = FakeDesk()

        def close(self) -> None:
            pass

    app = make_app(Settings(database_url=str(tmp_path / "x.db"), outbox_dir=str(tmp_path), terminal="t"), mode="demo",
                   services=Given(), demo_sign_ins=True, allow_quit=True)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        await pilot.press("ctrl+q")
        await settle(pilot)
        assert not app.is_running


# --- the idle countdown ---------------------------------------------------------------------


async def test_the_idle_kiosk_counts_down_the_last_15_seconds_then_clears():
    clock = MovableClock()
    app = kiosk(clock=clock, kiosk_idle_seconds=120)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_page(pilot)
        clock.advance(104)
        app.kiosk_idle_tick()
        await settle(pilot)
        assert isinstance(app.screen, PaymentPageScreen)  # 16 seconds left: no warning yet
        clock.advance(1)
        app.kiosk_idle_tick()
        await settle(pilot)
        warning = app.screen
        assert isinstance(warning, IdleWarningScreen)
        assert warning.countdown_text() == "This screen is cleared in 15 seconds."
        for left in range(14, 0, -1):
            clock.advance(1)
            app.kiosk_idle_tick()
            await settle(pilot)
            assert app.screen is warning
            expected = "1 second" if left == 1 else f"{left} seconds"
            assert warning.countdown_text() == f"This screen is cleared in {expected}."
        clock.advance(1)
        app.kiosk_idle_tick()
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert len(app.screen_stack) == 2
        assert not app.query("PaymentPageScreen") and not app.query("IdleWarningScreen")


async def test_any_key_during_the_countdown_keeps_the_session_and_does_nothing_else():
    clock = MovableClock()
    app = kiosk(clock=clock, kiosk_idle_seconds=120)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot)
        before = page.summary_text()
        clock.advance(110)
        app.kiosk_idle_tick()
        await settle(pilot)
        assert isinstance(app.screen, IdleWarningScreen)
        await pilot.press("c")  # on the page, "c" would continue to the card
        await settle(pilot)
        assert app.screen is page
        assert page.summary_text() == before
        # The session has its whole idle period again.
        clock.advance(104)
        app.kiosk_idle_tick()
        await settle(pilot)
        assert app.screen is page
        clock.advance(2)
        app.kiosk_idle_tick()
        await settle(pilot)
        assert isinstance(app.screen, IdleWarningScreen)


async def test_a_click_during_the_countdown_keeps_the_session():
    clock = MovableClock()
    app = kiosk(clock=clock, kiosk_idle_seconds=120)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await open_page(pilot)
        clock.advance(110)
        app.kiosk_idle_tick()
        await settle(pilot)
        assert isinstance(app.screen, IdleWarningScreen)
        await pilot.click(offset=(2, 2))
        await settle(pilot)
        assert app.screen is page
        clock.advance(10)
        app.kiosk_idle_tick()
        await settle(pilot)
        assert app.screen is page


async def test_the_app_timer_itself_shows_the_countdown():
    """The interval timer, not the test, runs the tick: wait for it with a deadline."""
    clock = MovableClock()
    app = kiosk(clock=clock, kiosk_idle_seconds=120)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_page(pilot)
        clock.advance(112)
        deadline = time.monotonic() + 10
        while not isinstance(app.screen, IdleWarningScreen):
            assert time.monotonic() < deadline, "the kiosk's timer never warned"
            await pilot.pause(0.05)
        clock.advance(20)
        deadline = time.monotonic() + 10
        while not isinstance(app.screen, WelcomeScreen):
            assert time.monotonic() < deadline, "the kiosk's timer never cleared the session"
            await pilot.pause(0.05)
        assert len(app.screen_stack) == 2


async def test_no_countdown_on_an_empty_welcome_screen():
    clock = MovableClock()
    app = kiosk(clock=clock, kiosk_idle_seconds=120)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        clock.advance(119)
        app.kiosk_idle_tick()
        await settle(pilot)
        assert isinstance(app.screen, WelcomeScreen)
        assert not app.query("IdleWarningScreen")


async def test_escape_in_the_payment_code_gives_up_the_code():
    app = kiosk()
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        welcome = app.screen
        assert isinstance(welcome, WelcomeScreen)
        await pilot.press("f3")
        await type_text(pilot, "LINK-10")
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is welcome
        assert welcome.query_one("#payment-code").value == ""
        assert welcome.focused is welcome.query_one("#sign-in")
