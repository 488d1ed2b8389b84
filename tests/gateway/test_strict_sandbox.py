"""The sandbox refuses what Stripe refuses on the pinned API version, in Stripe's words.

Parameter checks come from the SDK's generated request types (gateway/sandbox/schema.py);
the rest (allowed payment method types, PaymentMethod type against the intent, statement
descriptor suffix, metadata limits) from the resources. Each refusal is seen through the
official SDK (`stripe.InvalidRequestError` with its `code` and `param`) and, where the wire
shape matters, as raw HTTP. Every refusal here must change nothing.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
import stripe

from gateway.sandbox import Sandbox
from gateway.sandbox.errors import ApiError
from gateway.sandbox.forms import metadata
from gateway.sandbox.resources import ROUTES
from gateway.sandbox.resources.payment_methods import new_payment_method
from gateway.sandbox.schema import REMOVED, schema
from gateway.sandbox.testcards import card_for_number
from tests.gateway.conftest import api

# Each test here sends requests Stripe refuses, on purpose: the contract check lets them pass
# only if the sandbox answered each with a 400.
pytestmark = pytest.mark.stripe_refusals

PI = {"amount": "1500", "currency": "usd"}


def refused(call: Any) -> stripe.InvalidRequestError:
    with pytest.raises(stripe.InvalidRequestError) as caught:
        call()
    assert caught.value.http_status == 400
    assert caught.value.error is not None and caught.value.error.type == "invalid_request_error"
    return caught.value


def card_present_pm(sandbox: Sandbox) -> str:
    """A card_present PaymentMethod, as a tap on a reader leaves one."""
    number = "4242424242424242"
    card = card_for_number(number)
    assert card is not None
    with sandbox.state.lock:
        return new_payment_method(sandbox.state, card, number, kind="card_present")["id"]


# -- parameters the SDK's types do not know ----------------------------------------------------


def test_an_unknown_parameter_is_refused_with_stripes_shape(sandbox: Sandbox) -> None:
    status, headers, body = api(sandbox, "POST", "/v1/payment_intents",
                                {**PI, "paydesk_note": "x"})
    assert status == 400
    assert body == {"error": {
        "type": "invalid_request_error", "code": "parameter_unknown", "param": "paydesk_note",
        "message": "Received unknown parameter: paydesk_note",
        "doc_url": "https://stripe.com/docs/error-codes/parameter-unknown"}}
    assert headers.get("Request-Id", "").startswith("req_")
    assert sandbox.count("payment_intent") == 0


def test_an_unknown_parameter_through_the_sdk(client: stripe.StripeClient,
                                              sandbox: Sandbox) -> None:
    error = refused(lambda: client.v1.payment_intents.create(
        params={"amount": 1500, "currency": "usd", "paydesk_note": "x"}))  # type: ignore[typeddict-unknown-key]
    assert (error.code, error.param) == ("parameter_unknown", "paydesk_note")
    assert sandbox.count("payment_intent") == 0


def test_a_nested_unknown_key_is_named_in_bracket_notation(client: stripe.StripeClient) -> None:
    error = refused(lambda: client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd",
        "payment_method_options": {"card": {"made_up": "1"}}}))  # type: ignore[typeddict-unknown-key]
    assert (error.code, error.param) == ("parameter_unknown",
                                         "payment_method_options[card][made_up]")
    assert error.user_message == \
        "Received unknown parameter: payment_method_options[card][made_up]"


def test_an_unknown_key_inside_a_list_item(sandbox: Sandbox) -> None:
    status, _, body = api(sandbox, "POST", "/v1/payment_intents", {
        **PI, "amount_details[line_items][0][product_name]": "Audit",
        "amount_details[line_items][0][quantity]": "1",
        "amount_details[line_items][0][unit_cost]": "1500",
        "amount_details[line_items][0][colour]": "red"})
    assert status == 400
    assert (body["error"]["code"], body["error"]["param"]) == (
        "parameter_unknown", "amount_details[line_items][0][colour]")


def test_metadata_keys_are_free_but_its_values_are_strings(sandbox: Sandbox) -> None:
    status, _, body = api(sandbox, "POST", "/v1/payment_intents",
                          {**PI, "metadata[anything_at_all]": "ok"})
    assert status == 200, body
    assert body["metadata"] == {"anything_at_all": "ok"}
    status, _, body = api(sandbox, "POST", "/v1/payment_intents",
                          {**PI, "metadata[a][b]": "nested"})
    assert status == 400
    assert body["error"]["param"] == "metadata[a]"


def test_a_path_the_sdk_does_not_know_is_not_found(sandbox: Sandbox) -> None:
    status, _, body = api(sandbox, "GET", "/v1/made_up_things")
    assert status == 404
    assert body["error"]["message"].startswith("Unrecognized request URL (GET: /v1/made_up")


# -- removed parameters keep Stripe's specific code --------------------------------------------


@pytest.mark.parametrize("path", ["/v1/payment_intents", "/v1/setup_intents"])
def test_payment_method_types_is_refused_as_removed(client: stripe.StripeClient,
                                                    sandbox: Sandbox, path: str) -> None:
    service = client.v1.payment_intents if "payment" in path else client.v1.setup_intents
    params: dict[str, Any] = {"payment_method_types": ["card"]}
    if "payment" in path:
        params.update(amount=1500, currency="usd")
    error = refused(lambda: service.create(params=params))  # type: ignore[arg-type]
    assert (error.code, error.param) == ("payment_method_types_no_longer_supported",
                                         "payment_method_types")
    assert sandbox.count("payment_intent") == sandbox.count("setup_intent") == 0


def test_payment_method_types_is_refused_on_update_and_confirm(client: stripe.StripeClient,
                                                               sandbox: Sandbox) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd"})
    for path in (f"/v1/payment_intents/{pi.id}", f"/v1/payment_intents/{pi.id}/confirm"):
        status, _, body = api(sandbox, "POST", path, {"payment_method_types[0]": "card",
                                                      "payment_method": "pm_card_visa"})
        assert status == 400
        assert body["error"]["code"] == "payment_method_types_no_longer_supported"
    assert client.v1.payment_intents.retrieve(pi.id).status == "requires_payment_method"


def test_the_removed_table_names_only_endpoints_the_sdk_has() -> None:
    for method, template in REMOVED:
        assert any(e.method == method and e.template == template
                   for e in schema().endpoints), template


# -- required keys, enums and types --------------------------------------------------------


def test_a_missing_required_parameter(client: stripe.StripeClient, sandbox: Sandbox) -> None:
    error = refused(lambda: client.v1.payment_intents.create(
        params={"amount": 1500}))  # type: ignore[typeddict-item]
    assert (error.code, error.param) == ("parameter_missing", "currency")
    assert error.user_message == "Missing required param: currency."
    status, _, body = api(sandbox, "POST", "/v1/payment_intents", {"currency": "usd"})
    assert (status, body["error"]["code"], body["error"]["param"]) == (
        400, "parameter_missing", "amount")


def test_a_missing_required_key_inside_a_hash(sandbox: Sandbox) -> None:
    status, _, body = api(sandbox, "POST", "/v1/payment_intents", {
        **PI, "automatic_payment_methods[allow_redirects]": "never"})
    assert status == 400
    assert (body["error"]["code"], body["error"]["param"]) == (
        "parameter_missing", "automatic_payment_methods[enabled]")
    assert body["error"]["message"] == \
        "Missing required param: automatic_payment_methods[enabled]."


def test_a_wrong_enum_value_in_stripes_words(client: stripe.StripeClient) -> None:
    error = refused(lambda: client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "capture_method": "later"}))
    assert error.param == "capture_method"
    assert error.user_message == \
        "Invalid capture_method: must be one of automatic, automatic_async, or manual"


def test_a_wrong_enum_value_inside_a_list(sandbox: Sandbox) -> None:
    status, _, body = api(sandbox, "GET", "/v1/payment_intents/search",
                          {"query": "status:'succeeded'", "expand[0]": "data.customer"})
    assert status == 200, body
    status, _, body = api(sandbox, "POST", "/v1/payment_intents", {
        **PI, "allowed_payment_method_types[0]": "card", "allowed_payment_method_types[1]": "tea"})
    assert status == 400
    assert body["error"]["param"] == "allowed_payment_method_types[1]"
    assert body["error"]["message"].startswith("Invalid allowed_payment_method_types[1]: must "
                                               "be one of acss_debit, ")


@pytest.mark.parametrize(("params", "code", "param", "message"), [
    ({"amount": "ten"}, "parameter_invalid_integer", "amount", "Invalid integer: ten"),
    ({"amount": "15.5"}, "parameter_invalid_integer", "amount", "Invalid integer: 15.5"),
    ({"confirm": "yes"}, None, "confirm", "Invalid boolean: yes"),
    ({"description": ""}, "parameter_invalid_empty", "description", None),
    ({"metadata": "plain"}, None, "metadata", "Invalid hash"),
    ({"off_session": "sometimes"}, None, "off_session",
     "Invalid off_session: must be a boolean or one of one_off or recurring"),
])
def test_a_wrong_type_is_refused(client: stripe.StripeClient, sandbox: Sandbox,
                                 params: dict[str, Any], code: str | None, param: str,
                                 message: str | None) -> None:
    error = refused(lambda: client.v1.payment_intents.create(
        params={"amount": 1500, "currency": "usd", **params}))  # type: ignore[typeddict-item]
    assert (error.code, error.param) == (code, param)
    if message is not None:
        assert error.user_message == message
    assert sandbox.count("payment_intent") == 0


def test_an_empty_string_unsets_where_the_types_allow_it(client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "receipt_email": "ada@example.com",
        "metadata": {"a": "1"}})
    updated = client.v1.payment_intents.update(pi.id, params={
        "receipt_email": "", "metadata": ""})
    assert updated.metadata.to_dict() == {}
    off = client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "off_session": "one_off"})
    assert off.status == "requires_payment_method"


def test_a_refused_request_keeps_no_idempotent_result(sandbox: Sandbox) -> None:
    key = {"Idempotency-Key": "strict-1"}
    status, _, _ = api(sandbox, "POST", "/v1/payment_intents", {**PI, "colour": "red"},
                       headers=key)
    assert status == 400
    status, headers, body = api(sandbox, "POST", "/v1/payment_intents", PI, headers=key)
    assert status == 200, body
    assert "Idempotent-Replayed" not in headers
    assert sandbox.count("payment_intent") == 1


# -- allowed payment method types --------------------------------------------------------------


@pytest.mark.parametrize("kind", ["payment_intents", "setup_intents"])
def test_allowed_types_are_filtered_to_what_the_sandbox_takes(client: stripe.StripeClient,
                                                              kind: str) -> None:
    service = getattr(client.v1, kind)
    base: dict[str, Any] = {"amount": 1500, "currency": "usd"} if kind == "payment_intents" \
        else {}
    plain = service.create(params=base)
    assert plain.payment_method_types == ["card"]
    mixed = service.create(params={
        **base, "allowed_payment_method_types": ["ideal", "card_present", "card"]})
    assert mixed.payment_method_types == ["card_present", "card"]


@pytest.mark.parametrize(("other", "value"), [
    ("automatic_payment_methods[enabled]", "true"),
    ("excluded_payment_method_types[0]", "ideal"),
    ("payment_method_configuration", "pmc_123"),
])
@pytest.mark.parametrize("path", ["/v1/payment_intents", "/v1/setup_intents"])
def test_allowed_types_exclude_the_other_ways_of_choosing(sandbox: Sandbox, path: str,
                                                          other: str, value: str) -> None:
    params = {**(PI if "payment" in path else {}),
              "allowed_payment_method_types[0]": "card", other: value}
    status, _, body = api(sandbox, "POST", path, params)
    assert status == 400, body
    assert body["error"]["code"] == "parameters_exclusive"
    assert body["error"]["param"] == other.partition("[")[0]
    assert sandbox.count("payment_intent") == sandbox.count("setup_intent") == 0


# -- a PaymentMethod the intent does not allow -------------------------------------------------


def test_a_card_present_payment_method_on_a_card_intent_is_refused(
        client: stripe.StripeClient, sandbox: Sandbox) -> None:
    tapped = card_present_pm(sandbox)
    error = refused(lambda: client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "capture_method": "manual", "confirm": True,
        "payment_method": tapped}))
    assert (error.code, error.param) == ("payment_intent_incompatible_payment_method",
                                         "payment_method")
    assert sandbox.count("payment_intent") == 0 and sandbox.count("charge") == 0
    pi = client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd"})
    error = refused(lambda: client.v1.payment_intents.confirm(
        pi.id, params={"payment_method": tapped}))
    assert error.code == "payment_intent_incompatible_payment_method"
    after = client.v1.payment_intents.retrieve(pi.id)
    assert (after.status, after.payment_method, sandbox.count("charge")) == (
        "requires_payment_method", None, 0)


def test_a_card_payment_method_on_a_card_present_intent_is_refused(
        client: stripe.StripeClient, sandbox: Sandbox) -> None:
    error = refused(lambda: client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "allowed_payment_method_types": ["card_present"],
        "confirm": True, "payment_method": "pm_card_visa"}))
    assert (error.code, error.param) == ("payment_intent_incompatible_payment_method",
                                         "payment_method")
    assert sandbox.count("payment_intent") == 0


def test_a_payment_method_of_an_allowed_type_is_charged(client: stripe.StripeClient,
                                                        sandbox: Sandbox) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "capture_method": "manual", "confirm": True,
        "allowed_payment_method_types": ["card_present"],
        "payment_method": card_present_pm(sandbox)})
    assert (pi.status, pi.payment_method_types) == ("requires_capture", ["card_present"])


# -- statement descriptor suffix ---------------------------------------------------------------


@pytest.mark.parametrize(("suffix", "code"), [
    ("INVOICE 2026-11 SMITHSON", "payment_intent_invalid_parameter"),  # 24 characters
    ("Счёт 12", "invalid_characters"),  # not Latin
    ("INV*12", "invalid_characters"),
    ("A <B>", "invalid_characters"),
    ("2026-11 / 12", "payment_intent_invalid_parameter"),  # no letter
])
def test_a_bad_statement_descriptor_suffix_is_refused(client: stripe.StripeClient,
                                                      sandbox: Sandbox, suffix: str,
                                                      code: str) -> None:
    error = refused(lambda: client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "statement_descriptor_suffix": suffix}))
    assert (error.code, error.param) == (code, "statement_descriptor_suffix")
    assert sandbox.count("payment_intent") == 0


@pytest.mark.parametrize("suffix", ["INV 2026-11", "Café Noël 7", "X" * 22])
def test_a_good_statement_descriptor_suffix_is_kept(client: stripe.StripeClient,
                                                    suffix: str) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "statement_descriptor_suffix": suffix})
    assert pi.statement_descriptor_suffix == suffix


# -- metadata limits ---------------------------------------------------------------------------


def test_metadata_at_its_limits_is_kept(client: stripe.StripeClient) -> None:
    full = {f"k{i:02d}": "v" for i in range(49)} | {"k" * 40: "v" * 500}
    pi = client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd",
                                                  "metadata": full})
    assert pi.metadata.to_dict() == full


@pytest.mark.parametrize(("meta", "param"), [
    ({f"k{i:02d}": "v" for i in range(51)}, "metadata"),
    ({"k" * 41: "v"}, "metadata[" + "k" * 41 + "]"),
    ({"note": "v" * 501}, "metadata[note]"),
])
def test_metadata_over_its_limits_is_refused(client: stripe.StripeClient, sandbox: Sandbox,
                                             meta: dict[str, str], param: str) -> None:
    error = refused(lambda: client.v1.payment_intents.create(params={
        "amount": 1500, "currency": "usd", "metadata": meta}))
    assert error.param == param
    assert sandbox.count("payment_intent") == 0


def test_an_update_that_would_pass_fifty_keys_changes_nothing(client: stripe.StripeClient
                                                              ) -> None:
    start = {f"k{i:02d}": "v" for i in range(50)}
    pi = client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd",
                                                  "metadata": start})
    error = refused(lambda: client.v1.payment_intents.update(
        pi.id, params={"metadata": {"one_more": "v"}}))
    assert error.param == "metadata"
    assert client.v1.payment_intents.retrieve(pi.id).metadata.to_dict() == start
    swapped = client.v1.payment_intents.update(pi.id, params={
        "metadata": {"k00": "", "one_more": "v"}})  # unsetting one makes room
    assert len(swapped.metadata.to_dict()) == 50 and "k00" not in swapped.metadata


@pytest.mark.parametrize("key", ["a[b", "a]b", ""])
def test_metadata_keys_with_square_brackets_or_empty_are_refused(key: str) -> None:
    with pytest.raises(ApiError) as caught:
        metadata({"metadata": {key: "v"}})
    assert (caught.value.status, caught.value.param) == (400, f"metadata[{key}]")


# -- every sandbox endpoint is one the SDK has ------------------------------------------------


def _sample_path(pattern: str) -> str:
    path = re.sub(r"\(\?P<\w+>([a-z]+_)\\w\+\)", r"\g<1>Sample123", pattern)
    return path.removesuffix("/?")


def test_every_sandbox_route_maps_to_an_sdk_params_type() -> None:
    unmapped = []
    for method, pattern, _handler in ROUTES:
        path = _sample_path(pattern.pattern)
        assert "(" not in path, f"cannot make a sample path of {pattern.pattern}"
        endpoint = schema().endpoint(method, path)
        if endpoint is None or schema().params_type(endpoint) is None:
            unmapped.append(f"{method} {pattern.pattern}")
    assert unmapped == []


def test_the_route_table_is_read_from_the_sdk() -> None:
    endpoint = schema().endpoint("POST", "/v1/payment_intents/pi_123/capture")
    assert endpoint is not None
    assert (endpoint.template, endpoint.params_class) == (
        "/v1/payment_intents/{intent}/capture", "PaymentIntentCaptureParams")
    cls = schema().params_type(endpoint)
    assert cls is stripe.params.PaymentIntentCaptureParams
    search = schema().endpoint("GET", "/v1/payment_intents/search")
    assert search is not None and search.params_class == "PaymentIntentSearchParams"
    # the SDK's request options travel as headers, never as parameters
    assert schema().violations("POST", "/v1/payment_intents",
                               {**PI, "idempotency_key": "k"})[0].param == "idempotency_key"


def test_update_and_confirm_can_name_the_allowed_types(client: stripe.StripeClient,
                                                       sandbox: Sandbox) -> None:
    pi = client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd",
                                                  "capture_method": "manual"})
    error = refused(lambda: client.v1.payment_intents.confirm(pi.id, params={
        "allowed_payment_method_types": ["card_present"], "payment_method": "pm_card_visa"}))
    assert error.code == "payment_intent_incompatible_payment_method"
    unchanged = client.v1.payment_intents.retrieve(pi.id)
    assert (unchanged.payment_method_types, unchanged.payment_method) == (["card"], None)
    updated = client.v1.payment_intents.update(pi.id, params={
        "allowed_payment_method_types": ["card_present"]})
    assert updated.payment_method_types == ["card_present"]
    confirmed = client.v1.payment_intents.confirm(pi.id, params={
        "payment_method": card_present_pm(sandbox)})
    assert confirmed.status == "requires_capture"
    confirmed_card = client.v1.payment_intents.confirm(
        client.v1.payment_intents.create(params={"amount": 1500, "currency": "usd"}).id,
        params={"payment_method": "pm_card_visa"})
    assert confirmed_card.status == "succeeded"
    assert sandbox.count("payment_method") == 3  # the tapped card, and one per pm_card_visa
