"""The one `stripe.StripeClient` Paydesk uses, built from plain options.

Built once at the entry point and injected into `StripeGateway`; nothing connects at
import time.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import stripe

from gateway.logging_guard import guard_stripe_logging

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

    @property
    def test_mode(self) -> bool:
        return self.api_key.startswith(("sk_test_", "rk_test_"))


def build_stripe_client(options: GatewayOptions) -> stripe.StripeClient:
    """A StripeClient with the key, optional API base, retries, timeout and pinned version."""
    guard_stripe_logging()
    return stripe.StripeClient(
        options.api_key,
        stripe_version=STRIPE_API_VERSION,
        base_addresses={"api": options.api_base.rstrip("/")} if options.api_base else {},
        max_network_retries=options.max_network_retries,
        http_client=stripe.RequestsClient(timeout=options.timeout_seconds),
    )
