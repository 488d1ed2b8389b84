"""`paydesk serve-links`: the firm's short links to card pages (billing.short_links).

A small HTTP server on the address `kiosk.phone_link_base` names (behind the firm's own
TLS front, as any public web service). `GET /p/<code>` redirects to Stripe's card page
while Paydesk still takes its card, and otherwise answers with a page that says the link
is closed or unknown. Nothing else is served. Codes are never logged: while a link is
open, its code is as good as the card page's address.
"""

from __future__ import annotations

import html
import logging
from collections.abc import Callable
from datetime import datetime
from http.server import BaseHTTPRequestHandler
from typing import Any

from billing.http_service import HttpService
from billing.short_links import code_from_path, follow
from models.db import database
from models.firm import utcnow

log = logging.getLogger(__name__)
SOCKET_TIMEOUT_SECONDS = 30

CLOSED = ("This card page is closed",
          "The link was used already, cancelled, or its time ran out. Nothing more will be "
          "charged through it. Ask the firm for a new link if you still want to pay.")
UNKNOWN = ("No card page here",
           "This address is not a card page link. Check the link you were given, or ask "
           "the firm for a new one.")
_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title}</title></head>
<body style="font-family: sans-serif; max-width: 32em; margin: 2em auto; padding: 0 1em">
<h1 style="font-size: 1.4em">{title}</h1><p>{text}</p></body></html>
"""


class _Handler(BaseHTTPRequestHandler):
    server: LinkServer
    server_version = "Paydesk"
    sys_version = ""
    timeout = SOCKET_TIMEOUT_SECONDS

    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        self._answer(body=True)

    def do_HEAD(self) -> None:  # noqa: N802
        self._answer(body=False)

    def _answer(self, *, body: bool) -> None:
        code = code_from_path(self.path)
        try:
            with database.connection_context():
                answer = follow(code, self.server.clock())
        except Exception as exc:  # noqa: BLE001 - the payer sees a page, the log the kind
            log.warning("short link not followed: %s", type(exc).__name__)
            self._page(503, ("Please try again", "The card page could not be looked up "
                             "just now. Try the link again in a minute."), body)
            return
        if answer.state == "open" and answer.location:
            self.send_response(302)
            self.send_header("Location", answer.location)
            self.send_header("Cache-Control", "no-store")
            self.send_header("Referrer-Policy", "no-referrer")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self._page(410 if answer.state == "closed" else 404,
                   CLOSED if answer.state == "closed" else UNKNOWN, body)

    def _page(self, status: int, words: tuple[str, str], body: bool) -> None:
        title, text = words
        data = _PAGE.format(title=html.escape(title), text=html.escape(text)).encode()
        self.send_response(status)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        if body:
            self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        # The request line holds the code: logged without it.
        shown = tuple("(request)" if isinstance(a, str) and "/p/" in a.lower() else a
                      for a in args)
        log.info("%s %s", self.address_string(), format % shown)


class LinkServer(HttpService):
    """Serves short links on (host, port); port 0 takes a free one (`.port`). `clock`
    (naive UTC) decides when a link's time has run out."""

    thread_name = "short-links"

    def __init__(self, host: str, port: int, *,
                 clock: Callable[[], datetime] = utcnow) -> None:
        super().__init__((host, port), _Handler)
        self.clock = clock
