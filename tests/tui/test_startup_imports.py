"""The first screen is drawn before Paydesk loads what only later screens need: the PDF
library, the Stripe SDK, the sandbox, argon2 (no secret is hashed to start), the payment
engine and the other commands; and `paydesk demo` on a ready demo database draws it before
peewee, the models and the Desk as well. Each check runs in a fresh Python, as `paydesk
demo` does."""

from __future__ import annotations

import argparse
import importlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from tui.cli import COMMAND_MODULES, COMMANDS, command_word

ROOT = Path(__file__).resolve().parents[2]
# Loaded only after the first screen (or never, for a demo that takes no payment).
LATER = ("fpdf", "fontTools", "stripe", "argon2", "gateway.stripe_gateway", "gateway.sandbox",
         "billing.checkout", "billing.emails", "billing.receipts", "billing.reconcile",
         "tui.flow", "tui.commands.doctor", "tui.commands.money_ops")
# Loaded after the first screen by `paydesk demo` on a demo database that is ready as it is:
# the database layer, the money formatting and the Desk (tui.commands.apps.demo_app_later).
DEMO_LATER = (*LATER, "peewee", "playhouse", "models.db", "models.all_models", "models.money",
              "models.queries", "models.demo", "babel", "billing.values", "billing.desk",
              "billing.desk_api", "billing.services")

FIRST_SCREEN = r'''
import asyncio, json, sys
from pathlib import Path

LATER = json.loads(sys.argv[2])
folder = Path(sys.argv[1])


def loaded():
    return sorted(name for name in LATER if name in sys.modules)


from tui.cli import build_parser

args = build_parser("demo").parse_args(["demo", "--db", str(folder / "demo.db")])
from billing.config import Settings, StripeSettings
from tui.commands.apps import prepare_demo_database
from tui.factory import make_app

prepare_demo_database(args.db_after, reset=False)
settings = Settings(database_url=args.db_after, outbox_dir=str(folder / "outbox"),
                    terminal="t", stripe=StripeSettings(api_key=None))
app = make_app(settings, mode="demo", demo_sign_ins=True, allow_quit=True)
found = {"built": loaded()}

from textual.screen import Screen
from tui.screens.welcome import WelcomeScreen

drawn = Screen._compositor_refresh


def first_paint(screen):
    drawn(screen)
    if isinstance(screen, WelcomeScreen) and "painted" not in found:
        found["painted"] = loaded()


Screen._compositor_refresh = first_paint


async def main():
    async with app.run_test(size=(100, 30)) as pilot:
        while "painted" not in found:
            await pilot.pause()
        # After the first screen, start-up finishes: Stripe and the sandbox are loaded.
        await asyncio.to_thread(app.desk.startup.wait, 60)
        found["started"] = loaded()


asyncio.run(main())
print(json.dumps(found))
'''


def test_the_first_screen_is_drawn_before_stripe_pdf_and_hashing_are_loaded(tmp_path):
    run = subprocess.run([sys.executable, "-c", FIRST_SCREEN, str(tmp_path), json.dumps(LATER)],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["built"] == []
    assert found["painted"] == []
    # The check can see them: once start-up has finished, Stripe and the sandbox are there.
    assert {"stripe", "gateway.stripe_gateway", "gateway.sandbox"} <= set(found["started"])
    assert not {"fpdf", "fontTools", "argon2"} & set(found["started"])


def test_importing_the_app_loads_none_of_them():
    code = ("import json, sys; import tui.app, tui.factory, tui.screens.welcome, "
            "tui.screens.staff_sign_in, tui.commands.apps; "
            f"print(json.dumps(sorted(m for m in {list(DEMO_LATER)!r} if m in sys.modules)))")
    run = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                         text=True, timeout=60)
    assert run.returncode == 0, run.stderr[-2000:]
    assert json.loads(run.stdout) == []


def test_each_command_word_names_the_module_that_adds_it():
    """`paydesk demo` loads tui.commands.apps alone: the table must say where each
    command is, or that command's module would not be loaded."""
    for name in COMMAND_MODULES:
        parser = argparse.ArgumentParser()
        sub = parser.add_subparsers()
        importlib.import_module(f"tui.commands.{name}").register(sub)
        for command in sub.choices:
            assert COMMANDS.get(command) == name, command
    assert set(COMMANDS.values()) <= set(COMMAND_MODULES)


def test_the_command_word_is_found_after_the_global_options():
    assert command_word(["--db", "x.db", "demo", "--reset"]) == "demo"
    assert command_word(["--config", "demo", "kiosk"]) == "kiosk"
    assert command_word(["--config=a.toml", "pay", "--help"]) == "pay"
    assert command_word(["--help"]) is None
    assert command_word([]) is None


DEMO_FIRST_SCREEN = r"""
import asyncio, json, sys
from pathlib import Path

LATER = json.loads(sys.argv[2])
folder = Path(sys.argv[1])


def loaded():
    return sorted(name for name in LATER if name in sys.modules)


from billing.config import Settings
from tui.commands.apps import demo_app_later, demo_settings

settings = demo_settings(Settings(database_url="unused", outbox_dir=str(folder / "outbox"),
                                  terminal="t"), str(folder / "demo.db"))
mode = sys.argv[3]
app = demo_app_later(settings, mode)
found = {"built": loaded(), "firm": app.firm.name}

from textual.screen import Screen

if mode == "desk":  # `paydesk demo --app desk`: the staff sign-in comes first
    from tui.screens.staff_sign_in import StaffSignInScreen as First
else:
    from tui.screens.welcome import WelcomeScreen as First

drawn = Screen._compositor_refresh


def first_paint(screen):
    drawn(screen)
    if isinstance(screen, First) and "painted" not in found:
        found["painted"] = loaded()
        if mode != "desk":
            found["welcome"] = str(screen.query_one("#welcome-heading").render())


Screen._compositor_refresh = first_paint


async def main():
    async with app.run_test(size=(100, 30)) as pilot:
        while "painted" not in found:
            await pilot.pause()
        # Start-up builds the Desk, then connects to Stripe and reconciles: the desk waits.
        await asyncio.to_thread(lambda: app.desk.startup.wait(60))
        found["started"] = loaded()
        found["same_firm"] = app.desk.firm() == app.firm
        found["gateway"] = app.services.gateway is not None


asyncio.run(main())
print(json.dumps(found))
"""


def _prepare(database: Path) -> None:
    """The demo database as `paydesk demo` leaves it (in a Python of its own: preparing binds
    this process's database)."""
    code = ("import sys; from tui.commands.apps import prepare_demo_database; "
            "prepare_demo_database(sys.argv[1], reset=False)")
    subprocess.run([sys.executable, "-c", code, str(database)], cwd=ROOT, check=True,
                   timeout=120)


@pytest.mark.parametrize("mode", ["demo", "desk"])
def test_the_demo_draws_its_first_screen_before_the_database_layer_and_the_desk(tmp_path,
                                                                                mode):
    _prepare(tmp_path / "demo.db")
    run = subprocess.run([sys.executable, "-c", DEMO_FIRST_SCREEN, str(tmp_path),
                          json.dumps(DEMO_LATER), mode],
                         cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr[-2000:]
    found = json.loads(run.stdout.strip().splitlines()[-1])
    assert found["built"] == []
    assert found["painted"] == []
    if mode == "demo":
        assert found["welcome"] == "Welcome to Harbor & Vale LLP"
    # Then start-up built the Desk (the firm it reads is the one the welcome showed), set up
    # Stripe and opened the gate.
    assert found["same_firm"] is True
    assert found["gateway"] is True
    assert {"peewee", "billing.desk", "stripe", "gateway.sandbox"} <= set(found["started"])
    assert not {"fpdf", "fontTools", "argon2"} & set(found["started"])


def test_a_demo_database_is_used_as_it_is_only_when_nothing_is_left_to_prepare(tmp_path):
    """Anything preparing would change (a missing file, a migration not applied, the demo
    firm missing or without its details) sends `paydesk demo` the long way: upgraded and
    seeded before the app is built."""
    import sqlite3

    from models.demo_ready import ready_demo_firm

    database = tmp_path / "demo.db"
    assert ready_demo_firm(str(database)) is None
    assert not database.exists()  # looking creates nothing
    _prepare(database)
    firm = ready_demo_firm(str(database))
    assert firm is not None and firm["name"] == "Harbor & Vale LLP"
    assert firm["online_payments_enabled"] is True
    connection = sqlite3.connect(database)
    with connection:
        connection.execute("UPDATE firm SET address = '', email = ''")
    assert ready_demo_firm(str(database)) is None  # seed_demo would add the details
    _prepare(database)
    assert ready_demo_firm(str(database)) is not None
    with connection:
        connection.execute("DELETE FROM schema_migration WHERE name = "
                           "(SELECT MAX(name) FROM schema_migration)")
    assert ready_demo_firm(str(database)) is None  # a migration to run
    with connection:
        connection.execute("DROP TABLE schema_migration")
    assert ready_demo_firm(str(database)) is None
    connection.close()
    database.write_bytes(b"not a database")
    assert ready_demo_firm(str(database)) is None
