"""Staff sign-in and the desk home, driven key by key against the stand-in desk."""

from __future__ import annotations

from textual.widgets import DataTable, Static

from tests.tui.desk_fakes import FRONT_DESK, DeskTestApp, FakeDesk
from tui.screens.desk_home import DeskHomeScreen
from tui.screens.staff_sign_in import StaffSignInScreen


async def type_text(pilot, text: str) -> None:
    for ch in text:
        await pilot.press("space" if ch == " " else ch)
    await pilot.pause()


async def test_front_desk_signs_in_with_name_and_pin():
    app = DeskTestApp(StaffSignInScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await type_text(pilot, "Front Desk")
        await pilot.press("enter")
        await type_text(pilot, "2468")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
    assert app.results == [FRONT_DESK]


async def test_five_wrong_pins_lock_and_the_screen_says_until_when():
    desk = FakeDesk()
    app = DeskTestApp(StaffSignInScreen, desk)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await type_text(pilot, "Front Desk")
        await pilot.press("enter")
        messages = []
        for _ in range(5):
            await type_text(pilot, "1111")
            await pilot.press("enter")
            await app.workers.wait_for_complete()
            await pilot.pause()
            messages.append(str(app.screen.query_one("#staff-sign-in-message", Static).content))
        assert "4 attempts left" in messages[0]
        assert messages[-1].startswith("Locked until 14:05")
        # the right PIN no longer opens it
        await type_text(pilot, "2468")
        await pilot.press("enter")
        await app.workers.wait_for_complete()
        await pilot.pause()
        assert "Locked until 14:05" in str(app.screen.query_one("#staff-sign-in-message", Static).content)
    assert app.results == []


async def test_escape_gives_up_without_a_session():
    app = DeskTestApp(StaffSignInScreen)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await pilot.press("escape")
        await pilot.pause()
    assert app.results == [None]


async def test_desk_home_finds_dana_by_invoice_number():
    app = DeskTestApp(lambda: DeskHomeScreen(FRONT_DESK))
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.pause()
        await app.workers.wait_for_complete()
        await type_text(pilot, "INV-1004")
        await app.workers.wait_for_complete()
        await pilot.pause()
        table = app.screen.query_one("#desk-home-results", DataTable)
        assert table.row_count == 1
        assert str(table.get_cell_at((0, 0))) == "Dana Whitfield"
