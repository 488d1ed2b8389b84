"""`paydesk demo`, `paydesk kiosk` and `paydesk desk`: the app, built by tui.factory.

The demo runs the demo firm on its own SQLite file (the user data folder unless --db is
given), upgraded and seeded, against the in-process Stripe sandbox, with the demo sign-ins
shown. It never touches the firm's configured database or Stripe account."""

from __future__ import annotations

import argparse
import gc
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING

from billing.config import Settings, StripeSettings, default_demo_database

if TYPE_CHECKING:
    from tui.app import PaydeskApp

DEMO_APPS = {"welcome": "demo", "kiosk": "kiosk", "desk": "desk"}


def register(sub: argparse._SubParsersAction) -> None:
    demo = sub.add_parser("demo", help="open the demo firm (SQLite + in-process Stripe sandbox)")
    demo.add_argument("--app", choices=tuple(DEMO_APPS), default="welcome",
                      help="which screens: welcome (everything, the default), kiosk or desk")
    demo.add_argument("--reset", action="store_true",
                      help="start again from a freshly seeded demo database")
    demo.add_argument("--db", dest="db_after", metavar="PATH",
                      help="the demo's SQLite file (default: demo.db in the user data folder)")
    demo.set_defaults(func=_demo, setting_overrides=lambda a: {})
    kiosk = sub.add_parser("kiosk", help="the client kiosk: sign in or pay with a code")
    kiosk.set_defaults(func=_kiosk)
    desk = sub.add_parser("desk", help="the front desk (staff sign-in first)")
    desk.set_defaults(func=_desk)


def _no_terminal(command: str) -> str | None:
    """Why the app cannot run here, or None: it draws on a terminal (or on textual-serve's
    web driver, which sets TEXTUAL_DRIVER)."""
    if os.environ.get("TEXTUAL_DRIVER"):
        return None
    streams = (sys.stdin, sys.stdout)
    try:
        if all(s is not None and not s.closed and s.isatty() for s in streams):
            return None
    except (OSError, ValueError):
        pass
    return (f"`paydesk {command}` needs a terminal to draw on, and standard input or output "
            "is not one. Run it in a terminal, or serve it: `paydesk serve-ssh`, "
            "`paydesk serve-web`.")


def _run(settings: Settings, mode: str, **kwargs) -> int:
    with _collect_after_first_screen():
        return _build_and_run(settings, mode, **kwargs)


def _build_and_run(settings: Settings, mode: str, **kwargs) -> int:
    load_database_library(settings.database_url)
    from tui.factory import make_app

    problem = _no_terminal("demo" if kwargs.get("demo_sign_ins") else mode)
    if problem is None and not kwargs.get("demo_sign_ins"):
        from tui.commands.common import database_problem

        problem = database_problem(settings)
    if problem:
        print(f"paydesk: {problem}", file=sys.stderr)
        return 1
    try:
        app = make_app(settings, mode=mode, **kwargs)
    except Exception as exc:  # noqa: BLE001 - the command line reports and stops
        print(f"paydesk: cannot start: {exc}", file=sys.stderr)
        return 1
    return _run_app(app)


def _run_app(app: PaydeskApp) -> int:
    app.run()
    if app.startup_failure is not None and app.return_code:
        # A kiosk stops when Stripe cannot be set up, and every mode when the database
        # could not be opened after the first screen: either says why, as it did before.
        print(f"paydesk: cannot start: {app.startup_failure}", file=sys.stderr)
    return int(app.return_code or 0)


def load_database_library(url: str) -> None:
    """Load peewee for the one database this process opens. Whenever psycopg2 is installed,
    peewee imports it (with libpq and OpenSSL: several milliseconds before the first screen);
    a process that opens a SQLite file never uses it, so for one peewee is loaded without
    it. A PostgreSQL URL, or peewee already loaded, leaves things as they are; afterwards
    `import psycopg2` works as ever."""
    if "peewee" in sys.modules or "psycopg2" in sys.modules:
        return
    if url.startswith(("postgresql://", "postgres://")):
        return
    sys.modules["psycopg2"] = None  # type: ignore[assignment]  # `import psycopg2` fails
    try:
        import peewee  # noqa: F401
    finally:
        del sys.modules["psycopg2"]


@contextmanager
def _collect_after_first_screen() -> Iterator[None]:
    """No garbage collection until the first screen is drawn: start-up creates a few
    hundred thousand objects that all live on, and collecting them over and over while the
    app is built costs a tenth of its start. The app turns collection back on once its first
    screen is drawn (PaydeskApp._finish_start); however the command ends (refused, failed,
    or the app stopped), collection is as it was before."""
    was_on = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_on:
            gc.enable()
        else:
            gc.disable()


def _kiosk(args, settings: Settings) -> int:
    return _run(settings, "kiosk")


def _desk(args, settings: Settings) -> int:
    return _run(settings, "desk")


def demo_database(args) -> str:
    """The demo's SQLite file: --db (before or after `demo`), else the user data folder."""
    given = getattr(args, "db_after", None) or getattr(args, "db", None)
    if given:
        if "://" in given and not given.startswith("sqlite:///"):
            raise SystemExit("paydesk demo: --db must be a SQLite file path")
        return given
    return str(default_demo_database())


def prepare_demo_database(url: str, *, reset: bool) -> None:
    """Create (or with `reset`, recreate) the demo database: upgraded and seeded."""
    from models import bind, open_database
    from models.demo import seed_demo
    from models.schema import upgrade

    path = Path(url.removeprefix("sqlite:///"))
    if reset:
        # The database and the embedded sandbox's state (beside it) start afresh together.
        for suffix in ("", "-wal", "-shm", ".stripe-sandbox.json"):
            Path(f"{path}{suffix}").unlink(missing_ok=True)
    path.parent.mkdir(parents=True, exist_ok=True)
    db = bind(open_database(url))
    # One connection for both (each new SQLite connection sets its pragmas again).
    with db.connection_context():
        upgrade(db)
        seed_demo(bank_debits=True)
    db.close()


def _demo(args, settings: Settings) -> int:
    with _collect_after_first_screen():
        return _run_demo(args, settings)


def _run_demo(args, settings: Settings) -> int:
    problem = _no_terminal("demo")
    if problem:
        print(f"paydesk: {problem}", file=sys.stderr)
        return 1
    url = demo_database(args)
    settings = demo_settings(settings, url)
    app = demo_app_later(settings, DEMO_APPS[args.app]) if not args.reset else None
    if app is not None:
        return _run_app(app)
    load_database_library(url)
    prepare_demo_database(url, reset=args.reset)
    return _run(settings, DEMO_APPS[args.app], demo_sign_ins=True, allow_quit=True)


def demo_settings(settings: Settings, url: str) -> Settings:
    """The demo's settings: its own database, and always the sandbox, whatever
    STRIPE_API_KEY says (an explicit --stripe-api-base, a sandbox run elsewhere, is kept)."""
    base = settings.stripe.api_base
    stripe = StripeSettings(api_key="sk_test_paydesk_demo" if base else None, api_base=base)
    return replace(settings, database_url=url, stripe=stripe)


def demo_app_later(settings: Settings, mode: str) -> PaydeskApp | None:
    """The demo's app drawn before the database layer is loaded, when its database is ready
    as it is (models.demo_ready: nothing to upgrade or seed); None otherwise, and the caller
    prepares the database first. Its welcome shows the firm read with sqlite3 alone; the
    database, the Desk, Stripe and reconciliation follow on start-up's thread."""
    from billing.values_firm import FirmInfo
    from models.demo_ready import ready_demo_firm
    from tui.factory import make_app_later

    url = settings.database_url
    row = ready_demo_firm(url.removeprefix("sqlite:///"))
    if row is None:
        return None

    def build():
        from billing.services import build_services

        load_database_library(url)
        return build_services(settings, start_later=True)

    firm = FirmInfo(test_mode=settings.stripe.test_mode, **row)  # type: ignore[arg-type]
    return make_app_later(settings, mode=mode, firm=firm, build=build, demo_sign_ins=True,
                          allow_quit=True)
