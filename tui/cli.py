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
COMMAND_MODULES = ("db", "sandbox", "money_ops", "outbox", "apps", "serve", "doctor")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="paydesk",
        description="Paydesk: a law firm's clients pay several invoices in one sitting.",
    )
    parser.add_argument("--config", metavar="FILE", help="TOML settings file")
    parser.add_argument("--db", metavar="URL", help="SQLite file path or postgresql:// URL")
    parser.add_argument(
        "--stripe-api-base", metavar="URL", help="Stripe API base (a sandbox, say)"
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True
    for name in COMMAND_MODULES:
        try:
            module = importlib.import_module(f"tui.commands.{name}")
        except ModuleNotFoundError as exc:
            if exc.name != f"tui.commands.{name}":
                raise
            continue
        module.register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
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
        from tui.commands.money_ops import gateway_sentence

        print(f"paydesk: {gateway_sentence(exc)}", file=sys.stderr)
        return 1


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
