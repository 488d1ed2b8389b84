"""The one `stripe.StripeClient` Paydesk uses, built from plain options.

Built once at the entry point and injected into `StripeGateway`; nothing connects at
import time. Its HTTP client keeps one pool of connections for every thread (the SDK's
default opens a session, so new connections, in each thread that calls it) and lets each
request through the account's rate limiter (`gateway.rate_limit`) first: the SDK's own
retries included.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import requests
import stripe
from requests.adapters import HTTPAdapter

from gateway.logging_guard import guard_stripe_logging
from gateway.rate_limit import RateLimiter, default_rate, endpoint_of, shared_limiter

# The API version every request is pinned to. It is the version stripe-python 16.1.0 was
# generated for (`stripe.api_version`), so the SDK's typed objects match what comes back; a
# test fails when the SDK in the lock file moves, so the change is a deliberate one.
STRIPE_API_VERSION = "2026-10-28.endive"


@dataclass(frozen=True)
class GatewayOptions:
    """What the gateway needs to reach Stripe (or the sandbox). The key never shows in repr."""

    api_key: str = field(repr=False)
    api_base: str | None = None
    max_network_retries: int = 2
    timeout_seconds: float = 30.0
    raw_card_data_access: bool = False
    # Requests a second to the account, at most; None: Stripe's limit for the key's mode.
    requests_per_second: int | None = None

    @property
    def test_mode(self) -> bool:
        return self.api_key.startswith(("sk_test_", "rk_test_"))

    @property
    def rate(self) -> int:
        return self.requests_per_second or default_rate(self.test_mode)


class LimitedRequestsClient(stripe.RequestsClient):
    """The SDK's requests-based HTTP client over one shared `requests.Session`, each request
    let through `limiter` first."""

    def __init__(self, limiter: RateLimiter, *, timeout: float, pool_size: int) -> None:
        session = requests.Session()
        # Enough connections kept for every request the limiter lets start within a second;
        # more at once still connect, they are just not kept.
        adapter = HTTPAdapter(pool_connections=1, pool_maxsize=pool_size)
        session.mount("https://", adapter)
        session.mount("http://", adapter)
        super().__init__(timeout=timeout, session=session)
        self.session = session
        self.limiter = limiter

    # The signatures are RequestsClient's own, which the SDK declares unlike its base class's.
    def request(self, method: str, url: str,  # type: ignore[override]
                headers: Mapping[str, str] | None,
                post_data: Any = None) -> tuple[bytes, int, Mapping[str, str]]:
        self.limiter.acquire(endpoint_of(method, url))
        return super().request(method, url, headers, post_data)

    def request_stream(self, method: str, url: str,  # type: ignore[override]
                       headers: Mapping[str, str] | None,
                       post_data: Any = None) -> tuple[Any, int, Mapping[str, str]]:
        self.limiter.acquire(endpoint_of(method, url))
        return super().request_stream(method, url, headers, post_data)


def build_stripe_client(options: GatewayOptions,
                        limiter: RateLimiter | None = None) -> stripe.StripeClient:
    """A StripeClient with the key, optional API base, retries, timeout and pinned version,
    its requests let through `limiter` (default: the process's limiter for the account)."""
    guard_stripe_logging()
    if limiter is None:
        limiter = shared_limiter(options.api_base, options.api_key, options.rate)
    return stripe.StripeClient(
        options.api_key,
        stripe_version=STRIPE_API_VERSION,
        base_addresses={"api": options.api_base.rstrip("/")} if options.api_base else {},
        max_network_retries=options.max_network_retries,
        http_client=LimitedRequestsClient(limiter, timeout=options.timeout_seconds,
                                          pool_size=limiter.rate),
    )
