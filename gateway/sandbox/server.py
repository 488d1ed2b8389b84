"""The sandbox's HTTP server: Stripe's wire protocol in front of the resources.

Each request: API key check, then the fault switches (rate limit, a 500 before doing
anything), idempotency, latency, the endpoint under the state lock, and finally either the
answer or (drop-rate) a closed connection after the work was done.
"""

from __future__ import annotations

import base64
import copy
import json
import logging
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gateway.client import STRIPE_API_VERSION
from gateway.sandbox import control, hosted_page
from gateway.sandbox.errors import ApiError
from gateway.sandbox.events import AUTOMATIC, RequestContext
from gateway.sandbox.faults import FaultInjector, Faults
from gateway.sandbox.forms import decode
from gateway.sandbox.resources import route
from gateway.sandbox.schema import schema as request_schema
from gateway.sandbox.store import State
from gateway.sandbox.webhooks import Delivery, WebhookSender

log = logging.getLogger("gateway.sandbox")
# The id of the API request the current thread answers: its events name it.
_REQUEST = threading.local()

_TEST_KEY = re.compile(r"^(?:sk|rk)_test_[A-Za-z0-9_]+$")
NO_KEY = ("You did not provide an API key. You need to provide your API key in the "
          "Authorization header, using Bearer auth (e.g. 'Authorization: Bearer "
          "YOUR_SECRET_KEY').")
RATE_LIMITED = ("Request rate limit exceeded. You can learn more about rate limits here "
                "https://stripe.com/docs/rate-limits.")


def _masked(key: str) -> str:
    return (key[:8] + "*" * 8 + key[-4:]) if len(key) > 12 else "*" * len(key)


def api_key_of(header: str | None) -> str:
    """The key of a Bearer or Basic Authorization header; ApiError 401 when it is no test key."""
    if not header:
        raise ApiError(401, NO_KEY)
    scheme, _, value = header.strip().partition(" ")
    key = value.strip()
    if scheme.lower() == "basic":
        try:
            key = base64.b64decode(key).decode().partition(":")[0]
        except (ValueError, UnicodeDecodeError):
            key = ""
    elif scheme.lower() != "bearer":
        raise ApiError(401, NO_KEY)
    if not _TEST_KEY.match(key):
        raise ApiError(401, f"Invalid API Key provided: {_masked(key)}. The sandbox accepts "
                            "test-mode keys only: any secret or restricted test key.")
    return key


class SandboxHTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, address: tuple[str, int], state: State, faults: Faults) -> None:
        super().__init__(address, _Handler)
        self.state = state
        self.injector = FaultInjector(faults)
        self.schema = request_schema()  # built once per process, from the pinned SDK
        self.reader_id = state.ensure_reader()["id"]
        host, port = self.server_address[:2]
        state.base_url = f"http://{host!s}:{port}"  # Checkout Sessions' `url` start here
        self.webhooks = WebhookSender(self._delivered)
        state.events.listeners.append(self.webhooks.enqueue)
        state.save()

    def _delivered(self, event_id: str) -> None:
        with self.state.lock:
            event = self.state.events.get(event_id)
            if event is not None:
                event["pending_webhooks"] = 0

    def dispatch(self, method: str, path: str, params: dict[str, Any],
                 key: str | None) -> tuple[int, dict[str, Any], bool]:
        """(status, body, replayed) for one API request; raises ApiError."""
        found = route(method, path)
        if found is None:
            raise ApiError(404, f"Unrecognized request URL ({method}: {path}). Please see "
                                "https://stripe.com/docs or we can help at "
                                "https://support.stripe.com/.")
        handler, groups = found
        # Stripe's parameter checks, `expand[]` paths included, before the endpoint runs and
        # before the idempotency key is taken: Stripe keeps no result for a request that
        # failed validation. The endpoint reads the params as the types shape them.
        prepared = self.schema.prepare(method, path, params)
        if prepared is None:  # an endpoint the pinned SDK does not have
            raise ApiError(404, f"Unrecognized request URL ({method}: {path}). Please see "
                                "https://stripe.com/docs or we can help at "
                                "https://support.stripe.com/.")
        params, violations = prepared
        if violations:
            raise violations[0].error()
        state = self.state
        if key is not None:
            saved = state.idempotency.begin(key, f"{method} {path}", params)
            if saved is not None:
                assert saved.status is not None and saved.body is not None
                return saved.status, saved.body, True
        try:
            self.injector.delay()
            expand = params.get("expand") or []
            with state.lock:
                state.sweep()  # card holds that lapsed by the sandbox clock's time
                state.request = RequestContext(getattr(_REQUEST, "id", None), key)
                try:
                    body = state.render(handler(state, params, **groups),
                                        expand if isinstance(expand, list) else [expand])
                except ApiError as exc:
                    if key is not None and exc.saved:
                        state.idempotency.finish(key, exc.status, exc.body())
                    if exc.saved:
                        state.save()
                    raise
                finally:
                    state.request = AUTOMATIC
                if key is not None:
                    state.idempotency.finish(key, 200, body)
                if method != "GET":
                    state.save()
            return 200, body, False
        finally:
            if key is not None:
                state.idempotency.forget(key)  # a no-op once a result was saved


class _Handler(BaseHTTPRequestHandler):
    server: SandboxHTTPServer
    protocol_version = "HTTP/1.1"
    server_version = "PaydeskStripeSandbox/1.0"
    # Headers and body leave in one write, without Nagle: otherwise each keep-alive
    # answer waits ~40 ms for a delayed ACK.
    wbufsize = -1
    disable_nagle_algorithm = True

    def date_time_string(self, timestamp: float | None = None) -> str:
        # Every answer's `Date` is the sandbox clock's time, moved or not, as Stripe dates
        # its answers by its own clock: a client learns Stripe's time from it.
        return super().date_time_string(self.server.state.now() if timestamp is None
                                        else timestamp)

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        state = self.server.state
        request_id = _REQUEST.id = state.new_id("req_", 14)
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        if path.startswith("/_sandbox/"):
            self._control(method, path, body)
            return
        if path.startswith("/pay/"):  # a hosted card page: the payer's browser, no API key
            status, page, page_headers = hosted_page.handle(state, method, path, body)
            self._send_bytes(status, page.encode("utf-8"), page_headers)
            return
        headers = {"Request-Id": request_id,
                   "Stripe-Version": self.headers.get("Stripe-Version") or STRIPE_API_VERSION}
        key = self.headers.get("Idempotency-Key") if method == "POST" else None
        if key:
            headers["Idempotency-Key"] = key
        injector = self.server.injector
        try:
            api_key_of(self.headers.get("Authorization"))
            if injector.rate_limited():
                raise ApiError(429, RATE_LIMITED, code="rate_limit")
            if injector.server_error():
                raise ApiError(500, "An unknown error occurred", type="api_error")
            params = decode(query)
            if method == "POST":
                params.update(decode(body))
            status, payload, replayed = self.server.dispatch(method, path, params, key or None)
            if replayed:
                headers["Idempotent-Replayed"] = "true"
        except ApiError as exc:
            status, payload = exc.status, exc.body()
            headers.update(exc.headers)
        except Exception:
            log.exception("sandbox: %s %s failed", method, path)
            status = 500
            payload = {"error": {"type": "api_error", "message": "An unknown error occurred"}}
        if status < 500 and status != 429 and injector.drop():
            # The work is done (and saved for the idempotency key); the answer is lost.
            log.debug("sandbox: dropping the response to %s %s", method, path)
            self.close_connection = True
            return
        self._send(status, payload, headers)

    def _control(self, method: str, path: str, body: str) -> None:
        """Controls for tests and the CLI, outside Stripe's API (control.py)."""
        server = self.server
        headers: dict[str, str] = {}
        try:
            payload = control.handle(
                server.state, server.webhooks, server.reader_id, method, path,
                lambda: control.params_of(body, self.headers.get("Content-Type")))
            status = 200
        except control.ControlError as exc:
            status, payload = exc.status, control.error_body(str(exc))
            if exc.allow:
                headers["Allow"] = exc.allow
        except control.REFUSALS as exc:
            status, payload = 400, control.error_body(str(exc))
        except ApiError as exc:
            status, payload = exc.status, exc.body()
        self._send(status, payload, headers)

    def _send_bytes(self, status: int, data: bytes, headers: dict[str, str]) -> None:
        self.send_response(status)
        self.send_header("Content-Length", str(len(data)))
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def _send(self, status: int, payload: dict[str, Any], headers: dict[str, str]) -> None:
        data = json.dumps(payload, indent=2).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.send_header("Access-Control-Allow-Origin", "*")
        for name, value in headers.items():
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(data)

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        # Method, path and status only: never a query string or a body.
        log.debug("sandbox: %s %s %s", self.command, self.path.partition("?")[0], code)

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        log.debug("sandbox: " + format, *args)


class Sandbox:
    """A running sandbox: `url`, `faults` (change them at run time), `reader_id`, `stop()`,
    its clock: `now()`, `advance_clock(seconds)`, `advance_clock_to(frozen_time)`, and what
    happens outside Paydesk's requests (events.py lists them): `open_dispute`,
    `close_dispute`, `dashboard_refund`, `set_webhook_endpoint`; `events()` reads the log."""

    def __init__(self, server: SandboxHTTPServer) -> None:
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, args=(0.05,),
                                        name="stripe-sandbox", daemon=True)
        host, port = server.server_address[:2]
        assert isinstance(host, str)  # an IPv4 address or host name: never bytes here
        self.url = f"http://{host}:{port}"
        self.port = int(port)
        self.reader_id = server.reader_id

    def start(self) -> Sandbox:
        self._thread.start()
        return self

    @property
    def faults(self) -> Faults:
        return self._server.injector.faults

    @faults.setter
    def faults(self, faults: Faults) -> None:
        self._server.injector.faults = faults

    @property
    def fault_counts(self) -> dict[str, int]:
        """How many 429s, 500s and dropped responses were injected so far."""
        return dict(self._server.injector.counts)

    @property
    def state(self) -> State:
        return self._server.state

    def count(self, object_name: str) -> int:
        """How many objects of a kind exist ("payment_intent", "refund", "customer", ...)."""
        with self.state.lock:
            self.state.sweep()
            return self.state.count(object_name)

    def objects(self, object_name: str) -> list[dict[str, Any]]:
        """Every object of a kind, newest first, as the API would render it."""
        with self.state.lock:
            self.state.sweep()
            return [self.state.render(o) for o in self.state.of_type(object_name)]

    def now(self) -> int:
        """The sandbox clock's time (Unix seconds): real time plus how far it was moved."""
        return self.state.now()

    def advance_clock(self, seconds: int) -> int:
        """Move the clock forward `seconds` (0 or more; ClockError, a ValueError, if not);
        card holds due by then lapse. The new time."""
        with self.state.lock:
            return control.advance(self.state, {"seconds": seconds})

    def advance_clock_to(self, frozen_time: int) -> int:
        """Move the clock forward to the Unix time `frozen_time` (not before `now()`)."""
        with self.state.lock:
            return control.advance(self.state, {"frozen_time": frozen_time})

    def configure_bank_debits(self, **options: Any) -> None:
        """ACH: `settlement_delay` seconds (None: 4 business days), `microdeposit_type`
        (descriptor_code or amounts); see settlement.configure."""
        from gateway.sandbox.settlement import configure

        with self.state.lock:
            configure(self.state, **options)

    # what the card networks and the Dashboard do (ApiError when Stripe would refuse it)
    def open_dispute(self, payment_intent: str | None = None, *, charge: str | None = None,
                     amount: int | None = None, reason: str | None = None,
                     inquiry: bool = False) -> dict[str, Any]:
        """Dispute a captured payment (its PaymentIntent's latest charge, or `charge`): a
        chargeback (needs_response, funds withdrawn) or an inquiry; the Dispute."""
        params = _given(payment_intent=payment_intent, charge=charge, amount=amount,
                        reason=reason, inquiry="true" if inquiry else None)
        with self.state.lock:
            return control.open_dispute(self.state, params)

    def close_dispute(self, dispute_id: str, outcome: str) -> dict[str, Any]:
        """The bank decides: `outcome` "won" or "lost"; the Dispute."""
        with self.state.lock:
            return control.close_dispute(self.state, dispute_id, {"outcome": outcome})

    def dashboard_refund(self, payment_intent: str | None = None, *, charge: str | None = None,
                         amount: int | None = None, reason: str | None = None,
                         ) -> dict[str, Any]:
        """Refund a captured payment (all that is left, or `amount`) as if from the
        Dashboard; the Refund."""
        params = _given(payment_intent=payment_intent, charge=charge, amount=amount,
                        reason=reason)
        with self.state.lock:
            return control.dashboard_refund(self.state, params)

    def set_webhook_endpoint(self, url: str | None, secret: str | None = None) -> None:
        """POST each event from now on to `url`, signed with `secret` (whsec_...); None
        turns delivery off (WebhookError, a ValueError, for a bad url or secret)."""
        with self.state.lock:
            control.configure_webhooks(self.state, self._server.webhooks,
                                       {"url": url or "", "secret": secret or ""})

    def webhook_deliveries(self, count: int = 0, timeout: float = 5.0) -> list[Delivery]:
        """The delivery attempts so far; with `count`, first wait (up to `timeout` seconds)
        until there are that many."""
        return self._server.webhooks.wait_for(count, timeout)

    def events(self, kind: str | None = None) -> list[dict[str, Any]]:
        """Every event (of type `kind`), newest first, as GET /v1/events shows them."""
        with self.state.lock:
            self.state.sweep()
            found = self.state.events.recent(self.state.now())
            return [copy.deepcopy(e) for e in reversed(found) if kind in (None, e["type"])]

    def stop(self) -> None:
        self._server.webhooks.stop()
        self._server.shutdown()
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def _given(**params: Any) -> dict[str, Any]:
    return {k: v for k, v in params.items() if v is not None}


def start_sandbox(port: int = 0, host: str = "127.0.0.1", faults: Faults | None = None,
                  state_file: str | None = None, *, clock_offset: int = 0,
                  webhook_url: str | None = None,
                  webhook_secret: str | None = None) -> Sandbox:
    """Start a sandbox in a daemon thread; port 0 picks a free port (see `.url`).
    `clock_offset` moves its clock that many seconds forward first (ClockError if < 0);
    `webhook_url` and `webhook_secret` (whsec_...) turn webhook delivery on."""
    state = State(state_file)
    state.clock.advance(clock_offset)
    server = SandboxHTTPServer((host, port), state, faults or Faults())
    sandbox = Sandbox(server)
    if webhook_url:
        sandbox.set_webhook_endpoint(webhook_url, webhook_secret)
    return sandbox.start()


def serve_forever(port: int = 12111, host: str = "127.0.0.1", faults: Faults | None = None,
                  state_file: str | None = None, *, stop: threading.Event | None = None,
                  on_ready: Any = None, clock_offset: int = 0, webhook_url: str | None = None,
                  webhook_secret: str | None = None) -> None:
    """Run a sandbox until `stop` is set (the caller wires SIGINT/SIGTERM to it)."""
    stop = stop or threading.Event()
    sandbox = start_sandbox(port, host, faults, state_file, clock_offset=clock_offset,
                            webhook_url=webhook_url, webhook_secret=webhook_secret)
    try:
        if on_ready is not None:
            on_ready(sandbox)
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
