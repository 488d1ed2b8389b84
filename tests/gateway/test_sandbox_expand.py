"""`expand[]` and list parameters, as Stripe reads them.

Stripe checks every `expand[]` path before it does anything, against the fields of the object
the endpoint answers with (gateway/sandbox/expandable.py reads them from the pinned SDK's
resource classes). The form encoding sends a list as a hash with digit keys; only where the
request types expect a list does it become one, so numeric metadata keys stay keys.
"""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from gateway import StripeGateway
from gateway.sandbox import Sandbox
from gateway.sandbox.expandable import Ref
from gateway.sandbox.schema import schema
from tests.gateway.conftest import api

# Some requests here are refused on purpose: the contract check lets them pass only if the
# sandbox answered each with a 400.
pytestmark = pytest.mark.stripe_refusals

HOLD = {"amount": "2000", "currency": "usd", "payment_method": "pm_card_visa",
        "confirm": "true", "capture_method": "manual", "allowed_payment_method_types[0]": "card"}
PI = (Ref("stripe._payment_intent", "PaymentIntent"),)
PI_LIST = (Ref("stripe._payment_intent", "PaymentIntent", listed=True),)


def _hold(sandbox: Sandbox, **params: str) -> dict[str, Any]:
    status, _, body = api(sandbox, "POST", "/v1/payment_intents", {**HOLD, **params})
    assert status == 200, body
    return body


# -- a bad path is refused before anything happens ---------------------------------------------


def test_a_bad_expand_on_create_makes_nothing_and_leaves_the_key_free(sandbox: Sandbox) -> None:
    key = {"Idempotency-Key": "expand-1"}
    status, headers, body = api(sandbox, "POST", "/v1/payment_intents",
                                {**HOLD, "expand[0]": "nonsense"}, headers=key)
    assert status == 400
    assert body == {"error": {"type": "invalid_request_error", "param": "expand",
                              "message": "This property cannot be expanded (nonsense)."}}
    assert (sandbox.count("payment_intent"), sandbox.count("charge")) == (0, 0)
    # The key kept no result: the same key now runs the request, once.
    status, headers, first = api(sandbox, "POST", "/v1/payment_intents",
                                 {**HOLD, "expand[0]": "payment_method"}, headers=key)
    assert status == 200, first
    assert "Idempotent-Replayed" not in headers
    assert first["payment_method"]["id"].startswith("pm_")
    status, headers, again = api(sandbox, "POST", "/v1/payment_intents",
                                 {**HOLD, "expand[0]": "payment_method"}, headers=key)
    assert status == 200 and headers.get("Idempotent-Replayed") == "true"
    assert again["id"] == first["id"]
    assert (sandbox.count("payment_intent"), sandbox.count("charge")) == (1, 1)


def test_a_bad_expand_through_the_sdk(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.create(params={
            "amount": 2000, "currency": "usd", "payment_method": "pm_card_visa",
            "confirm": True, "allowed_payment_method_types": ["card"],
            "expand": ["latest_charge.nonsense"]})
    assert caught.value.http_status == 400
    assert caught.value.param == "expand"
    assert caught.value.user_message == \
        "This property cannot be expanded (latest_charge.nonsense)."
    assert (sandbox.count("payment_intent"), sandbox.count("charge")) == (0, 0)


@pytest.mark.parametrize(("path", "named"), [
    ("currency", "currency"),  # a field, but not an expandable one
    ("metadata", "metadata"),
    ("customer.x", "customer.x"),  # refused although this PaymentIntent has no customer
    ("latest_charge.currency", "latest_charge.currency"),
    ("data", "data"),  # data. is for lists only
    ("a..b", "a..b"),
])
def test_a_path_that_cannot_be_expanded_is_refused(sandbox: Sandbox, path: str,
                                                   named: str) -> None:
    pi = _hold(sandbox)
    status, _, body = api(sandbox, "GET", f"/v1/payment_intents/{pi['id']}",
                          {"expand[0]": path})
    assert status == 400
    assert body["error"]["param"] == "expand"
    assert body["error"]["message"] == f"This property cannot be expanded ({named})."


def test_more_than_four_levels_are_refused(sandbox: Sandbox) -> None:
    pi = _hold(sandbox)
    deep = "latest_charge.payment_intent.latest_charge.payment_intent.customer"
    status, _, body = api(sandbox, "GET", f"/v1/payment_intents/{pi['id']}",
                          {"expand[0]": deep})
    assert status == 400
    assert body["error"]["message"] == ("You cannot expand more than 4 levels of a property. "
                                        f"Property: {deep}")


def test_a_list_expands_below_data_and_says_so(sandbox: Sandbox) -> None:
    _hold(sandbox)
    for path in ("/v1/payment_intents", "/v1/payment_intents/search"):
        params = {"query": "status:'requires_capture'"} if path.endswith("search") else {}
        status, _, body = api(sandbox, "GET", path, {**params, "expand[0]": "payment_method"})
        assert status == 400
        assert body["error"]["message"] == (
            "This property cannot be expanded (payment_method). "
            "You may want to try expanding 'data.payment_method' instead.")
        status, _, body = api(sandbox, "GET", path,
                              {**params, "expand[0]": "data.payment_method"})
        assert status == 200, body
        assert [pi["payment_method"]["object"] for pi in body["data"]] == ["payment_method"]


# -- good paths ---------------------------------------------------------------------------------


def test_a_path_through_null_and_an_expanded_field_are_answered(sandbox: Sandbox) -> None:
    pi = _hold(sandbox)
    assert pi["customer"] is None
    status, _, body = api(sandbox, "GET", f"/v1/payment_intents/{pi['id']}", {
        "expand[0]": "customer.default_source",  # through a null customer: null
        "expand[1]": "latest_charge",
        "expand[2]": "latest_charge",  # twice
        "expand[3]": "latest_charge.payment_intent",  # below an expanded field
        "expand[4]": "payment_method.customer"})
    assert status == 200, body
    assert body["customer"] is None
    assert body["latest_charge"]["object"] == "charge"
    assert body["latest_charge"]["payment_intent"]["id"] == pi["id"]
    assert body["payment_method"]["object"] == "payment_method"


def test_the_expansions_the_gateway_uses_still_work(
        sandbox: Sandbox, gateway: StripeGateway, customer_id: str) -> None:
    since = sandbox.now()
    held = gateway.authorize(amount=2_000, currency="usd", payment_method_id="pm_card_visa",
                             customer_id=customer_id, metadata={"paydesk_checkout": "c-1"},
                             description="Invoice", statement_descriptor_suffix="INV 1",
                             idempotency_key="expand-auth-1")
    assert held.status == "requires_capture"
    assert gateway.payment_intent(held.id).id == held.id
    assert [pi.id for pi in gateway.find_payment_intents(
        metadata_key="paydesk_checkout", metadata_value="c-1")] == [held.id]
    assert [pi.id for pi in gateway.payment_intents_of_customer(
        customer_id, created_since=since, metadata={"paydesk_checkout": "c-1"})] == [held.id]
    assert gateway.capture(held.id, idempotency_key="expand-cap-1").status == "succeeded"
    other = gateway.authorize(amount=2_000, currency="usd", payment_method_id="pm_card_visa",
                              customer_id=customer_id, metadata={}, description="Invoice",
                              statement_descriptor_suffix="INV 2",
                              idempotency_key="expand-auth-2")
    assert gateway.cancel(other.id, idempotency_key="expand-cancel-2").status == "canceled"


def test_the_paths_are_read_from_the_sdk_types() -> None:
    expansions = schema().expansions
    accepted = ["payment_method", "latest_charge.balance_transaction", "customer",
                "transfer_data.destination", "latest_charge.refunds.data.balance_transaction"]
    for path in accepted:
        assert expansions.refusal(PI, path) is None, path
    assert expansions.refusal(PI_LIST, "data.latest_charge.customer") is None
    assert expansions.refusal(PI, "amount") is not None
    assert expansions.refusal(PI, "latest_charge.outcome") is not None
    assert schema().endpoint("GET", "/v1/payment_intents/search").returns == PI_LIST
    assert schema().endpoint("POST", "/v1/refunds").returns == (Ref("stripe._refund", "Refund"),)
    sources = schema().endpoint("GET", "/v1/customers/cus_1/sources")
    assert sources is not None and [r.name for r in sources.returns] == [
        "Account", "BankAccount", "Card", "Source"]
    assert expansions.refusal(sources.returns, "data.customer") is None


# -- hashes with digit keys -----------------------------------------------------------------------


def test_numeric_metadata_keys_are_keys(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    status, _, body = api(sandbox, "POST", "/v1/payment_intents",
                          {"amount": "1500", "currency": "usd", "metadata[1]": "x"})
    assert status == 200, body
    assert body["metadata"] == {"1": "x"}
    pi = client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "metadata": {"0": "a", "2": "b"}})
    assert client.v1.payment_intents.retrieve(pi.id).metadata.to_dict() == {"0": "a", "2": "b"}


def test_digit_keys_make_a_list_where_a_list_is_expected(sandbox: Sandbox) -> None:
    pi = _hold(sandbox)
    status, _, body = api(sandbox, "GET", f"/v1/payment_intents/{pi['id']}",
                          {"expand[1]": "latest_charge", "expand[0]": "payment_method"})
    assert status == 200, body
    assert body["payment_method"]["object"] == "payment_method"
    assert body["latest_charge"]["object"] == "charge"
    status, _, body = api(sandbox, "GET", f"/v1/payment_intents/{pi['id']}",
                          {"expand[]": "payment_method"})
    assert status == 200 and body["payment_method"]["object"] == "payment_method"


@pytest.mark.parametrize("params", [
    {"expand[a]": "payment_method"},
    {"allowed_payment_method_types[card]": "card"},
    {"allowed_payment_method_types": "card"},
])
def test_a_list_given_other_keys_is_refused(sandbox: Sandbox, params: dict[str, str]) -> None:
    status, _, body = api(sandbox, "POST", "/v1/payment_intents",
                          {"amount": "1500", "currency": "usd", **params})
    assert status == 400
    name = next(iter(params)).partition("[")[0]
    assert body["error"] == {"type": "invalid_request_error", "message": "Invalid array",
                             "param": name}
    assert sandbox.count("payment_intent") == 0


def test_a_refusal_names_each_kind_of_value_once() -> None:
    found = schema().violations("POST", "/v1/payment_intents",
                                {"amount": "1500", "currency": "usd", "metadata": ["x"]})
    assert found is not None
    assert [v.message for v in found] == ["Invalid value for metadata: expected a hash"]
