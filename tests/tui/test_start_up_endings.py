"""How start-up after the first screen ends, as the app sees it: quitting never waits for it
(Stripe unreachable can make it take minutes); a Stripe set-up that fails is told at the
desk at once, and stops a kiosk with the sentence `paydesk kiosk` used to stop with; a
database that cannot be opened stops every mode, saying so."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from billing.config import Settings, StripeSettings
from billing.errors import StripeUnavailable
from billing.services import embedded_sandbox_state
from billing.services_later import ServicesLater
from tests.tui.fakes import FIRM, FakeDesk
from tui.app import PaydeskApp
from tui.factory import make_app

ROOT = Path(__file__).resolve().parents[2]
WAIT = 30  # seconds: a bound on waiting for another thread, never a pause


class _SlowStart:
    """Services whose start-up hangs (Stripe unreachable) until the test lets it go."""

    def __init__(self) -> None:
        self.desk = FakeDesk()
        self.started, self.release = threading.Event(), threading.Event()
        self.finished, self.closed = threading.Event(), threading.Event()

    def finish_start(self) -> str | None:
        self.started.set()
        self.release.wait(4 * WAIT)
        self.finished.set()
        return None

    def close(self) -> None:
        self.closed.set()


def test_quitting_during_a_slow_start_up_does_not_wait_for_it():
    services = _SlowStart()
    app = PaydeskApp(services.desk, mode="desk", firm=FIRM, services=services,
                     owns_services=True)
    returned = threading.Event()

    def run() -> None:
        app.run(headless=True, size=(100, 30))  # as `paydesk desk` runs it: asyncio.run
        returned.set()

    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    try:
        assert services.started.wait(WAIT)
        app.call_from_thread(app.exit)
        assert returned.wait(WAIT), "the app waited for start-up to finish"
        assert not services.finished.is_set()  # start-up was still running
        assert services.closed.is_set()
    finally:
        services.release.set()
        runner.join(WAIT)


def _damaged_sandbox(sqlite_url: str, tmp_path: Path) -> Settings:
    settings = Settings(database_url=sqlite_url, outbox_dir=str(tmp_path / "outbox"),
                        terminal="t", stripe=StripeSettings(api_key=None))
    Path(embedded_sandbox_state(settings)).write_text('{"objects": {"cus_1": ',
                                                      encoding="utf-8")  # cut off mid-write
    return settings


async def _until(pilot, done) -> None:
    async def wait() -> None:
        while not done():
            await pilot.pause()

    await asyncio.wait_for(wait(), WAIT)


async def test_the_desk_is_told_at_once_when_stripe_cannot_be_set_up(demo_sqlite, sqlite_url,
                                                                     tmp_path):
    app = make_app(_damaged_sandbox(sqlite_url, tmp_path), mode="desk")
    async with app.run_test(size=(100, 30)) as pilot:
        # Start-up ends (no payment asked for anything) ...
        with pytest.raises(StripeUnavailable):
            await asyncio.to_thread(app.desk.startup.wait, WAIT)
        # ... and the desk is told, in words, without waiting for a payment to fail.
        await _until(pilot, lambda: len(app._notifications) > 0)
        [note] = list(app._notifications)
        assert note.severity == "error"
        assert note.message.startswith("Paydesk cannot reach Stripe: the built-in Stripe "
                                       "sandbox (used because no Stripe key is set) could "
                                       "not start (")
        assert "if that file is damaged, move it aside" in note.message
        assert "JSONDecodeError" not in note.message
        assert app.is_running and app.startup_failure is not None


async def test_a_kiosk_stops_when_stripe_cannot_be_set_up(demo_sqlite, sqlite_url, tmp_path):
    app = make_app(_damaged_sandbox(sqlite_url, tmp_path), mode="kiosk")
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.startup_failure is not None)
    assert app.return_code == 1
    assert app.startup_failure.startswith("the built-in Stripe sandbox")
    assert not app._notifications  # no one at a kiosk to read a notice


def test_paydesk_kiosk_says_why_it_cannot_start(demo_sqlite, sqlite_url, tmp_path):
    state = embedded_sandbox_state(_damaged_sandbox(sqlite_url, tmp_path))
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAYDESK_", "STRIPE_", "TEXTUAL"))}
    # Drawn by Textual's headless driver: no terminal is needed, as with textual-serve.
    env.update(HOME=str(tmp_path), PAYDESK_OUTBOX_DIR=str(tmp_path / "outbox"),
               TEXTUAL_DRIVER="textual.drivers.headless_driver:HeadlessDriver")
    run = subprocess.run([sys.executable, "-m", "tui.cli", "--db", sqlite_url, "kiosk"],
                         cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=2 * WAIT)
    assert run.returncode == 1, run.stderr[-2000:]
    # (The headless driver passes the log's warning through to stderr before it.)
    said = run.stderr.strip().splitlines()[-1]
    assert said.startswith("paydesk: cannot start: the built-in Stripe sandbox (used because "
                           "no Stripe key is set) could not start ("), run.stderr[-2000:]
    assert f"It keeps its state in {state}: if that file is damaged" in said


def _database_not_opened() -> ServicesLater:
    """Services built after the first screen whose database cannot be opened (`paydesk demo`
    on a ready demo database that another program has locked meanwhile)."""

    def build():
        raise sqlite3.OperationalError("database is locked")

    return ServicesLater(build)


DATABASE_NOT_OPENED = ("the database could not be opened (OperationalError). "
                       "`paydesk doctor` checks the set-up.")


@pytest.mark.parametrize("mode", ["demo", "desk", "kiosk"])
async def test_every_mode_stops_when_the_database_cannot_be_opened(mode):
    """Nothing works without the database: no mode stays open answering "could not open
    its database" to every action, and nothing blames Stripe."""
    services = _database_not_opened()
    app = PaydeskApp(services.desk, mode=mode, firm=FIRM, services=services,
                     owns_services=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await _until(pilot, lambda: app.startup_failure is not None)
        await _until(pilot, lambda: app.return_code is not None)
    assert app.return_code == 1
    assert app.startup_failure == DATABASE_NOT_OPENED
    assert not app._notifications


DEMO_WITHOUT_ITS_DATABASE = r"""
import sqlite3, sys

import billing.services
from tui.cli import main
from tui.commands.apps import prepare_demo_database

prepare_demo_database(sys.argv[1], reset=False)  # ready: the first screen comes first


def build_services(settings, **kwargs):
    raise sqlite3.OperationalError("database is locked")


billing.services.build_services = build_services
sys.exit(main(["--db", sys.argv[1], "demo"]))
"""


def test_paydesk_demo_says_why_it_cannot_start_without_its_database(tmp_path):
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("PAYDESK_", "STRIPE_", "TEXTUAL"))}
    env.update(HOME=str(tmp_path), PAYDESK_OUTBOX_DIR=str(tmp_path / "outbox"),
               TEXTUAL_DRIVER="textual.drivers.headless_driver:HeadlessDriver")
    run = subprocess.run([sys.executable, "-c", DEMO_WITHOUT_ITS_DATABASE,
                          str(tmp_path / "demo.db")],
                         cwd=ROOT, env=env, stdin=subprocess.DEVNULL, capture_output=True,
                         text=True, timeout=2 * WAIT)
    assert run.returncode == 1, run.stderr[-2000:]
    said = run.stderr.strip().splitlines()[-1]
    assert said == f"paydesk: cannot start: {DATABASE_NOT_OPENED}", run.stderr[-2000:]
    assert "Stripe" not in run.stderr
