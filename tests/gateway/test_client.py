"""The one StripeClient: key, API base, retries, timeout, and the pinned API version."""

from __future__ import annotations

from typing import Any

import pytest
import requests
import stripe

from gateway import STRIPE_API_VERSION, GatewayOptions, build_stripe_client
from gateway.sandbox import Sandbox
from tests.gateway.conftest import TEST_KEY


def test_the_pinned_version_is_the_one_the_sdk_was_generated_for() -> None:
    # When the SDK in the lock file moves, this fails: moving the pin is then deliberate.
    assert stripe.api_version == STRIPE_API_VERSION


def test_every_request_carries_the_options_the_client_was_built_with(
        sandbox: Sandbox, monkeypatch: pytest.MonkeyPatch) -> None:
    sent: list[dict[str, Any]] = []
    real = requests.Session.request

    def spy(self: requests.Session, method: str, url: str, **kwargs: Any) -> Any:
        sent.append({"method": method, "url": url, **kwargs})
        return real(self, method, url, **kwargs)

    monkeypatch.setattr(requests.Session, "request", spy)
    client = build_stripe_client(GatewayOptions(TEST_KEY, api_base=sandbox.url + "/",
                                                max_network_retries=1, timeout_seconds=7.5))
    client.v1.customers.create(params={"email": "v@example.com"},
                               options={"idempotency_key": "version-1"})
    sandbox.faults.error_rate = 1.0
    with pytest.raises(stripe.APIError):
        client.v1.customers.list()
    first = sent[0]
    assert first["url"] == f"{sandbox.url}/v1/customers"
    assert first["headers"]["Stripe-Version"] == STRIPE_API_VERSION
    assert first["headers"]["Authorization"] == f"Bearer {TEST_KEY}"
    assert first["headers"]["Idempotency-Key"] == "version-1"
    assert first["timeout"] == 7.5
    assert len(sent) == 3  # the create, then the list and its one retry
    assert repr(GatewayOptions(TEST_KEY)).count(TEST_KEY) == 0
