"""The client payment flow has one coordinator (tui.flow.PaymentFlow): the five screens of
the flow never import one another, each reports what the payer did, and the flow pushes the
next screen and owns what the payer chose."""

from __future__ import annotations

import ast
import shutil
import subprocess
import sys
from pathlib import Path

from tests.tui.fakes import DANA, FIRM, FIXED_NOW, FakeDesk, screen_text, settle, type_text
from tui.app import PaydeskApp
from tui.flow_values import FlowStep, StartPayment
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import PaymentPageScreen
from tui.screens.result import ResultScreen
from tui.screens.review import ReviewScreen

ROOT = Path(__file__).resolve().parents[2]
FLOW_SCREENS = ("payment_page", "payment_method", "review", "processing", "result")


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at its top or inside a function."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
    return found


def test_no_screen_of_the_flow_imports_another_screen_of_the_flow():
    for name in FLOW_SCREENS:
        imports = imported_modules(ROOT / "tui" / "screens" / f"{name}.py")
        others = {f"tui.screens.{other}" for other in FLOW_SCREENS if other != name}
        assert not imports & others, f"{name} imports {sorted(imports & others)}"
        # Nor the coordinator or the app that joins them.
        assert not imports & {"tui.flow", "tui.app"}, name


def test_screens_outside_the_flow_start_it_through_the_flow():
    for name in ("welcome", "client_sign_in", "desk_home"):
        imports = imported_modules(ROOT / "tui" / "screens" / f"{name}.py")
        assert not {f"tui.screens.{s}" for s in FLOW_SCREENS} & imports, name


def test_the_independence_contract_holds():
    lint = shutil.which("lint-imports", path=str(Path(sys.executable).parent))
    assert lint is not None
    contracts = (ROOT / "pyproject.toml").read_text()
    assert 'type = "independence"' in contracts and '"tui.screens.payment_page"' in contracts
    run = subprocess.run([lint], cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})
    assert run.returncode == 0, run.stdout + run.stderr
    assert "The client payment flow's screens know only their own job" in run.stdout
    assert "0 broken" in run.stdout


async def wait_for(pilot, kind: type, tries: int = 60):
    for _ in range(tries):
        await settle(pilot)
        if isinstance(pilot.app.screen, kind):
            return pilot.app.screen
    raise AssertionError(f"no {kind.__name__}, still on {pilot.app.screen}")


async def test_the_flow_drives_a_whole_payment_and_owns_the_selection():
    desk = FakeDesk()
    app = PaydeskApp(desk, mode="kiosk", firm=FIRM, clock=lambda: FIXED_NOW)
    app.cursor_blink = False
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        welcome = app.screen
        app.post_message(FlowStep(StartPayment(DANA)))
        page = await wait_for(pilot, PaymentPageScreen)
        assert app.flow.payer == DANA and app.flow.selection == ()
        await pilot.press("space")  # untick the first invoice: four are paid
        await settle(pilot)
        await pilot.press("c")
        method = await wait_for(pilot, PaymentMethodScreen)
        chosen = page.selection()
        assert len(chosen) == 4
        assert app.flow.selection == chosen == method.selection
        for text in ("4242 4242 4242 4242", "12/30", "123", "94107"):
            await type_text(pilot, text)
            await pilot.press("enter")
        review = await wait_for(pilot, ReviewScreen)
        assert review.selection == chosen
        for _ in range(60):  # Pay is offered once the statement texts are read
            await settle(pilot)
            if review._ready:
                break
        await pilot.press("f5")
        result = await wait_for(pilot, ResultScreen)
        assert result.succeeded and result.selection == chosen
        assert desk.paid == [{s.invoice.invoice_id: s.amount for s in chosen}]
        # Review and paying were replaced, not stacked: the result sits on the card page.
        assert [type(s) for s in app.screen_stack[-3:]] == [
            PaymentPageScreen, PaymentMethodScreen, ResultScreen]
        assert "Payment complete" in screen_text(app)
        await pilot.press("f5")  # Done: a client's session is wiped
        for _ in range(60):
            await settle(pilot)
            if not app.query("PaymentPageScreen"):
                break
        assert not any(isinstance(s, PaymentPageScreen) for s in app.screen_stack)
        assert type(app.screen) is type(welcome)
