"""The sandbox's HTTP server: Stripe's wire protocol in front of the resources.

Each request: API key check, then the fault switches (rate limit, a 500 before doing
anything), idempotency, latency, the endpoint under the state lock, and finally either the
answer or (drop-rate) a closed connection after the work was done.
"""

from __future__ import annotations

import base64
import json
import logging
import re
import threading
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from gateway.client import STRIPE_API_VERSION
from gateway.sandbox.clock import ClockError
from gateway.sandbox.errors import ApiError
from gateway.sandbox.faults import FaultInjector, Faults
from gateway.sandbox.forms import decode
from gateway.sandbox.resources import route
from gateway.sandbox.schema import schema as request_schema
from gateway.sandbox.store import State

log = logging.getLogger("gateway.sandbox")

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
        state.save()

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
                try:
                    body = state.render(handler(state, params, **groups),
                                        expand if isinstance(expand, list) else [expand])
                except ApiError as exc:
                    if key is not None and exc.saved:
                        state.idempotency.finish(key, exc.status, exc.body())
                    if exc.saved:
                        state.save()
                    raise
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

    def do_GET(self) -> None:  # noqa: N802 - http.server's naming
        self._handle("GET")

    def do_POST(self) -> None:  # noqa: N802
        self._handle("POST")

    def do_DELETE(self) -> None:  # noqa: N802
        self._handle("DELETE")

    def _handle(self, method: str) -> None:
        state = self.server.state
        request_id = state.new_id("req_", 14)
        path, _, query = self.path.partition("?")
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length).decode("utf-8", "replace") if length else ""
        if path.startswith("/_sandbox/"):
            self._control(method, path, body)
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
        """Controls for tests and the CLI, outside Stripe's API: GET /_sandbox/health,
        /_sandbox/counts, /_sandbox/clock; POST /_sandbox/clock/advance (form or JSON,
        `seconds=N` or `frozen_time=T`) moves the clock forward."""
        state = self.server.state
        views = ("/_sandbox/health", "/_sandbox/counts", "/_sandbox/clock")
        if path not in (*views, "/_sandbox/clock/advance"):
            self._send(404, _control_error("Unknown sandbox control path."), {})
            return
        wanted = "POST" if path == "/_sandbox/clock/advance" else "GET"
        if method != wanted:
            self._send(405, _control_error(f"Use {wanted} for {path}."), {"Allow": wanted})
            return
        payload: dict[str, Any]
        with state.lock:
            if path == "/_sandbox/clock/advance":
                try:
                    _advance(state, _control_params(body, self.headers.get("Content-Type")))
                except ClockError as exc:
                    self._send(400, _control_error(str(exc)), {})
                    return
            state.sweep()
            if path == "/_sandbox/health":
                payload = {"ok": True, "reader": self.server.reader_id}
            elif path == "/_sandbox/counts":
                payload = {}
                for obj in state.objects.values():
                    payload[obj["object"]] = payload.get(obj["object"], 0) + 1
            else:
                payload = {"now": state.now(), "offset": state.clock.offset}
        self._send(200, payload, {})

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


def _control_error(message: str) -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error", "message": message}}


def _control_params(body: str, content_type: str | None) -> dict[str, Any]:
    """A control request's parameters, from a JSON object or a form; ClockError if neither."""
    text = body.strip()
    if (content_type or "").partition(";")[0].strip().lower() == "application/json" \
            or text.startswith("{"):
        try:
            params = json.loads(text or "{}")
        except ValueError:
            raise ClockError("The body is not valid JSON.") from None
        if not isinstance(params, dict):
            raise ClockError("The body must be a JSON object, e.g. {\"seconds\": 3600}.")
        return params
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise ClockError("The body is not a valid form, e.g. seconds=3600.") from None
    params = {}
    for name, value in pairs:
        if name in params:
            raise ClockError(f"{name} is given more than once.")
        params[name] = value
    return params


def _advance(state: State, params: dict[str, Any]) -> int:
    """Move the clock as `params` say (exactly one of seconds, frozen_time); the new time.
    Call with the state's lock held: holds that lapse by then do, and the state is saved."""
    unknown = sorted(set(params) - {"seconds", "frozen_time"})
    if unknown:
        raise ClockError(f"Unknown parameter: {unknown[0]}. Give seconds=N or frozen_time=T.")
    if len(params) != 1:
        raise ClockError("Give exactly one of seconds=N (move forward N seconds) or "
                         "frozen_time=T (move forward to Unix time T).")
    if "seconds" in params:
        now = state.clock.advance(params["seconds"])
    else:
        now = state.clock.advance_to(params["frozen_time"])
    state.sweep()
    state.save()
    return now


class Sandbox:
    """A running sandbox: `url`, `faults` (change them at run time), `reader_id`, `stop()`,
    and its clock: `now()`, `advance_clock(seconds)`, `advance_clock_to(frozen_time)`."""

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
            return _advance(self.state, {"seconds": seconds})

    def advance_clock_to(self, frozen_time: int) -> int:
        """Move the clock forward to the Unix time `frozen_time` (not before `now()`)."""
        with self.state.lock:
            return _advance(self.state, {"frozen_time": frozen_time})

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __enter__(self) -> Sandbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()


def start_sandbox(port: int = 0, host: str = "127.0.0.1", faults: Faults | None = None,
                  state_file: str | None = None, *, clock_offset: int = 0) -> Sandbox:
    """Start a sandbox in a daemon thread; port 0 picks a free port (see `.url`).
    `clock_offset` moves its clock that many seconds forward first (ClockError if < 0)."""
    state = State(state_file)
    state.clock.advance(clock_offset)
    server = SandboxHTTPServer((host, port), state, faults or Faults())
    return Sandbox(server).start()


def serve_forever(port: int = 12111, host: str = "127.0.0.1", faults: Faults | None = None,
                  state_file: str | None = None, *, stop: threading.Event | None = None,
                  on_ready: Any = None, clock_offset: int = 0) -> None:
    """Run a sandbox until `stop` is set (the caller wires SIGINT/SIGTERM to it)."""
    stop = stop or threading.Event()
    sandbox = start_sandbox(port, host, faults, state_file, clock_offset=clock_offset)
    try:
        if on_ready is not None:
            on_ready(sandbox)
        while not stop.wait(0.5):
            pass
    finally:
        sandbox.stop()
