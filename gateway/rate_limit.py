"""How fast Paydesk sends requests to Stripe: a client-side limiter, one per Stripe account
and process, shared by every checkout and thread.

What Stripe documents (https://docs.stripe.com/rate-limits): per account, at most 100
requests a second in live mode and 25 in test mode (a sandbox); besides, each endpoint (each
named operation: `POST /v1/payment_intents` is one, `POST /v1/payment_intents/{id}/capture`
another, whatever the id) takes at most 25 a second unless Stripe says otherwise, and the
Search API 20. Beyond a limit Stripe answers 429 and does nothing; Stripe suggests backing
off and retrying, and, to stay under the limits, limiting on the client side.

The algorithm is a sliding window log: a request may start only when fewer than `rate`
requests started in the last second (per limit that applies to it). Why not a token bucket:
Stripe gives its limits as requests per second but no burst size, and a bucket that holds a
second's worth of tokens lets twice the rate through within one second (the full bucket,
then what refills), which a per-second count on Stripe's side refuses. The window never
lets more than `rate` requests start in any second, so it stays under the limit however
Stripe counts it: in fixed one-second windows, or as a token bucket of one second's
capacity that starts full (over any span t, at most rate * (floor(t) + 1) requests against
rate * (t + 1) tokens). It still lets a checkout send a whole second's worth at once, which
is what makes its authorizations (and its captures) go out together.
"""

from __future__ import annotations

import hashlib
import re
import threading
import time
from collections import deque
from collections.abc import Callable
from urllib.parse import urlsplit

TEST_MODE_RATE = 25
LIVE_MODE_RATE = 100
ENDPOINT_RATE = 25
SEARCH_RATE = 20
WINDOW_SECONDS = 1.0

# A path segment that names an object rather than an operation: Stripe's ids are a prefix
# and digits or capitals (pi_3Mtw..., cus_NffrFeUfNV2Hib); operation names are lower-case
# words (v1, payment_intents, capture, search).
_OBJECT_ID = re.compile(r"^[a-z]+_.*[0-9A-Z]")


def default_rate(test_mode: bool) -> int:
    """Stripe's limit for the whole account, requests a second, in test or live mode."""
    return TEST_MODE_RATE if test_mode else LIVE_MODE_RATE


def endpoint_of(method: str, url: str) -> str:
    """The endpoint a request counts against: its method and path, ids left out."""
    parts = urlsplit(url).path.split("/")
    return f"{method.upper()} " + "/".join("{id}" if _OBJECT_ID.search(p) else p for p in parts)


def _endpoint_rate(endpoint: str) -> int:
    return SEARCH_RATE if endpoint.endswith("/search") else ENDPOINT_RATE


class RateLimiter:
    """At most `rate` request starts in any `window` seconds for the account, and at most
    the endpoint's own rate for each endpoint. Thread-safe: `acquire` blocks the calling
    thread until its request may start. `clock` and `sleep` are injectable for tests."""

    def __init__(self, rate: int, *, window: float = WINDOW_SECONDS,
                 endpoint_rate: Callable[[str], int] = _endpoint_rate,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        if rate < 1:
            raise ValueError(f"rate must be 1 or more requests a window, got {rate}")
        self.rate = rate
        self.window = window
        self._endpoint_rate = endpoint_rate
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._starts: deque[float] = deque()  # the account's starts within the window
        self._by_endpoint: dict[str, deque[float]] = {}
        # Figures for tests and benchmarks: requests let through, and how many had to wait.
        self.granted = 0
        self.waited = 0

    def acquire(self, endpoint: str | None = None) -> float:
        """Wait until a request to `endpoint` may start; return the time (of `clock`) at
        which it was let through, counted against every limit that applies to it."""
        waited = False
        while True:
            with self._lock:
                now = self._clock()
                logs = [(self._starts, self.rate)]
                if endpoint is not None:
                    logs.append((self._by_endpoint.setdefault(endpoint, deque()),
                                 self._endpoint_rate(endpoint)))
                wait = max(self._wait(log, rate, now) for log, rate in logs)
                if wait <= 0:
                    for log, _ in logs:
                        log.append(now)
                    self.granted += 1
                    self.waited += waited
                    return now
            waited = True
            self._sleep(wait)

    def _wait(self, log: deque[float], rate: int, now: float) -> float:
        """How long until `log` has room for one more start at `now` (0: it has now)."""
        while log and now - log[0] >= self.window:
            log.popleft()
        if len(log) < rate:
            return 0.0
        return log[len(log) - rate] + self.window - now


_shared: dict[tuple[str, str, int], RateLimiter] = {}
_shared_lock = threading.Lock()


def shared_limiter(api_base: str | None, api_key: str, rate: int) -> RateLimiter:
    """The process's one limiter for the Stripe account behind `api_key` at `api_base`
    (each sandbox is an account of its own): every client built for it shares it, so
    every checkout and thread of the process counts against the same limit."""
    # Only a digest of the key is kept as the registry's key.
    account = hashlib.sha256(api_key.encode()).hexdigest()[:16]
    key = ((api_base or "https://api.stripe.com").rstrip("/"), account, rate)
    with _shared_lock:
        limiter = _shared.get(key)
        if limiter is None:
            limiter = _shared[key] = RateLimiter(rate)
        return limiter
