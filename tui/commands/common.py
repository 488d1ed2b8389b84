"""What several `paydesk` commands share: opening the firm's database without creating it,
and asking a person at a terminal (never a traceback when there is none).

The database is checked before anything is built on it: a missing SQLite file is never
created here (`paydesk db upgrade` or `paydesk demo` create one), and a database without
Paydesk's schema is named, with what to run. An older schema is not a problem here: the
services bring it up to date as before.
"""

from __future__ import annotations

import getpass
import sys
import warnings

from billing.config import Settings


class NoTerminal(Exception):
    """Nobody can be asked: standard input is not a terminal, or it is closed."""


def database_problem(settings: Settings) -> str | None:
    """A sentence saying why this command cannot use the configured database, or None."""
    if settings.database_is_default and not settings.stripe.test_mode:
        return ("database.url is not set, so Paydesk would open the demo firm's database "
                f"({settings.database_url}) with a live Stripe key. Set database.url "
                "(PAYDESK_DATABASE_URL, --db, or [database] url in the settings file) to "
                "the firm's database.")
    # The doctor's checks load the Stripe SDK: only a command that opens a database it did
    # not create itself needs them, and not before that.
    from tui.commands import doctor

    found = doctor.Findings()
    if settings.database_is_default:
        from models.db import sqlite_path

        path = sqlite_path(settings.database_url)
        if path is not None and not _exists(path):
            return (f"There is no demo database yet ({path}): run `paydesk demo` (or "
                    "`paydesk db seed-demo`) to create the demo firm, or set database.url "
                    "(PAYDESK_DATABASE_URL or --db) to the firm's database.")
    doctor._database(settings, found)
    if found.old_schema:
        return None
    problems = [c.message for c in found.checks if c.name == "database"
                and c.status == doctor.PROBLEM]
    return problems[0] if problems else None


def _exists(path: str) -> bool:
    from pathlib import Path

    return Path(path).expanduser().is_file()


def has_terminal() -> bool:
    try:
        return sys.stdin is not None and not sys.stdin.closed and sys.stdin.isatty()
    except (OSError, ValueError):
        return False


def ask_secret(prompt: str) -> str:
    """What the person types, echo off; NoTerminal when nobody can be asked."""
    if not has_terminal():
        raise NoTerminal
    with warnings.catch_warnings():
        warnings.simplefilter("error", getpass.GetPassWarning)
        try:
            return getpass.getpass(prompt)
        except (EOFError, OSError, getpass.GetPassWarning):
            raise NoTerminal from None


def ask(prompt: str) -> str:
    """A visible answer (nothing secret); NoTerminal when nobody can be asked. The prompt
    goes to standard error, so that it never mixes with output such as --json."""
    if not has_terminal():
        raise NoTerminal
    try:
        sys.stderr.write(prompt)
        sys.stderr.flush()
        line = sys.stdin.readline()
    except (OSError, ValueError):
        raise NoTerminal from None
    if not line:
        raise NoTerminal
    return line.rstrip("\r\n")
