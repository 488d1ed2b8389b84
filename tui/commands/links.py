"""`paydesk serve-links`: the firm's short links to the card pages opened on payers'
phones (billing.short_links, billing.link_server)."""

from __future__ import annotations

import argparse
import sys

from billing.config import Settings
from tui.commands.common import database_problem


def register(sub: argparse._SubParsersAction) -> None:
    links = sub.add_parser(
        "serve-links",
        help="serve the short links of card pages opened on payers' phones "
             "(kiosk.phone_link_base)")
    links.add_argument("--host", default="127.0.0.1", metavar="ADDRESS",
                       help="address to listen on (default 127.0.0.1)")
    links.add_argument("--port", type=int, default=8788, metavar="PORT",
                       help="port to listen on (default 8788; 0 picks a free one)")
    links.add_argument("--db", dest="db_after", metavar="URL", help=argparse.SUPPRESS)
    links.set_defaults(func=_serve_links,
                       setting_overrides=lambda a: {"database.url": getattr(a, "db_after", None)})


def _fail(message: str, status: int = 1) -> int:
    print(f"paydesk: {message}", file=sys.stderr)
    return status


def _serve_links(args, settings: Settings) -> int:
    from billing.link_server import LinkServer
    from models import bind, open_database
    from models.schema import upgrade

    base = settings.kiosk.phone_link_base
    if not base:
        return _fail("kiosk.phone_link_base (PAYDESK_KIOSK_PHONE_LINK_BASE) is not set: it "
                     "is the public https:// address where phones reach this server", 2)
    problem = database_problem(settings)
    if problem:
        return _fail(problem)
    db = bind(open_database(settings.database_url))
    upgrade(db)
    try:
        server = LinkServer(args.host, args.port)
    except OSError as exc:
        return _fail(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}")
    print(f"serving card page links for {base.rstrip('/')}/p/... on "
          f"http://{args.host}:{server.port}/", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if not db.is_closed():
            db.close()
    return 0
