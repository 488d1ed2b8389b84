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


def test_the_sdk_raises_the_exception_class_stripe_would(sandbox: Sandbox) -> None:
    """Each error answer has the status and JSON shape that make the SDK pick the class
    it picks against Stripe (the gateway's translation relies on those classes)."""
    client = build_stripe_client(GatewayOptions(TEST_KEY, api_base=sandbox.url,
                                                max_network_retries=0))
    pi = client.v1.payment_intents
    with pytest.raises(stripe.CardError) as card:
        pi.create(params={"amount": 900, "currency": "usd", "confirm": True,
                          "payment_method": "pm_card_chargeDeclinedExpiredCard"})
    assert (card.value.http_status, card.value.code, card.value.param) == (
        402, "expired_card", "exp_month")
    assert card.value.error is not None and card.value.error.decline_code == "expired_card"
    with pytest.raises(stripe.InvalidRequestError) as small:
        pi.create(params={"amount": 10, "currency": "usd"})
    assert (small.value.http_status, small.value.code, small.value.param) == (
        400, "amount_too_small", "amount")
    with pytest.raises(stripe.InvalidRequestError) as missing:
        pi.retrieve("pi_nothing")
    assert (missing.value.http_status, missing.value.code) == (404, "resource_missing")
    pi.create(params={"amount": 900, "currency": "usd"}, options={"idempotency_key": "k"})
    with pytest.raises(stripe.IdempotencyError) as reused:
        pi.create(params={"amount": 901, "currency": "usd"}, options={"idempotency_key": "k"})
    assert reused.value.http_status == 400
    with pytest.raises(stripe.AuthenticationError) as key:
        build_stripe_client(GatewayOptions("sk_live_" + "x" * 24, api_base=sandbox.url,
                                           max_network_retries=0)).v1.customers.list()
    assert key.value.http_status == 401
    sandbox.faults.rate_limit = 1
    with pytest.raises(stripe.RateLimitError) as limited:
        for _ in range(3):
            client.v1.customers.list()
    assert limited.value.http_status == 429
    sandbox.faults.rate_limit = None
    sandbox.faults.error_rate = 1.0
    with pytest.raises(stripe.APIError) as broken:
        client.v1.customers.list()
    assert broken.value.http_status == 500
