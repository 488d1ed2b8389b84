"""Check boxes, radio buttons and switches say their state in text ([x]/[ ], (●)/( ), On/Off),
so that a screen in monochrome or on a 16-colour console reads the same. The screens take
them from tui.widgets, never Textual's own, which tell the states apart by colour alone."""

from __future__ import annotations

import ast
import re
from pathlib import Path

from billing.saved_cards import KEEP_LABEL
from tests.tui.desk_fakes import ADMIN, DANA, FRONT_DESK, DeskTestApp
from tests.tui.desk_fakes import FakeDesk as DeskFake
from tests.tui.fakes import DANA as DANA_PAYER
from tests.tui.fakes import DANA_INVOICES, FIRM, FIXED_NOW, FakeDesk, screen_text, settle
from tui.app import PaydeskApp
from tui.flow_values import SelectedInvoice
from tui.screens.desk_settings import DeskSettingsScreen
from tui.screens.desk_share import DeskShareScreen
from tui.screens.payment_method import PaymentMethodScreen

TUI = Path(__file__).resolve().parents[2] / "tui"
COLOUR_ONLY = {"Checkbox", "RadioButton", "Switch", "ToggleButton"}


def test_no_screen_uses_the_colour_only_toggles_of_textual() -> None:
    offenders = []
    for path in sorted(TUI.rglob("*.py")):
        if path == TUI / "widgets" / "toggles.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("textual"):
                names = {alias.name for alias in node.names} & COLOUR_ONLY
                if names:
                    offenders.append(f"{path.relative_to(TUI.parent)}: {sorted(names)}")
    assert offenders == []


def lines_with(text: str, word: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if word in line]


async def test_the_keep_card_choice_reads_ticked_or_not_in_text() -> None:
    app = PaydeskApp(FakeDesk(), mode="kiosk", firm=FIRM, clock=lambda: FIXED_NOW)
    app.cursor_blink = False
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        selection = (SelectedInvoice(DANA_INVOICES[0], DANA_INVOICES[0].balance),)
        app.push_screen(PaymentMethodScreen(DANA_PAYER, selection))
        await settle(pilot)
        assert lines_with(screen_text(app), KEEP_LABEL) == [f"[ ] {KEEP_LABEL}"]
        app.screen.query_one("#keep-card").focus()
        await pilot.press("space")
        await settle(pilot)
        assert lines_with(screen_text(app), KEEP_LABEL) == [f"[x] {KEEP_LABEL}"]


async def test_the_firm_switches_say_on_or_off() -> None:
    desk = DeskFake()
    app = DeskTestApp(lambda: DeskSettingsScreen(ADMIN), desk)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        # Online payments, then multi-invoice payments, each drawn "▊On ▎" or "▊Off▎".
        assert re.findall(r"▊(On |Off)▎", screen_text(app)) == ["On ", "On ", "Off"]
        await pilot.press("o")  # online payments off
        await settle(pilot)
        assert desk.switches == [{"online": False, "multi_invoice": None}]
        assert re.findall(r"▊(On |Off)▎", screen_text(app)) == ["Off", "On ", "Off"]


async def test_the_share_channel_marks_the_chosen_one() -> None:
    app = DeskTestApp(lambda: DeskShareScreen(FRONT_DESK, DANA), DeskFake())
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        channels = r"▊(\(.\)) (Email|Client Portal|Text link|Copied link) "
        assert re.findall(channels, screen_text(app)) == [
            ("(●)", "Email"), ("( )", "Client Portal"), ("( )", "Text link"),
            ("( )", "Copied link")]
