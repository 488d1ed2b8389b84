"""The `paydesk` command line: global options, then one sub-command.

Each group of sub-commands lives in its own module under `tui/commands/` and exposes
`register(subparsers)`; a sub-command's handler takes `(args, settings)` and returns the
exit status (0 when everything asked for succeeded).
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from billing.config import ConfigError, load_settings
from gateway.errors import GatewayError

# Modules under tui.commands that add sub-commands; a missing one is skipped so that the
# command line works while a group is being built.
COMMAND_MODULES = ("db", "sandbox", "money_ops", "outbox", "apps", "serve", "doctor", "events",
                   "links")
# The sub-commands each module adds: a command line naming one loads only its module (the
# others import the Stripe SDK, the PDF library and the sandbox, which `paydesk demo` must
# not wait for). Help, and anything not listed, loads them all.
COMMANDS = {
    "db": "db", "sandbox": "sandbox",
    "invoices": "money_ops", "pay": "money_ops", "payments": "money_ops", "refund": "money_ops",
    "offline-payment": "money_ops", "firm": "money_ops", "reconcile": "money_ops",
    "receipt": "outbox", "outbox": "outbox",
    "demo": "apps", "kiosk": "apps", "desk": "apps",
    "serve-ssh": "serve", "serve-web": "serve",
    "doctor": "doctor",
    "events": "events", "serve-webhooks": "events",
    "serve-links": "links",
}
# Global options followed by a value (the command word is the first word after them).
_VALUE_OPTIONS = ("--config", "--db", "--stripe-api-base")


def command_word(argv: Sequence[str]) -> str | None:
    """The sub-command `argv` names, or None (no command, or help asked before it)."""
    words = iter(argv)
    for word in words:
        if word in _VALUE_OPTIONS:
            next(words, None)
        elif word.startswith("-"):
            if word in ("-h", "--help"):
                return None
        else:
            return word
    return None


def build_parser(command: str | None = None) -> argparse.ArgumentParser:
    """The parser; given the `command` word, only the module that adds it is loaded."""
    parser = argparse.ArgumentParser(
        prog="paydesk",
        description="Paydesk: a law firm's clients pay several invoices in one sitting.",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML settings file")
    parser.add_argument("--db", metavar="URL",
                        help="SQLite file path or postgresql:// URL (default: database.url, "
                             "else the demo firm's database that `paydesk demo` opens)")
    parser.add_argument(
        "--stripe-api-base", metavar="URL", help="Stripe API base (a sandbox, say)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    modules = (COMMANDS[command],) if command in COMMANDS else COMMAND_MODULES
    for name in modules:
        try:
            module = importlib.import_module(f"tui.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tui.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    if argv is None:
        argv = sys.argv[1:]
    parser = build_parser(command_word(argv))
    args = parser.parse_args(argv)
    overrides = {"database.url": args.db, "stripe.api_base": args.stripe_api_base}
    extra = getattr(args, "setting_overrides", lambda a: {})(args)
    overrides.update({k: v for k, v in extra.items() if v is not None})
    try:
        settings = load_settings(args.config, overrides=overrides)
    except ConfigError as exc:
        print(f"paydesk: {exc}", file=sys.stderr)
        return 2
    try:
        return int(args.func(args, settings) or 0)
    except GatewayError as exc:
        # A Stripe failure no handler put in its own words: one sentence, never a traceback.
        from tui.commands.money_run import gateway_sentence

        print(f"paydesk: {gateway_sentence(exc)}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("\npaydesk: stopped. A payment or refund already sent to Stripe is settled by "
              "`paydesk reconcile`; nothing is charged twice.", file=sys.stderr)
        return 130
    except BrokenPipeError:
        # The reader of our output went away (`| head`): stop quietly.
        _silence_stdout()
        return 1
    except SystemExit:
        raise
    except Exception as exc:  # noqa: BLE001 - the last word: a sentence, never a traceback
        print(f"paydesk: {_unexpected(exc)}", file=sys.stderr)
        return 1


def _unexpected(exc: Exception) -> str:
    """A sentence for an error no command handled, without its raw text (which may carry
    paths or values that do not belong on a terminal)."""
    import peewee

    if isinstance(exc, peewee.DatabaseError | peewee.InterfaceError):
        return ("the database could not be reached or read "
                f"({type(exc).__name__}). `paydesk doctor` checks the set-up.")
    if isinstance(exc, OSError):
        return (f"a file or connection could not be used ({exc.strerror or type(exc).__name__})."
                " `paydesk doctor` checks the set-up.")
    return (f"the command stopped on an unexpected error ({type(exc).__name__}). A payment "
            "or refund already sent to Stripe is settled by `paydesk reconcile`; "
            "`paydesk doctor` checks the set-up.")


def _silence_stdout() -> None:
    import os

    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):
        pass


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
