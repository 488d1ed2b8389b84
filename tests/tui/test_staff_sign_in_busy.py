"""The staff sign-in takes one try at a time: while a PIN is checked (at `paydesk demo --app
desk`, that can be until start-up has built the Desk), a second Enter neither counts as a
second try toward the lockout nor signs in twice."""

from __future__ import annotations

import asyncio
import threading

from textual.widgets import Input

from billing.services_later import ServicesLater
from tests.tui.fakes import FIRM, FRONT_DESK, FakeDesk, FakeServices, type_text
from tui.app import PaydeskApp
from tui.screens.desk_home import DeskHomeScreen
from tui.screens.staff_sign_in import StaffSignInScreen

WAIT = 30  # seconds: a bound on waiting for another thread, never a pause
FIELDS = ("#staff-sign-in-name", "#staff-sign-in-pin", "#staff-sign-in-submit")


class _CountingDesk(FakeDesk):
    def __init__(self) -> None:
        super().__init__()
        self.sign_ins: list[tuple[str, str]] = []

    def sign_in_staff(self, name, pin):
        self.sign_ins.append((name, pin))
        return super().sign_in_staff(name, pin)


class _Built(FakeServices):
    def finish_start(self) -> None:
        return None


def _desk_app_still_starting() -> tuple[PaydeskApp, ServicesLater, _CountingDesk,
                                         threading.Event]:
    """`paydesk demo --app desk` as it starts: the sign-in is up, the Desk not yet built
    (start-up waits for `release`)."""
    desk, release = _CountingDesk(), threading.Event()

    def build() -> _Built:
        release.wait(4 * WAIT)
        return _Built(desk)

    later = ServicesLater(build)
    app = PaydeskApp(later.desk, mode="desk", firm=FIRM, services=later, owns_services=True)
    return app, later, desk, release


async def _until(pilot, done) -> None:
    async def wait() -> None:
        while not done():
            await pilot.pause()

    await asyncio.wait_for(wait(), WAIT)


async def _enter_twice(pilot, app: PaydeskApp, pin: str) -> StaffSignInScreen:
    await _until(pilot, lambda: isinstance(app.screen, StaffSignInScreen))
    dialog = app.screen
    await type_text(pilot, "Front Desk")
    await pilot.press("enter")
    await type_text(pilot, pin)
    await pilot.press("enter")
    await pilot.pause()
    await pilot.press("enter")
    await pilot.pause()
    return dialog


async def _start_up_done(pilot, app: PaydeskApp, later: ServicesLater,
                         release: threading.Event) -> None:
    release.set()
    assert await asyncio.to_thread(later._finished.wait, WAIT)
    await app.workers.wait_for_complete()
    await pilot.pause()


async def test_a_second_enter_on_a_wrong_pin_is_not_a_second_try():
    app, later, desk, release = _desk_app_still_starting()
    async with app.run_test(size=(100, 30)) as pilot:
        dialog = await _enter_twice(pilot, app, "1111")
        # Still checking (the Desk is being built): nothing takes another try meanwhile.
        assert all(dialog.query_one(field).disabled for field in FIELDS)
        await _start_up_done(pilot, app, later, release)
        await _until(pilot, lambda: not dialog.query_one("#staff-sign-in-pin").disabled)
        assert desk.sign_ins == [("Front Desk", "1111")]
        # Refused once: the fields take the next try, the PIN field emptied and focused.
        assert not any(dialog.query_one(field).disabled for field in FIELDS)
        assert dialog.query_one("#staff-sign-in-pin", Input).value == ""
        assert app.focused is dialog.query_one("#staff-sign-in-pin")
        await type_text(pilot, "2468")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: isinstance(app.screen, DeskHomeScreen))
        assert desk.sign_ins == [("Front Desk", "1111"), ("Front Desk", "2468")]


async def test_a_second_enter_on_the_right_pin_signs_in_once():
    app, later, desk, release = _desk_app_still_starting()
    async with app.run_test(size=(100, 30)) as pilot:
        await _enter_twice(pilot, app, "2468")
        await _start_up_done(pilot, app, later, release)
        await _until(pilot, lambda: isinstance(app.screen, DeskHomeScreen))
        await pilot.pause()
        assert desk.sign_ins == [("Front Desk", "2468")]
        assert [type(screen) for screen in app.screen_stack[1:]] == [DeskHomeScreen]
        assert app.screen.staff == FRONT_DESK
        assert app.is_running and app.return_code is None


async def test_a_failed_check_gives_the_fields_back():
    class BrokenDesk(FakeDesk):
        def sign_in_staff(self, name, pin):
            raise RuntimeError("no connection")

    app = PaydeskApp(BrokenDesk(), mode="desk", firm=FIRM)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: isinstance(app.screen, StaffSignInScreen))
        dialog = app.screen
        await type_text(pilot, "Front Desk")
        await pilot.press("enter")
        await type_text(pilot, "2468")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await _until(pilot, lambda: not dialog.query_one("#staff-sign-in-pin").disabled)
        assert not any(dialog.query_one(field).disabled for field in FIELDS)
        assert app.focused is dialog.query_one("#staff-sign-in-pin")
        assert [n.message for n in app._notifications] == [StaffSignInScreen.WORKER_FAILED]
