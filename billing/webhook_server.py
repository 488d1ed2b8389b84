"""Stripe's webhook deliveries: a small HTTP server that checks each delivery's signature
and applies its event (`billing.events.apply_event`, the poller's own way in).

A delivery without a valid signature, or signed longer ago than the tolerance, is refused
with 400 and changes nothing. An event that fails to apply answers 500, so that Stripe
delivers it again later (applying is all or nothing; the poller may also bring it).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler
from typing import Any

from billing.event_common import EVENTS_TERMINAL
from billing.events import apply_event
from billing.http_service import HttpService
from gateway.events import WEBHOOK_TOLERANCE_SECONDS, SignatureRefused, verified_event
from models.db import database

log = logging.getLogger(__name__)
# Stripe's event payloads are a few kilobytes; anything far larger is not one.
MAX_BODY_BYTES = 512 * 1024
# A connection that sends nothing for this long is closed: a slow or stalled client must
# not hold one of the server's threads for ever.
SOCKET_TIMEOUT_SECONDS = 30


class _Handler(BaseHTTPRequestHandler):
    server: WebhookServer
    server_version = "Paydesk"
    sys_version = ""
    timeout = SOCKET_TIMEOUT_SECONDS

    def do_POST(self) -> None:  # noqa: N802 - http.server's name
        length = self.headers.get("Content-Length", "")
        if not length.isdigit() or int(length) > MAX_BODY_BYTES:
            self._answer(400, {"error": "a Stripe event body is expected"})
            return
        payload = self.rfile.read(int(length))
        try:
            event = verified_event(payload, self.headers.get("Stripe-Signature"),
                                   self.server.secret, tolerance=self.server.tolerance)
        except SignatureRefused as exc:
            log.warning("webhook refused: %s", exc)
            self._answer(400, {"error": str(exc)})
            return
        try:
            with database.connection_context():
                applied = self.server.apply(event)
        except Exception as exc:  # noqa: BLE001 - Stripe retries a delivery that failed
            log.warning("webhook event %s not applied: %s", event.get("id"), type(exc).__name__)
            self._answer(500, {"error": "not applied; deliver again later"})
            return
        self._answer(200, {"received": True, "applied": applied})

    def do_GET(self) -> None:  # noqa: N802
        self._answer(405, {"error": "Stripe delivers events with POST"})

    def _answer(self, status: int, body: dict[str, Any]) -> None:
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - stdlib's name
        log.info("%s %s", self.address_string(), format % args)


class WebhookServer(HttpService):
    """Serves Stripe's deliveries on (host, port); port 0 takes a free one (`.port`)."""

    thread_name = "stripe-webhooks"

    def __init__(self, host: str, port: int, *, secret: str,
                 tolerance: int = WEBHOOK_TOLERANCE_SECONDS, terminal: str = EVENTS_TERMINAL,
                 apply: Callable[[dict[str, Any]], bool] | None = None) -> None:
        if not secret:
            raise ValueError("stripe.webhook_secret is not set")
        super().__init__((host, port), _Handler)
        self.secret = secret
        self.tolerance = tolerance
        self.apply = apply or (lambda event: apply_event(
            event, source="webhook", terminal=terminal).applied)
