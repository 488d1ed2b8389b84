"""Snapshots of every front-desk screen at 80x24 and 120x40: the demo firm's values from the
stand-in desk (fixed clock, fixed ids), no blinking cursor."""

from __future__ import annotations

import pytest

from tests.tui.desk_fakes import ADMIN, DANA, FRONT_DESK, PAYMENTS, DeskTestApp, FakeDesk
from tui.screens.desk_audit import DeskAuditScreen
from tui.screens.desk_home import DeskHomeScreen
from tui.screens.desk_offline import DeskOfflineScreen
from tui.screens.desk_payments import DeskPaymentsScreen
from tui.screens.desk_receipt import DeskReceiptScreen
from tui.screens.desk_refund import DeskRefundScreen
from tui.screens.desk_settings import DeskSettingsScreen
from tui.screens.desk_share import DeskShareScreen
from tui.screens.staff_sign_in import StaffSignInScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]


async def settle(pilot) -> None:
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()
    await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def press(*keys: str):
    async def run_before(pilot) -> None:
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await settle(pilot)
    return run_before


def typed(text: str) -> list[str]:
    names = {" ": "space", ".": "full_stop", "-": "minus", "+": "plus", ",": "comma"}
    return [names.get(ch, ch) for ch in text]


SCREENS = {
    "sign_in": (StaffSignInScreen, ()),
    "sign_in_wrong_pin": (StaffSignInScreen, (*typed("Front Desk"), "enter", *typed("1111"), "enter")),
    "sign_in_locked": (
        StaffSignInScreen,
        (*typed("Front Desk"), "enter", *(k for _ in range(5) for k in (*typed("9999"), "enter"))),
    ),
    "home": (lambda: DeskHomeScreen(FRONT_DESK), ()),
    "home_search_dana": (lambda: DeskHomeScreen(ADMIN), (*typed("whi"), "down")),
    "payments": (lambda: DeskPaymentsScreen(FRONT_DESK), ("down",)),
    "refund_form": (lambda: DeskRefundScreen(FRONT_DESK, [PAYMENTS[1]]), ()),
    "refund_bad_amount": (
        lambda: DeskRefundScreen(FRONT_DESK, [PAYMENTS[1]]),
        (*typed("12.345"), "enter", *typed("overpaid"), "enter"),
    ),
    "refund_confirm": (
        lambda: DeskRefundScreen(FRONT_DESK, [PAYMENTS[1]]),
        (*typed("100.00"), "enter", *typed("client overpaid"), "enter"),
    ),
    "refund_result": (
        lambda: DeskRefundScreen(FRONT_DESK, [PAYMENTS[1]]),
        (*typed("100.00"), "enter", *typed("client overpaid"), "enter", "enter"),
    ),
    "refund_checkout_confirm": (
        lambda: DeskRefundScreen(FRONT_DESK, PAYMENTS[:2], whole_checkout=True),
        (*typed("duplicate payment"), "enter"),
    ),
    "receipt": (lambda: DeskReceiptScreen("RCP-000102", FakeDesk().receipt_text("RCP-000102")), ()),
    "offline": (lambda: DeskOfflineScreen(FRONT_DESK, DANA), ()),
    "offline_confirm": (
        lambda: DeskOfflineScreen(FRONT_DESK, DANA),
        ("tab", *typed("CHK-2210"), "enter", *typed("1250"), "enter", *typed("200.00"),
         "tab", "tab", "tab", "tab", "tab", "enter"),
    ),
    "share": (lambda: DeskShareScreen(FRONT_DESK, DANA), ()),
    "share_text_link": (
        lambda: DeskShareScreen(FRONT_DESK, DANA),
        ("down", "down", "down", "down", "enter", "down", "down", "enter", "tab",
         *typed("+1 555 0100"), "enter"),
    ),
    "audit": (lambda: DeskAuditScreen(ADMIN), ("down",)),
    "settings": (lambda: DeskSettingsScreen(ADMIN), ()),
    "settings_front_desk": (lambda: DeskSettingsScreen(FRONT_DESK), ()),
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(SCREENS))
def test_desk_screen(snap_compare, name: str, size: tuple[int, int]) -> None:
    factory, keys = SCREENS[name]
    assert snap_compare(DeskTestApp(factory), terminal_size=size, run_before=press(*keys))
