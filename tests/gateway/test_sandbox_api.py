"""Sandbox endpoints beyond the gateway's own calls, through the official SDK: confirm as a
separate step, partial capture, and lists filtered and paged as Stripe pages them."""

from __future__ import annotations

import pytest
import stripe

from gateway.sandbox import Sandbox


def test_create_then_confirm_then_a_second_confirm_is_refused(
        client: stripe.StripeClient, customer_id: str) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 2_000, "currency": "usd", "customer": customer_id,
        "capture_method": "manual"}, options={"idempotency_key": "two-step"})
    assert (pi.status, pi.payment_method, pi.latest_charge) == (
        "requires_payment_method", None, None)
    confirmed = client.v1.payment_intents.confirm(
        pi.id, params={"payment_method": "pm_card_visa"}, options={"idempotency_key": "c-1"})
    assert (confirmed.status, confirmed.amount_capturable) == ("requires_capture", 2_000)
    assert isinstance(confirmed.latest_charge, str) and confirmed.latest_charge.startswith("ch_")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.payment_intents.confirm(pi.id, options={"idempotency_key": "c-2"})
    assert caught.value.code == "payment_intent_unexpected_state"


def test_a_test_payment_method_id_becomes_one_payment_method(client: stripe.StripeClient,
                                                            sandbox: Sandbox) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 900, "currency": "usd", "confirm": True, "payment_method": "pm_card_visa"})
    [pm] = sandbox.objects("payment_method")
    assert pi.payment_method == pm["id"] != "pm_card_visa"
    [charge] = sandbox.objects("charge")
    assert charge["payment_method"] == pm["id"]


def test_a_partial_capture_keeps_the_amounts_right(client: stripe.StripeClient,
                                                   customer_id: str) -> None:
    pi = client.v1.payment_intents.create(params={
        "amount": 5_000, "currency": "eur", "customer": customer_id, "confirm": True,
        "capture_method": "manual", "payment_method": "pm_card_visa"})
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 5_001})
    captured = client.v1.payment_intents.capture(pi.id, params={"amount_to_capture": 3_000})
    assert (captured.status, captured.amount_received, captured.amount_capturable) == (
        "succeeded", 3_000, 0)
    charge = client.v1.charges.retrieve(captured.latest_charge)
    assert (charge.amount_captured, charge.amount_refunded, charge.captured) == (
        3_000, 2_000, True)
    with pytest.raises(stripe.InvalidRequestError) as too_much:
        client.v1.refunds.create(params={"payment_intent": pi.id, "amount": 3_001})
    assert too_much.value.code == "amount_too_large"


def test_lists_filter_and_page_newest_first(client: stripe.StripeClient, customer_id: str,
                                            sandbox: Sandbox) -> None:
    other = client.v1.customers.create(params={"email": "o@example.com"}).id
    mine = [client.v1.payment_intents.create(params={
        "amount": 1_000 + n, "currency": "usd", "customer": customer_id, "confirm": True,
        "payment_method": "pm_card_visa"}).id for n in range(3)]
    client.v1.payment_intents.create(params={"amount": 999, "currency": "usd",
                                             "customer": other})
    listed = client.v1.payment_intents.list(params={"customer": customer_id, "limit": 2})
    assert [p.id for p in listed.data] == mine[::-1][:2] and listed.has_more
    rest = client.v1.payment_intents.list(params={
        "customer": customer_id, "limit": 2, "starting_after": listed.data[-1].id})
    assert [p.id for p in rest.data] == [mine[0]] and not rest.has_more
    assert sandbox.count("payment_intent") == 4
    refund = client.v1.refunds.create(params={"payment_intent": mine[1], "amount": 100})
    client.v1.refunds.create(params={"payment_intent": mine[2]})
    by_intent = client.v1.refunds.list(params={"payment_intent": mine[1]})
    assert [r.id for r in by_intent.data] == [refund.id]
    assert client.v1.refunds.retrieve(refund.id).amount == 100
