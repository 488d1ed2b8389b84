"""The client-side rate limiter (one per Stripe account and process) and the one connection
pool every thread of a client shares."""

from __future__ import annotations

import threading

import pytest

from gateway import GatewayOptions, build_stripe_client
from gateway.rate_limit import RateLimiter, endpoint_of, shared_limiter
from gateway.sandbox import Sandbox
from tests.gateway.conftest import TEST_KEY, make_client

# These tests are about Stripe's own rates, which the suite otherwise raises.
pytestmark = pytest.mark.stripe_rate_limits


class FakeClock:
    """A clock that moves only when someone sleeps on it (from any thread)."""

    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps = 0
        self._lock = threading.Lock()

    def __call__(self) -> float:
        with self._lock:
            return self.now

    def sleep(self, seconds: float) -> None:
        assert seconds > 0
        with self._lock:
            self.now += seconds
            self.sleeps += 1


def most_in_any_window(starts: list[float], window: float = 1.0) -> int:
    """The most starts within any half-open span [t, t + window)."""
    starts = sorted(starts)
    most, first = 0, 0
    for last, t in enumerate(starts):
        while t - starts[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most


def test_many_threads_never_start_more_than_the_rate_in_any_second_and_reach_it() -> None:
    clock = FakeClock()
    limiter = RateLimiter(25, clock=clock, sleep=clock.sleep)
    threads, each = 6, 30
    starts: list[float] = []
    lock = threading.Lock()
    barrier = threading.Barrier(threads, timeout=10)

    def send() -> None:
        barrier.wait()  # all threads ask at once
        for _ in range(each):
            granted = limiter.acquire()
            with lock:
                starts.append(granted)

    workers = [threading.Thread(target=send) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)
    assert len(starts) == threads * each == limiter.granted == 180
    assert most_in_any_window(starts) == 25  # the limit reached, never passed
    assert starts.count(0.0) == 25  # a second's worth goes at once, no more
    assert limiter.waited > 0 and clock.sleeps > 0  # the rest were held back
    # 180 requests at 25 a second cannot all start within 7 seconds' windows.
    assert max(starts) >= 7.0


def test_an_endpoint_is_held_to_its_own_rate_within_the_accounts() -> None:
    clock = FakeClock()
    limiter = RateLimiter(100, clock=clock, sleep=clock.sleep)
    starts: dict[str, list[float]] = {"POST /v1/payment_intents": [],
                                      "POST /v1/customers": []}
    for _ in range(60):
        for endpoint, log in starts.items():
            log.append(limiter.acquire(endpoint))
    assert [most_in_any_window(log) for log in starts.values()] == [25, 25]
    assert most_in_any_window(starts["POST /v1/payment_intents"]
                              + starts["POST /v1/customers"]) == 50
    search = [limiter.acquire("GET /v1/payment_intents/search") for _ in range(30)]
    assert most_in_any_window(search) == 20


def test_the_account_limit_holds_across_endpoints() -> None:
    clock = FakeClock()
    limiter = RateLimiter(25, clock=clock, sleep=clock.sleep)
    starts = [limiter.acquire(f"POST /v1/endpoint_{n % 5}") for n in range(100)]
    assert most_in_any_window(starts) == 25
    assert limiter.waited == 3 and max(starts) == 3.0  # one wait per window after the first


def test_an_endpoint_is_its_method_and_path_without_ids() -> None:
    base = "https://api.stripe.com"
    assert endpoint_of("post", f"{base}/v1/payment_intents/pi_3MtwBwLkdIwHu7ix28a3tqPa/"
                               "capture") == "POST /v1/payment_intents/{id}/capture"
    assert endpoint_of("GET", f"{base}/v1/payment_intents/search?query=x") == (
        "GET /v1/payment_intents/search")
    assert endpoint_of("GET", f"{base}/v1/customers/cus_NffrFeUfNV2Hib/payment_methods") == (
        "GET /v1/customers/{id}/payment_methods")


def test_the_default_rate_is_stripes_for_the_keys_mode_and_the_setting_overrides_it() -> None:
    assert GatewayOptions("sk_test_x").rate == 25
    assert GatewayOptions("rk_live_x").rate == 100
    assert GatewayOptions("sk_live_x", requests_per_second=40).rate == 40
    with pytest.raises(ValueError, match="rate"):
        RateLimiter(0)


def test_every_client_of_one_account_shares_the_process_limiter(sandbox: Sandbox) -> None:
    first, second = make_client(sandbox), make_client(sandbox)
    limiter = shared_limiter(sandbox.url, TEST_KEY, 25)
    assert first._requestor._client.limiter is limiter
    assert second._requestor._client.limiter is limiter
    before = limiter.granted
    first.v1.customers.list()
    second.v1.customers.list()
    assert limiter.granted == before + 2
    other_key = build_stripe_client(GatewayOptions("sk_test_other", api_base=sandbox.url))
    assert other_key._requestor._client.limiter is not limiter
    faster = make_client(sandbox, requests_per_second=100)
    assert faster._requestor._client.limiter.rate == 100


def test_calls_from_many_threads_go_over_one_kept_connection(sandbox: Sandbox) -> None:
    client = make_client(sandbox)
    http = client._requestor._client
    for _ in range(8):  # each phase of a checkout runs in threads of its own
        worker = threading.Thread(target=client.v1.customers.list)
        worker.start()
        worker.join(timeout=10)
    pools = http.session.get_adapter(sandbox.url).poolmanager.pools
    [key] = pools.keys()  # one pool for the sandbox's address
    pool = pools[key]
    # The SDK's default client would open one per thread: 8.
    assert pool.num_requests == 8 and pool.num_connections == 1
