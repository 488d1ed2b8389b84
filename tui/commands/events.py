"""`paydesk events sync` and `paydesk serve-webhooks`: what Stripe reports after a checkout
(refunds made in the Stripe Dashboard, disputes, holds that lapsed) reaches the invoices.

Both apply events through `billing.events.apply_event`, so one event is applied once
whichever brings it first.
"""

from __future__ import annotations

import argparse
import sys

from billing.config import Settings
from billing.errors import BillingError
from gateway.errors import GatewayError
from tui.commands.common import database_problem


def register(sub: argparse._SubParsersAction) -> None:
    events = sub.add_parser("events", help="Stripe's events: refunds and disputes made in Stripe")
    events_sub = events.add_subparsers(dest="events_command", metavar="ACTION")
    events_sub.required = True
    sync = events_sub.add_parser(
        "sync", help="read Stripe's events since the last one read, and apply them")
    sync.set_defaults(func=_sync)

    hooks = sub.add_parser("serve-webhooks",
                           help="receive Stripe's webhook deliveries (signature checked)")
    hooks.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                       help="address to listen on (default 127.0.0.1)")
    hooks.add_argument("--port", type=int, default=8787, metavar="PORT",
                       help="port to listen on (default 8787; 0 picks a free one)")
    hooks.add_argument("--tolerance", type=int, default=300, metavar="SECONDS",
                       help="refuse deliveries signed longer ago than this (default 300)")
    hooks.add_argument("--no-poll", action="store_true",
                       help="do not also read Stripe's event list now and then "
                            "(stripe.events_poll_seconds; 0 turns it off too)")
    hooks.set_defaults(func=_serve_webhooks)

    for parser in (sync, hooks):
        parser.add_argument("--db", dest="db_after", metavar="URL", help=argparse.SUPPRESS)
        parser.set_defaults(
            setting_overrides=lambda a: {"database.url": getattr(a, "db_after", None)})


def _fail(message: str, status: int = 1) -> int:
    print(f"paydesk: {message}", file=sys.stderr)
    return status


def _sync(args, settings: Settings) -> int:
    from billing.event_sync import read_events
    from billing.services import build_services

    problem = database_problem(settings)
    if problem:
        return _fail(problem)
    services = build_services(settings, reconcile_at_start=False)
    try:
        with services.db.connection_context():
            report = read_events(services.gateway, terminal=settings.terminal)
    except GatewayError as exc:
        return _fail(f"Stripe's events could not be read ({exc.message}); "
                     "the next sync resumes after the last event applied")
    except BillingError as exc:
        return _fail(exc.message)
    finally:
        services.close()
    print(f"read {report.read} events from Stripe, applied {report.applied} "
          f"({report.read - report.applied} were applied before)")
    return 0


def _serve_webhooks(args, settings: Settings) -> int:
    from billing.event_sync import start_event_poller
    from billing.services import build_services
    from billing.webhook_server import WebhookServer

    secret = settings.stripe.webhook_secret
    if not secret:
        return _fail("stripe.webhook_secret (STRIPE_WEBHOOK_SECRET) is not set: it is the "
                     "signing secret (whsec_...) of the endpoint in the Stripe Dashboard", 2)
    if args.tolerance <= 0:
        return _fail("--tolerance must be a number of seconds above 0", 2)
    problem = database_problem(settings)
    if problem:
        return _fail(problem)
    services = build_services(settings, reconcile_at_start=False)
    try:
        try:
            server = WebhookServer(args.host, args.port, secret=secret,
                                   tolerance=args.tolerance, terminal=settings.terminal)
        except OSError as exc:
            return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
        # Webhooks can be missed (the endpoint down, a delivery given up): the poller reads
        # the events after the last one applied, whichever brought it.
        poller = None if args.no_poll else start_event_poller(services)
        print(f"receiving Stripe webhooks on http://{args.host}:{server.port}/"
              + (f"; reading Stripe's events every {settings.stripe.events_poll_seconds:g} s"
                 if poller else ""), flush=True)
        try:
            server.serve_forever()
        except KeyboardInterrupt:
            pass
        finally:
            if poller is not None:
                poller.stop()
            server.server_close()
        return 0
    finally:
        services.close()
