"""Point 3: every object the sandbox returns has the top-level keys of Stripe's example in
fixtures3.json, and ids prefixed as Stripe's are."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from gateway import ActionRequired, CardDeclined, StripeGateway
from gateway.sandbox import Sandbox
from tests.gateway.conftest import api

PREFIX = {"payment_intent": "pi_", "charge": "ch_", "refund": "re_", "customer": "cus_",
          "payment_method": "pm_", "setup_intent": "seti_", "terminal.reader": "tmr_"}
LIST_KEYS = {"object", "data", "has_more", "url"}
SEARCH_KEYS = {"object", "data", "has_more", "next_page", "url"}


def assert_shape(obj: dict[str, Any], examples: dict[str, Any]) -> None:
    kind = obj["object"]
    expected = set(examples[kind])
    if kind == "payment_method" and obj["type"] != "card":
        # Stripe's example is a `card` PaymentMethod; the details key is named by the type.
        expected = expected - {"card"} | {obj["type"]}
    assert set(obj) == expected, (
        f"{kind}: missing {sorted(expected - set(obj))}, extra {sorted(set(obj) - expected)}")
    assert obj["id"].startswith(PREFIX[kind])
    assert obj.get("livemode", False) is False


@pytest.fixture
def everything(gateway: StripeGateway, customer_id: str, sandbox: Sandbox,
               client: stripe.StripeClient) -> dict[str, Any]:
    """One of each object, made through the gateway the way Paydesk makes them."""
    held = gateway.authorize(amount=4_000, currency="usd", payment_method_id="pm_card_visa",
                             customer_id=customer_id, metadata={"invoice": "INV-3"},
                             statement_descriptor_suffix="INV-3", description="INV-3",
                             idempotency_key="shape-pi")
    gateway.capture(held.id, idempotency_key="shape-cap")
    refund = gateway.refund(held.id, amount=1_000, idempotency_key="shape-re")
    seti = client.v1.setup_intents.create(params={"customer": customer_id},
                                          options={"idempotency_key": "shape-seti"})
    return {"pi": held.id, "charge": held.latest_charge, "refund": refund.id,
            "customer": customer_id, "seti": seti.id,
            "pm": client.v1.payment_intents.retrieve(held.id).payment_method}


def test_retrieved_objects_have_the_keys_of_stripes_examples(
        everything: dict[str, Any], sandbox: Sandbox, stripe_examples: dict[str, Any]) -> None:
    paths = [f"/v1/payment_intents/{everything['pi']}", f"/v1/charges/{everything['charge']}",
             f"/v1/refunds/{everything['refund']}", f"/v1/customers/{everything['customer']}",
             f"/v1/payment_methods/{everything['pm']}",
             f"/v1/setup_intents/{everything['seti']}",
             f"/v1/terminal/readers/{sandbox.reader_id}"]
    for path in paths:
        status, _, body = api(sandbox, "GET", path)
        assert status == 200, body
        assert_shape(body, stripe_examples)


def test_every_stored_object_has_the_keys_of_stripes_examples(
        everything: dict[str, Any], gateway: StripeGateway, sandbox: Sandbox,
        client: stripe.StripeClient, stripe_examples: dict[str, Any]) -> None:
    # Also the failed charge of a decline, a canceled intent, an intent waiting for
    # 3-D Secure, and a card taken on the reader (its action, SetupIntent and both cards).
    with pytest.raises(CardDeclined):
        gateway.authorize(amount=900, currency="usd", payment_method_id="pm_card_visa_"
                          "chargeDeclined", customer_id=everything["customer"], metadata={},
                          statement_descriptor_suffix="X", description="d",
                          idempotency_key="shape-decline")
    with pytest.raises(ActionRequired) as action:
        gateway.authorize(amount=900, currency="usd",
                          payment_method_id="pm_card_authenticationRequired",
                          customer_id=everything["customer"], metadata={},
                          statement_descriptor_suffix="X", description="d",
                          idempotency_key="shape-3ds")
    assert action.value.payment_intent_id
    gateway.cancel(action.value.payment_intent_id, idempotency_key="shape-cancel")
    seti = client.v1.setup_intents.create(params={
        "customer": everything["customer"], "allowed_payment_method_types": ["card_present"]},
        options={"idempotency_key": "shape-reader-seti"})
    client.v1.terminal.readers.process_setup_intent(
        sandbox.reader_id, params={"setup_intent": seti.id, "allow_redisplay": "always"},
        options={"idempotency_key": "shape-reader-process"})
    client.v1.test_helpers.terminal.readers.present_payment_method(
        sandbox.reader_id, options={"idempotency_key": "shape-reader-tap"})
    kinds = {pm["type"] for pm in sandbox.objects("payment_method")}
    assert kinds == {"card", "card_present"}
    statuses = {pi["status"] for pi in sandbox.objects("payment_intent")}
    assert statuses == {"succeeded", "requires_payment_method", "canceled"}
    for kind in PREFIX:
        objects = sandbox.objects(kind)
        assert objects, kind
        for obj in objects:
            assert_shape(obj, stripe_examples)


def test_a_decline_embeds_a_full_payment_intent(everything: dict[str, Any], sandbox: Sandbox,
                                                stripe_examples: dict[str, Any]) -> None:
    status, _, body = api(sandbox, "POST", "/v1/payment_intents", {
        "amount": "700", "currency": "usd", "confirm": "true",
        "payment_method": "pm_card_visa_chargeDeclinedInsufficientFunds"})
    assert status == 402
    error = body["error"]
    assert (error["type"], error["code"], error["decline_code"]) == (
        "card_error", "card_declined", "insufficient_funds")
    assert error["charge"].startswith("ch_") and error["message"]
    assert_shape(error["payment_intent"], stripe_examples)
    assert_shape(error["payment_method"], stripe_examples)
    assert error["payment_intent"]["latest_charge"] == error["charge"]


@pytest.mark.parametrize("path,query", [
    ("/v1/payment_intents", {}), ("/v1/refunds", {}), ("/v1/charges", {}),
    ("/v1/customers", {}), ("/v1/terminal/readers", {}),
    ("/v1/payment_methods", {"type": "card"}),
])
def test_lists_are_stripe_list_objects(everything: dict[str, Any], sandbox: Sandbox,
                                       stripe_examples: dict[str, Any], path: str,
                                       query: dict[str, str]) -> None:
    status, _, body = api(sandbox, "GET", path, query)
    assert status == 200 and set(body) == LIST_KEYS and body["object"] == "list"
    assert body["url"] == path and body["data"]
    for obj in body["data"]:
        assert_shape(obj, stripe_examples)


def test_search_results_have_stripes_shape(everything: dict[str, Any], sandbox: Sandbox,
                                           stripe_examples: dict[str, Any]) -> None:
    status, _, body = api(sandbox, "GET", "/v1/payment_intents/search",
                          {"query": "metadata['invoice']:'INV-3'"})
    assert status == 200 and set(body) == SEARCH_KEYS and body["object"] == "search_result"
    [pi] = body["data"]
    assert_shape(pi, stripe_examples)


def test_amounts_and_latest_charge_are_kept_right(everything: dict[str, Any],
                                                  sandbox: Sandbox) -> None:
    _, _, pi = api(sandbox, "GET", f"/v1/payment_intents/{everything['pi']}")
    assert (pi["amount"], pi["amount_capturable"], pi["amount_received"]) == (4_000, 0, 4_000)
    assert isinstance(pi["latest_charge"], str) and pi["client_secret"].startswith(pi["id"])
    _, _, charge = api(sandbox, "GET", f"/v1/charges/{everything['charge']}")
    assert (charge["amount_captured"], charge["amount_refunded"], charge["refunded"]) == (
        4_000, 1_000, False)
    _, _, expanded = api(sandbox, "GET", f"/v1/payment_intents/{everything['pi']}",
                         {"expand[]": "latest_charge"})
    assert expanded["latest_charge"]["id"] == everything["charge"]


@pytest.mark.parametrize("status,kind,path,params,key", [
    (401, "invalid_request_error", "/v1/customers", {}, None),
    (401, "invalid_request_error", "/v1/customers", {}, "sk_live_notallowedhere123"),
    (404, "invalid_request_error", "/v1/payment_intents/pi_missing", {}, "sk_test_x"),
    (404, "invalid_request_error", "/v1/nothing_here", {}, "rk_test_restricted"),
    (400, "invalid_request_error", "/v1/payment_intents", {"currency": "usd"}, "sk_test_x"),
])
def test_errors_have_stripes_shape_and_status(sandbox: Sandbox, status: int, kind: str,
                                              path: str, params: dict[str, str],
                                              key: str | None) -> None:
    method = "POST" if params else "GET"
    got, headers, body = api(sandbox, method, path, params, key=key)
    assert got == status and body["error"]["type"] == kind and body["error"]["message"]
    assert "Request-Id" in headers
    if key and key.startswith("sk_live"):
        assert key not in body["error"]["message"]  # Stripe masks the key it refuses
