"""Point 2: idempotency keys as Stripe keeps them, and no duplicate under faults."""

from __future__ import annotations

import threading
import time

import pytest

from gateway import InvalidRequest, OutcomeUnknown, PaymentIntentInfo, StripeGateway
from gateway.sandbox import Sandbox
from tests.gateway.conftest import api, make_gateway


def authorize(gateway: StripeGateway, customer_id: str, key: str,
              amount: int = 5_000) -> PaymentIntentInfo:
    return gateway.authorize(
        amount=amount, currency="usd", payment_method_id="pm_card_visa",
        customer_id=customer_id, metadata={"invoice_payment": key},
        statement_descriptor_suffix="INV-7", description="Invoice INV-7", idempotency_key=key)


def test_the_same_authorize_twice_with_one_key_leaves_one_payment_intent(
        gateway: StripeGateway, customer_id: str, sandbox: Sandbox) -> None:
    first = authorize(gateway, customer_id, "ip-twice")
    second = authorize(gateway, customer_id, "ip-twice")
    assert second == first
    assert sandbox.count("payment_intent") == 1
    assert sandbox.count("charge") == 1


def test_a_replay_carries_the_idempotent_replayed_header(sandbox: Sandbox) -> None:
    params = {"amount": "900", "currency": "usd", "metadata[invoice]": "INV-9"}
    headers = {"Idempotency-Key": "raw-1", "Stripe-Version": "2024-06-20"}
    status, first_headers, first = api(sandbox, "POST", "/v1/payment_intents", params,
                                       headers=headers)
    assert status == 200 and "Idempotent-Replayed" not in first_headers
    assert first_headers["Request-Id"].startswith("req_")
    assert first_headers["Stripe-Version"] == "2024-06-20"
    status, again_headers, again = api(sandbox, "POST", "/v1/payment_intents", params,
                                       headers=headers)
    assert status == 200 and again_headers["Idempotent-Replayed"] == "true"
    assert again == first and first["metadata"] == {"invoice": "INV-9"}
    assert sandbox.count("payment_intent") == 1


def test_a_replayed_decline_is_the_same_decline(sandbox: Sandbox) -> None:
    params = {"amount": "900", "currency": "usd", "confirm": "true",
              "payment_method": "pm_card_visa_chargeDeclined"}
    status, _, first = api(sandbox, "POST", "/v1/payment_intents", params,
                           headers={"Idempotency-Key": "raw-decline"})
    status2, headers, second = api(sandbox, "POST", "/v1/payment_intents", params,
                                   headers={"Idempotency-Key": "raw-decline"})
    assert status == status2 == 402 and headers["Idempotent-Replayed"] == "true"
    assert first == second and first["error"]["decline_code"] == "generic_decline"
    assert sandbox.count("payment_intent") == 1


def test_the_same_key_with_other_parameters_is_an_idempotency_error(
        gateway: StripeGateway, customer_id: str, sandbox: Sandbox) -> None:
    authorize(gateway, customer_id, "ip-reused", amount=5_000)
    with pytest.raises(InvalidRequest) as caught:
        authorize(gateway, customer_id, "ip-reused", amount=6_000)
    assert caught.value.code == "idempotency_error"
    assert sandbox.count("payment_intent") == 1
    status, _, body = api(sandbox, "POST", "/v1/customers", {"email": "x@example.com"},
                          headers={"Idempotency-Key": "ip-reused"})
    assert status == 400 and body["error"]["type"] == "idempotency_error"


def test_a_validation_error_is_not_kept_for_the_key(sandbox: Sandbox) -> None:
    key = {"Idempotency-Key": "raw-fix"}
    status, _, _ = api(sandbox, "POST", "/v1/payment_intents",
                       {"amount": "10", "currency": "usd"}, headers=key)
    assert status == 400
    status, _, _ = api(sandbox, "POST", "/v1/payment_intents",
                       {"amount": "1000", "currency": "usd"}, headers=key)
    assert status == 200


def test_two_concurrent_requests_with_one_key_make_one_payment_intent(
        sandbox: Sandbox, customer_id: str) -> None:
    # No SDK retries, so the loser's 409 reaches the gateway: an unknown outcome.
    gateway = make_gateway(sandbox, max_network_retries=0)
    sandbox.faults.latency_ms = 300
    results: list[object] = []

    def run() -> None:
        try:
            results.append(authorize(gateway, customer_id, "ip-race"))
        except OutcomeUnknown as exc:
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    winners = [r for r in results if isinstance(r, PaymentIntentInfo)]
    assert len(winners) == 1 and sum(isinstance(r, OutcomeUnknown) for r in results) == 1
    sandbox.faults.latency_ms = 0
    assert authorize(gateway, customer_id, "ip-race") == winners[0]  # reconciliation replays
    assert sandbox.count("payment_intent") == 1


def test_200_authorizations_with_half_the_answers_dropped_leave_exactly_200(
        gateway: StripeGateway, customer_id: str, sandbox: Sandbox) -> None:
    sandbox.faults.seed = 7
    sandbox.faults.drop_rate = 0.5
    started = time.perf_counter()
    ids, unknown = set(), 0
    for n in range(200):
        key = f"ip-drop-{n}"
        for _attempt in range(30):
            try:
                ids.add(authorize(gateway, customer_id, key).id)
                break
            except OutcomeUnknown:
                unknown += 1  # the engine keeps the key and reconciles: the same call again
        else:
            pytest.fail(f"{key} never settled")
    elapsed = time.perf_counter() - started
    dropped = sandbox.fault_counts["dropped"]
    print(f"\n200 authorizations, drop-rate 0.5: {dropped} responses dropped, {unknown} "
          f"outcomes unknown after the SDK's 2 retries, {sandbox.count('payment_intent')} "
          f"PaymentIntents, {elapsed:.1f} s")
    assert dropped >= 150  # the faults really happened
    assert len(ids) == 200
    assert sandbox.count("payment_intent") == 200
    assert sandbox.count("charge") == 200


def test_a_500_before_any_work_is_retried_by_the_sdk_then_unknown(
        sandbox: Sandbox, customer_id: str) -> None:
    gateway = make_gateway(sandbox)
    sandbox.faults.error_rate = 1.0
    with pytest.raises(OutcomeUnknown):
        authorize(gateway, customer_id, "ip-500")
    assert sandbox.fault_counts["server_error"] == 3  # first try and the SDK's 2 retries
    assert sandbox.count("payment_intent") == 0
    sandbox.faults.error_rate = 0.0
    authorize(gateway, customer_id, "ip-500")
    assert sandbox.count("payment_intent") == 1


def test_a_rate_limit_is_waited_out_and_a_lasting_one_is_unknown(
        sandbox: Sandbox, customer_id: str) -> None:
    patient = StripeGateway(make_gateway(sandbox)._client, test_mode=True,
                            rate_limit_retries=4)
    sandbox.faults.rate_limit = 1
    first = authorize(patient, customer_id, "ip-429-a")
    second = authorize(patient, customer_id, "ip-429-b")
    assert first.id != second.id and sandbox.fault_counts["rate_limited"] >= 1
    impatient = StripeGateway(make_gateway(sandbox)._client, test_mode=True,
                              rate_limit_retries=0)
    with pytest.raises(OutcomeUnknown):
        authorize(impatient, customer_id, "ip-429-c")
        authorize(impatient, customer_id, "ip-429-d")


def test_a_timeout_is_unknown_and_the_work_done_is_found_by_replaying_the_key(
        sandbox: Sandbox, customer_id: str) -> None:
    gateway = make_gateway(sandbox, max_network_retries=0, timeout_seconds=0.3)
    sandbox.faults.latency_ms = 800
    with pytest.raises(OutcomeUnknown):
        authorize(gateway, customer_id, "ip-slow")
    sandbox.faults.latency_ms = 0
    deadline = time.monotonic() + 5
    while sandbox.count("payment_intent") == 0 and time.monotonic() < deadline:
        time.sleep(0.05)
    [created] = sandbox.objects("payment_intent")
    time.sleep(0.1)  # let the slow request finish saving its result for the key
    assert authorize(gateway, customer_id, "ip-slow").id == created["id"]
    assert sandbox.count("payment_intent") == 1
