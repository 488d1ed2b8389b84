"""Production screens hold no demo data: the demo's sign-in hints are handed to the app by
the factory, and a screen shows only what it was handed."""

from __future__ import annotations

import ast
from pathlib import Path

from billing.config import Settings
from tests.tui.fakes import FIRM, FIXED_NOW, FakeDesk, screen_text, settle
from tui.app import PaydeskApp
from tui.demo_hints import DemoHints
from tui.factory import make_app
from tui.screens.staff_sign_in import StaffSignInScreen

SCREENS = Path(__file__).resolve().parents[2] / "tui" / "screens"


def test_no_screen_module_imports_the_demo_seed():
    for path in SCREENS.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            names = ([a.name for a in node.names] if isinstance(node, ast.Import)
                     else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
            assert not any(n == "models.demo" or n.startswith("models.demo.") for n in names), \
                path.name


async def test_the_staff_sign_in_shows_the_hints_it_is_handed_and_none_otherwise():
    hints = DemoHints(welcome="w", client="c", staff="Demo sign-ins: Sam Sample / 0000")
    for given, expected in ((hints, "Sam Sample / 0000"), (None, None)):
        app = PaydeskApp(FakeDesk(), mode="desk", firm=FIRM, clock=lambda: FIXED_NOW,
                         demo_hints=given)
        app.cursor_blink = False
        async with app.run_test(size=(100, 30)) as pilot:
            await settle(pilot)
            app.push_screen(StaffSignInScreen())
            await settle(pilot)
            text = screen_text(app)
            assert "Staff sign-in" in text
            if expected:
                assert expected in text and "Front Desk / 2468" not in text
            else:
                assert "Demo sign-ins" not in text and "2468" not in text


class _Services:
    def __init__(self) -> None:
        self.desk = FakeDesk()

    def close(self) -> None:
        pass


def test_the_factory_hands_in_the_demo_firms_hints_only_for_a_demo(tmp_path):
    settings = Settings(database_url=str(tmp_path / "x.db"), outbox_dir=str(tmp_path),
                        terminal="t")
    demo = make_app(settings, mode="demo", services=_Services(), demo_sign_ins=True)
    assert demo.demo_hints is not None and "Front Desk / 2468" in demo.demo_hints.staff
    assert make_app(settings, mode="kiosk", services=_Services()).demo_hints is None
