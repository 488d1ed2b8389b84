"""The sandbox's events: one per change, in order, newest first on GET /v1/events, paged and
filtered as Stripe pages and filters them, refused as Stripe refuses bad list parameters,
each naming the request that caused it, and kept in the state file."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import stripe

from gateway.sandbox import Sandbox, start_sandbox
from gateway.sandbox.holds import HOLD_SECONDS
from gateway.sandbox.schema import schema
from tests.contract_plugin import check_request
from tests.gateway.conftest import api, make_client

HOUR = 3600


def pay(client: stripe.StripeClient, key: str, *, manual: bool = False,
        payment_method: str = "pm_card_visa", amount: int = 2_000) -> stripe.PaymentIntent:
    params: dict[str, Any] = {"amount": amount, "currency": "usd", "confirm": True,
                              "payment_method": payment_method}
    if manual:
        params["capture_method"] = "manual"
    return client.v1.payment_intents.create(params=params,  # type: ignore[arg-type]
                                            options={"idempotency_key": key})


def types_of(events: list[dict[str, Any]]) -> list[str]:
    return [e["type"] for e in events]


def test_a_payment_emits_its_events_in_order_with_the_request_that_caused_them(
        sandbox: Sandbox, client: stripe.StripeClient) -> None:
    pi = pay(client, "ev-pay-1")
    events = sandbox.events()  # newest first
    assert types_of(events) == ["payment_intent.succeeded", "charge.succeeded",
                                "payment_intent.created"]
    assert pi.last_response is not None
    request_id = pi.last_response.request_id
    for event in events:
        assert event["id"].startswith("evt_") and event["object"] == "event"
        assert event["request"] == {"id": request_id, "idempotency_key": "ev-pay-1"}
        assert event["api_version"] == stripe.api_version and event["livemode"] is False
        assert event["pending_webhooks"] == 0  # no webhook endpoint is set
    created, charged, succeeded = reversed(events)
    # Snapshots of the moment, without the client secret.
    assert created["data"]["object"]["status"] == "requires_confirmation"
    assert created["data"]["object"]["client_secret"] is None
    assert succeeded["data"]["object"]["status"] == "succeeded"
    assert charged["data"]["object"]["id"] == pi.latest_charge
    assert "previous_attributes" not in created["data"]
    # An idempotent replay changes nothing, so it records nothing.
    pay(client, "ev-pay-1")
    assert len(sandbox.events()) == 3


def test_capture_cancel_and_decline_emit_what_stripe_sends(
        sandbox: Sandbox, client: stripe.StripeClient) -> None:
    held = pay(client, "ev-hold", manual=True)
    assert types_of(sandbox.events())[:2] == ["payment_intent.amount_capturable_updated",
                                              "charge.succeeded"]
    client.v1.payment_intents.capture(held.id, params={"amount_to_capture": 1_500},
                                      options={"idempotency_key": "ev-cap"})
    succeeded, captured = sandbox.events()[:2]
    assert (captured["type"], succeeded["type"]) == ("charge.captured",
                                                      "payment_intent.succeeded")
    assert captured["data"]["previous_attributes"] == {
        "captured": False, "amount_captured": 0, "amount_refunded": 0}
    assert captured["request"]["idempotency_key"] == "ev-cap"

    other = pay(client, "ev-hold-2", manual=True)
    client.v1.payment_intents.cancel(other.id, options={"idempotency_key": "ev-cancel"})
    canceled, refunded, released = sandbox.events()[:3]
    assert (released["type"], refunded["type"], canceled["type"]) == (
        "refund.created", "charge.refunded", "payment_intent.canceled")
    assert refunded["data"]["previous_attributes"]["refunded"] is False
    assert "refunds" not in refunded["data"]["object"]
    # Releasing the hold refunds the uncaptured charge in full, with no reason given.
    hold_refund = released["data"]["object"]
    assert (hold_refund["amount"], hold_refund["reason"], hold_refund["status"]) == (
        2_000, None, "succeeded")
    assert hold_refund["payment_intent"] == other.id
    assert hold_refund["balance_transaction"] is None  # no money had moved

    with pytest.raises(stripe.CardError):
        pay(client, "ev-decline", payment_method="pm_card_visa_chargeDeclined")
    failed, charge_failed = sandbox.events()[:2]
    assert (charge_failed["type"], failed["type"]) == ("charge.failed",
                                                        "payment_intent.payment_failed")
    assert failed["data"]["object"]["last_payment_error"]["code"] == "card_declined"


def test_a_lapsed_hold_emits_an_automatic_cancel_when_the_clock_moves(
        sandbox: Sandbox, client: stripe.StripeClient) -> None:
    held = pay(client, "ev-lapse", manual=True)
    sandbox.advance_clock(HOLD_SECONDS - HOUR)
    assert sandbox.events()[0]["type"] == "payment_intent.amount_capturable_updated"
    now = sandbox.advance_clock(2 * HOUR)
    canceled, released, expired = sandbox.events()[:3]
    assert (expired["type"], released["type"], canceled["type"]) == (
        "charge.expired", "refund.created", "payment_intent.canceled")
    # Stripe refunds a lapsed authorization itself, with its own reason.
    assert released["data"]["object"]["reason"] == "expired_uncaptured_charge"
    assert released["data"]["object"]["payment_intent"] == held.id
    assert released["request"] == {"id": None, "idempotency_key": None}
    assert canceled["data"]["object"]["id"] == held.id
    assert canceled["data"]["object"]["cancellation_reason"] == "automatic"
    assert canceled["request"] == {"id": None, "idempotency_key": None}
    assert now - 2 * HOUR < canceled["created"] <= now
    assert expired["data"]["previous_attributes"]["refunded"] is False


def test_created_follows_the_sandbox_clock(sandbox: Sandbox,
                                           client: stripe.StripeClient) -> None:
    first = pay(client, "ev-clock-1")
    sandbox.advance_clock(5 * HOUR)
    pay(client, "ev-clock-2")
    newest, oldest = sandbox.events()[0], sandbox.events()[-1]
    assert oldest["created"] == first.created
    assert newest["created"] - oldest["created"] >= 5 * HOUR
    assert newest["created"] <= sandbox.now()


def test_listing_pages_newest_first_both_ways(sandbox: Sandbox,
                                              client: stripe.StripeClient) -> None:
    for i in range(5):
        pay(client, f"ev-page-{i}")  # 3 events each: 15
    everything = [e["id"] for e in sandbox.events()]
    assert len(everything) == 15 and len(set(everything)) == 15
    seen: list[str] = []
    page = client.v1.events.list(params={"limit": 4})
    while True:
        seen += [e.id for e in page.data]
        if not page.has_more:
            break
        page = client.v1.events.list(params={"limit": 4, "starting_after": page.data[-1].id})
    assert seen == everything  # newest first, each once, over 4 pages
    assert len(page.data) == 3
    back = client.v1.events.list(params={"limit": 4, "ending_before": everything[9]})
    assert [e.id for e in back.data] == everything[5:9] and back.has_more
    first = client.v1.events.list(params={"limit": 4, "ending_before": everything[3]})
    assert [e.id for e in first.data] == everything[:3] and not first.has_more
    assert client.v1.events.retrieve(everything[7]).id == everything[7]


def test_listing_filters_by_type_types_and_created(sandbox: Sandbox,
                                                   client: stripe.StripeClient) -> None:
    pay(client, "ev-filter-1")
    start = sandbox.advance_clock(HOUR)
    held = pay(client, "ev-filter-2", manual=True)
    charges = client.v1.events.list(params={"type": "charge.*"})
    assert [e.type for e in charges.data] == ["charge.succeeded", "charge.succeeded"]
    picked = client.v1.events.list(params={
        "types": ["payment_intent.created", "payment_intent.amount_capturable_updated"]})
    assert [e.type for e in picked.data] == ["payment_intent.amount_capturable_updated",
                                             "payment_intent.created",
                                             "payment_intent.created"]
    late = client.v1.events.list(params={"created": {"gte": start}})
    assert {e.data.object["id"] for e in late.data} == {held.id, held.latest_charge}
    exact = client.v1.events.list(params={"type": "payment_intent.created",
                                          "created": held.created})
    assert [e.data.object["id"] for e in exact.data] == [held.id]
    assert client.v1.events.list(params={"delivery_success": False}).data == []


@pytest.mark.parametrize(("query", "status", "param"), [
    ({"limit": "0"}, 400, "limit"),
    ({"limit": "101"}, 400, "limit"),
    ({"limit": "ten"}, 400, "limit"),
    ({"type": "charge.succeeded", "types[0]": "charge.failed"}, 400, "types"),
    ({f"types[{i}]": "charge.succeeded" for i in range(21)}, 400, "types"),
    ({"types": "charge.succeeded"}, 400, "types"),
    ({"created[after]": "1"}, 400, "created[after]"),
    ({"created": "yesterday"}, 400, "created"),
    ({"created[gt]": ""}, 400, "created[gt]"),
    ({"delivery_success": "maybe"}, 400, "delivery_success"),
    ({"object": "event"}, 400, "object"),
    ({"expand[0]": "data.request"}, 400, "expand"),
    ({"starting_after": "evt_missing"}, 404, "starting_after"),
    ({"starting_after": "evt_a", "ending_before": "evt_b"}, 400, "ending_before"),
])
def test_the_event_list_refuses_what_stripe_refuses(
        sandbox: Sandbox, client: stripe.StripeClient, query: dict[str, str], status: int,
        param: str) -> None:
    pay(client, "ev-refusals")
    if query.get("starting_after") == "evt_a":
        ids = [e["id"] for e in sandbox.events()]
        query = {"starting_after": ids[0], "ending_before": ids[1]}
    got, _, body = api(sandbox, "GET", "/v1/events", query)
    assert got == status, body
    assert body["error"]["type"] == "invalid_request_error"
    assert body["error"]["param"] == param


def test_retrieving_an_unknown_event_is_a_404(sandbox: Sandbox,
                                              client: stripe.StripeClient) -> None:
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.events.retrieve("evt_nothing")
    assert refused.value.http_status == 404
    assert refused.value.code == "resource_missing"


def test_events_older_than_thirty_days_are_gone(sandbox: Sandbox,
                                                client: stripe.StripeClient) -> None:
    pay(client, "ev-old")
    old = sandbox.events()[-1]["id"]
    sandbox.advance_clock(31 * 24 * HOUR)
    assert client.v1.events.list().data == []
    status, _, _ = api(sandbox, "GET", f"/v1/events/{old}")
    assert status == 404


def test_the_sdk_list_parameters_are_the_schemas(sandbox: Sandbox) -> None:
    """The pinned SDK's EventListParams drive the checks: what it types passes, the rest
    does not; the SDK calls above were checked the same way by the contract plugin."""
    ok = check_request("GET", sandbox.url + "/v1/events?limit=3&types[0]=charge.refunded"
                       "&types[1]=refund.created&created[gte]=5&delivery_success=true")
    assert ok is not None and ok.violations == ()
    bad = schema().violations("GET", "/v1/events", {"limt": "3"})
    assert bad is not None and [v.param for v in bad] == ["limt"]
    endpoint = schema().endpoint("GET", "/v1/events")
    assert endpoint is not None and endpoint.params_class == "EventListParams"


def test_events_are_kept_in_the_state_file(tmp_path: Path) -> None:
    state_file = str(tmp_path / "sandbox.json")
    with start_sandbox(state_file=state_file) as first:
        client = make_client(first)
        pay(client, "ev-keep", manual=True)
        kept = first.events()
    text = Path(state_file).read_text()
    assert "_secret_" not in text.split('"events"')[1]  # no client secret in the events
    with start_sandbox(state_file=state_file) as again:
        assert again.events() == kept
        client = make_client(again)
        assert client.v1.events.retrieve(kept[0]["id"]).type == kept[0]["type"]
        assert kept[-1]["data"]["object"]["client_secret"] is None
        pay(client, "ev-keep-2")
        assert len(again.events()) == len(kept) + 3


def test_events_and_their_objects_have_stripes_shape(
        sandbox: Sandbox, client: stripe.StripeClient, stripe_examples: dict[str, Any]) -> None:
    pi = pay(client, "ev-shape")
    sandbox.open_dispute(pi.id)
    for event in sandbox.events():
        assert set(event) == set(stripe_examples["event"]), event["type"]
        kind = event["data"]["object"]["object"]
        # Stripe has left the charge's `refunds` list out since API version 2022-11-15.
        expected = set(stripe_examples[kind]) - ({"refunds"} if kind == "charge" else set())
        assert set(event["data"]["object"]) == expected, event["type"]


def test_a_tap_on_the_reader_is_announced_as_a_card_present_charge(
        sandbox: Sandbox, client: stripe.StripeClient) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 1_200, "currency": "usd", "allowed_payment_method_types": ["card_present"],
        "capture_method": "manual"}, options={"idempotency_key": "ev-tap"})
    client.v1.terminal.readers.process_payment_intent(
        sandbox.reader_id, params={"payment_intent": pi.id},
        options={"idempotency_key": "ev-tap-process"})
    client.v1.test_helpers.terminal.readers.present_payment_method(
        sandbox.reader_id, options={"idempotency_key": "ev-tap-present"})
    (charged,) = sandbox.events("charge.succeeded")
    details = charged["data"]["object"]["payment_method_details"]
    assert details["type"] == "card_present"
    assert details["card_present"]["reader"] == sandbox.reader_id
    assert charged["request"]["idempotency_key"] == "ev-tap-present"
    assert sandbox.events()[0]["type"] == "payment_intent.amount_capturable_updated"


def test_customers_cards_on_file_and_setup_intents_are_announced(
        sandbox: Sandbox, client: stripe.StripeClient) -> None:
    customer = client.v1.customers.create(params={"email": "ada@example.com"},
                                          options={"idempotency_key": "ev-cus"})
    client.v1.customers.update(customer.id, params={"email": "ada@example.com"})
    assert types_of(sandbox.events()) == ["customer.created"]  # nothing changed
    client.v1.customers.update(customer.id, params={"name": "Ada"})
    updated = sandbox.events()[0]
    assert updated["type"] == "customer.updated"
    assert updated["data"]["previous_attributes"] == {"name": None}
    pm = client.v1.payment_methods.attach("pm_card_visa", params={"customer": customer.id})
    client.v1.payment_methods.detach(pm.id)
    seti = client.v1.setup_intents.create(params={"customer": customer.id})
    client.v1.setup_intents.cancel(seti.id)
    assert types_of(sandbox.events())[:4] == [
        "setup_intent.canceled", "setup_intent.created", "payment_method.detached",
        "payment_method.attached"]
    assert sandbox.events("setup_intent.created")[0]["data"]["object"]["client_secret"] is None
