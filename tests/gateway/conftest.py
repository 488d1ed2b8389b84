"""Gateway fixtures: an in-process sandbox on a free port and the SDK pointed at it."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import stripe

from gateway import GatewayOptions, StripeGateway, build_stripe_client
from gateway.sandbox import Sandbox, start_sandbox

REPO_ROOT = Path(__file__).resolve().parents[2]
# Stripe's example objects, copied into the repository with Stripe's MIT licence beside them.
FIXTURES = REPO_ROOT / "tests" / "fixtures" / "stripe" / "fixtures3.json"
TEST_KEY = "sk_test_paydeskSandboxKey123"


@pytest.fixture(autouse=True)
def quick_sdk_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK sleeps 0.5-5 s between retries; here a millisecond keeps the suite fast.
    Only the waiting changes: which requests are retried, and how often, stays the SDK's."""
    monkeypatch.setattr(stripe._http_client.HTTPClient, "_sleep_time_seconds",
                        lambda self, num_retries: 0.001)


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with start_sandbox() as running:
        yield running


def make_client(sandbox: Sandbox, **overrides: Any) -> stripe.StripeClient:
    options = {"api_key": TEST_KEY, "api_base": sandbox.url, "max_network_retries": 2,
               "timeout_seconds": 5.0, **overrides}
    return build_stripe_client(GatewayOptions(**options))


def make_gateway(sandbox: Sandbox, *, test_mode: bool = True, raw: bool = False,
                 **client_overrides: Any) -> StripeGateway:
    return StripeGateway(make_client(sandbox, **client_overrides), test_mode=test_mode,
                         raw_card_data_access=raw, poll_interval=0.02)


@pytest.fixture
def client(sandbox: Sandbox) -> stripe.StripeClient:
    return make_client(sandbox)


@pytest.fixture
def gateway(sandbox: Sandbox) -> StripeGateway:
    return make_gateway(sandbox)


@pytest.fixture
def customer_id(gateway: StripeGateway) -> str:
    return gateway.find_or_create_customer(client_ref="client-1", email="ada@example.com",
                                           name="Ada Lovelace", idempotency_key="cus-client-1")


@pytest.fixture(scope="session")
def stripe_examples() -> dict[str, Any]:
    with FIXTURES.open(encoding="utf-8") as handle:
        return json.load(handle)["resources"]


def api(sandbox: Sandbox, method: str, path: str, params: dict[str, str] | None = None, *,
        key: str | None = TEST_KEY, headers: dict[str, str] | None = None,
        ) -> tuple[int, dict[str, str], dict[str, Any]]:
    """One raw HTTP request to the sandbox: (status, headers, JSON body)."""
    body = urllib.parse.urlencode(params or {}).encode() if method == "POST" else None
    url = sandbox.url + path
    if method != "POST" and params:
        url += "?" + urllib.parse.urlencode(params)
    request = urllib.request.Request(  # noqa: S310 - the loopback sandbox
        url, data=body, method=method, headers=headers or {})
    if key is not None:
        request.add_header("Authorization", f"Bearer {key}")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), json.load(error)
