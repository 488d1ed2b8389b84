"""Snapshots of every front-desk screen at 80x24 and 120x40, inside the real app: a
`PaydeskApp` as `paydesk demo --app desk` builds it (desk mode, demo sign-ins shown, TEST
MODE), over the stand-in desk's demo-firm values (fixed clock, fixed ids), no blinking
cursor. Each screen is reached the way staff reach it: signing in, then the screens' keys."""

from __future__ import annotations

import pytest

from billing.config import defaults
from tests.tui.desk_fakes import FIRM, FIXED_NOW, FRONT_DESK, FakeDesk
from tests.tui.fakes import FakeServices
from tui.app import PaydeskApp
from tui.factory import make_app
from tui.screens.desk_settings import DeskSettingsScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


def desk_app() -> PaydeskApp:
    """The app as production builds it (tui.factory.make_app), over a stand-in desk."""
    app = make_app(defaults(), mode="desk", services=FakeServices(FakeDesk()),
                   clock=lambda: FIXED_NOW, demo_sign_ins=True, allow_quit=True)
    assert app.firm == FIRM
    app.cursor_blink = False
    app.receipt_dir = "/receipts"  # the same path on every machine
    return app


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def typed(text: str) -> list[str]:
    names = {" ": "space", ".": "full_stop", "-": "minus", "+": "plus", ",": "comma"}
    return [names.get(ch, ch) for ch in text]


def steps(*keys):
    """run_before: press `keys` one by one, letting the workers finish after each. A
    callable step is called with the app (for a screen no key leads to)."""
    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            if callable(key):
                key(pilot.app)
            else:
                await pilot.press(key)
            await settle(pilot)
    return run_before


AS_FRONT_DESK = (*typed("Front Desk"), "enter", *typed("2468"), "enter")
AS_ADMIN = (*typed("Avery Admin"), "enter", *typed("1357"), "enter")
# Payments, with Dana's INV-1004 payment (partly refunded) highlighted.
TO_INV_1004 = (*AS_FRONT_DESK, "f2", "down")
# The home screen's results, with Dana highlighted.
TO_DANA = (*AS_FRONT_DESK, "down")

SCREENS = {
    "sign_in": (),
    "sign_in_wrong_pin": (*typed("Front Desk"), "enter", *typed("1111"), "enter"),
    "sign_in_locked": (
        *typed("Front Desk"), "enter", *(k for _ in range(5) for k in (*typed("9999"), "enter")),
    ),
    "home": AS_FRONT_DESK,
    "home_search_dana": (*AS_ADMIN, *typed("whi"), "down"),
    "payments": TO_INV_1004,
    "refund_form": (*TO_INV_1004, "r"),
    "refund_bad_amount": (*TO_INV_1004, "r", *typed("12.345"), "enter", *typed("overpaid"), "enter"),
    "refund_confirm": (*TO_INV_1004, "r", *typed("100.00"), "enter", *typed("client overpaid"),
                       "enter"),
    "refund_result": (*TO_INV_1004, "r", *typed("100.00"), "enter", *typed("client overpaid"),
                      "enter", "enter"),
    "refund_checkout_confirm": (*TO_INV_1004, "c", *typed("duplicate payment"), "enter"),
    "receipt": (*TO_INV_1004, "v"),
    "offline": (*TO_DANA, "f3"),
    "offline_confirm": (
        *TO_DANA, "f3",
        "tab", *typed("CHK-2210"), "enter", *typed("1250"), "enter", *typed("200.00"),
        "tab", "tab", "tab", "tab", "tab", "enter",
    ),
    "share": (*TO_DANA, "f4"),
    "share_text_link": (
        *TO_DANA, "f4",
        "down", "down", "down", "down", "enter", "down", "down", "enter", "tab",
        *typed("+1 555 0100"), "enter",
    ),
    "audit": (*AS_ADMIN, "f5", "down"),
    "settings": (*AS_ADMIN, "f6"),
    # Front-desk staff have no key to the settings (the home screen hides f6): the screen
    # itself still refuses them if it is ever reached.
    "settings_front_desk": (
        *AS_FRONT_DESK, lambda app: app.push_screen(DeskSettingsScreen(FRONT_DESK)),
    ),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SCREENS))
def test_desk_screen(snap_compare, name: str, size: tuple[int, int]) -> None:
    assert snap_compare(desk_app(), terminal_size=size, run_before=steps(*SCREENS[name]))
