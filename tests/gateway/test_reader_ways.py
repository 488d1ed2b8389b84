"""The two ways a card on the reader pays (server-driven Stripe Terminal, API version endive):
a card the reader can keep yields a reusable `generated_card`, charged card-not-present for
each invoice; a card it cannot keep (a wallet tap) yields none, and each invoice is then
tapped on the reader, card-present."""

from __future__ import annotations

from typing import Any

import pytest
import stripe

from gateway import StripeGateway
from gateway.errors import CardDeclined, InvalidRequest, ReaderTimeout
from gateway.sandbox import Sandbox
from gateway.values import CardInfo, NoReusableCard
from tests.gateway.test_object_shapes import assert_shape
from tests.reader_taps import APPLE_PAY_TAP, DECLINED, VISA, Tapper

AMOUNTS = (12000, 4550, 30000)


def _reader(sandbox: Sandbox) -> dict[str, Any]:
    [reader] = sandbox.objects("terminal.reader")
    return reader


def _intent(sandbox: Sandbox, pi_id: str) -> dict[str, Any]:
    return next(pi for pi in sandbox.objects("payment_intent") if pi["id"] == pi_id)


def _charge(sandbox: Sandbox, charge_id: str) -> dict[str, Any]:
    return next(ch for ch in sandbox.objects("charge") if ch["id"] == charge_id)


def _method(sandbox: Sandbox, pm_id: str) -> dict[str, Any]:
    return next(pm for pm in sandbox.objects("payment_method") if pm["id"] == pm_id)


def _tap_on_reader(gateway: StripeGateway, sandbox: Sandbox, customer_id: str, amount: int,
                   key: str, timeout: float = 10) -> Any:
    return gateway.authorize_on_reader(
        sandbox.reader_id, amount=amount, currency="usd", customer_id=customer_id,
        metadata={"paydesk_invoice_payment": key}, statement_descriptor_suffix="INV 1021",
        description="Invoice INV-1021", idempotency_key=key, timeout_seconds=timeout)


def test_a_card_the_reader_keeps_is_charged_card_not_present_for_each_invoice(
        gateway: StripeGateway, sandbox: Sandbox, customer_id: str) -> None:
    with Tapper(sandbox, gateway, [VISA]) as taps:
        card = gateway.card_from_reader(sandbox.reader_id, customer_id=customer_id,
                                        idempotency_key="ways-keep", timeout_seconds=10)
        assert taps.join() == [("process_setup_intent", _reader(sandbox)["action"][
            "process_setup_intent"]["setup_intent"])]
    assert isinstance(card, CardInfo) and (card.brand, card.last4) == ("visa", "4242")
    assert _reader(sandbox)["action"]["process_setup_intent"]["generated_card"] == \
        card.payment_method_id
    held = [gateway.authorize(amount=amount, currency="usd",
                              payment_method_id=card.payment_method_id,
                              customer_id=customer_id, metadata={}, description="Invoice",
                              statement_descriptor_suffix="INV", idempotency_key=f"keep-{n}")
            for n, amount in enumerate(AMOUNTS)]
    assert [h.status for h in held] == ["requires_capture"] * 3
    assert len({h.id for h in held}) == 3
    for h in held:
        pi = _intent(sandbox, h.id)
        assert pi["payment_method_types"] == ["card"]
        assert _method(sandbox, pi["payment_method"])["type"] == "card"
        assert _charge(sandbox, pi["latest_charge"])["payment_method_details"]["type"] == "card"


@pytest.mark.parametrize("number,expected", [
    (APPLE_PAY_TAP, NoReusableCard("visa", "7775", "apple_pay")),
    ("5555555555551234", NoReusableCard("mastercard", "1234", "google_pay")),
])
def test_a_wallet_tap_yields_no_reusable_card_and_nothing_is_saved(
        gateway: StripeGateway, sandbox: Sandbox, customer_id: str, number: str,
        expected: NoReusableCard) -> None:
    with Tapper(sandbox, gateway, [number]) as taps:
        result = gateway.card_from_reader(sandbox.reader_id, customer_id=customer_id,
                                          idempotency_key="ways-wallet", timeout_seconds=10)
        taps.join()
    assert result == expected
    assert "each invoice must be tapped" in result.message
    action = _reader(sandbox)["action"]
    assert (action["status"], action["process_setup_intent"]["generated_card"]) == (
        "succeeded", None)
    [seti] = sandbox.objects("setup_intent")
    tapped = _method(sandbox, seti["payment_method"])
    assert tapped["type"] == "card_present"
    assert tapped["card_present"]["wallet"] == {"type": expected.wallet}
    assert gateway.saved_cards(customer_id) == []


def test_without_a_kept_card_each_invoice_is_tapped_and_held_card_present(
        gateway: StripeGateway, sandbox: Sandbox, customer_id: str) -> None:
    with Tapper(sandbox, gateway, [APPLE_PAY_TAP] * 3) as taps:
        held = [_tap_on_reader(gateway, sandbox, customer_id, amount, f"tap-{n}")
                for n, amount in enumerate(AMOUNTS)]
        tapped = taps.join()
    assert [h.status for h in held] == ["requires_capture"] * 3
    assert tapped == [("process_payment_intent", h.id) for h in held]
    for h, amount in zip(held, AMOUNTS, strict=True):
        pi = _intent(sandbox, h.id)
        assert (pi["amount"], pi["amount_capturable"], pi["capture_method"]) == (
            amount, amount, "manual")
        assert pi["payment_method_types"] == ["card_present"]
        method = _method(sandbox, pi["payment_method"])
        assert method["type"] == "card_present"
        assert method["card_present"]["wallet"] == {"type": "apple_pay"}
        details = _charge(sandbox, pi["latest_charge"])["payment_method_details"]
        assert details["type"] == "card_present"
        assert details["card_present"]["wallet"] == {"type": "apple_pay"}
        assert pi["metadata"]["paydesk_invoice_payment"] == f"tap-{AMOUNTS.index(amount)}"
        assert h.card is not None and h.card.last4 == "7775"
    captured = gateway.capture(held[0].id, idempotency_key="tap-0-capture")
    assert (captured.status, captured.amount_received) == ("succeeded", AMOUNTS[0])


def test_a_declined_tap_is_card_declined_and_names_its_intent(
        gateway: StripeGateway, sandbox: Sandbox, customer_id: str) -> None:
    with Tapper(sandbox, gateway, [DECLINED]) as taps:
        with pytest.raises(CardDeclined) as caught:
            _tap_on_reader(gateway, sandbox, customer_id, 5000, "tap-declined")
        taps.join()
    assert (caught.value.code, caught.value.decline_code) == ("card_declined", "generic_decline")
    pi = _intent(sandbox, caught.value.payment_intent_id)
    assert pi["status"] == "requires_payment_method"
    assert pi["last_payment_error"]["decline_code"] == "generic_decline"
    action = _reader(sandbox)["action"]
    assert (action["type"], action["status"], action["failure_code"]) == (
        "process_payment_intent", "failed", "card_declined")


def test_no_tap_in_time_cancels_the_intent_and_frees_the_reader(
        gateway: StripeGateway, sandbox: Sandbox, customer_id: str) -> None:
    with pytest.raises(ReaderTimeout):
        _tap_on_reader(gateway, sandbox, customer_id, 5000, "tap-late", timeout=0.2)
    [pi] = sandbox.objects("payment_intent")
    assert pi["status"] == "canceled"
    action = _reader(sandbox)["action"]
    assert (action["status"], action["failure_code"]) == ("failed", "canceled")
    # The reader takes the next payment.
    with Tapper(sandbox, gateway, [VISA]) as taps:
        assert _tap_on_reader(gateway, sandbox, customer_id, 5000, "tap-next").status == \
            "requires_capture"
        taps.join()


def test_a_reader_that_cannot_be_read_leaves_no_hold_waiting(
        gateway: StripeGateway, sandbox: Sandbox, customer_id: str,
        monkeypatch: pytest.MonkeyPatch) -> None:
    """Stripe refuses to show the reader while it waits for the tap: the reader is stopped
    and the intent released, so a tap made afterwards cannot leave an untracked hold."""
    def unreadable(*args: Any, **kwargs: Any) -> None:
        raise InvalidRequest("No such terminal.reader", code="resource_missing")

    monkeypatch.setattr(gateway, "_wait_for_action", unreadable)
    with pytest.raises(InvalidRequest):
        _tap_on_reader(gateway, sandbox, customer_id, 5000, "tap-unreadable")
    [pi] = sandbox.objects("payment_intent")
    assert pi["status"] == "canceled"
    action = _reader(sandbox)["action"]
    assert (action["status"], action["failure_code"]) == ("failed", "canceled")


def test_the_tapped_card_present_method_cannot_be_charged_as_a_card(
        gateway: StripeGateway, sandbox: Sandbox, customer_id: str) -> None:
    with Tapper(sandbox, gateway, [APPLE_PAY_TAP]) as taps:
        gateway.card_from_reader(sandbox.reader_id, customer_id=customer_id,
                                 idempotency_key="ways-refuse", timeout_seconds=10)
        taps.join()
    [seti] = sandbox.objects("setup_intent")
    with pytest.raises(InvalidRequest) as caught:
        gateway.authorize(amount=5000, currency="usd", payment_method_id=seti["payment_method"],
                          customer_id=customer_id, metadata={}, description="Invoice",
                          statement_descriptor_suffix="INV", idempotency_key="as-card")
    assert caught.value.param == "payment_method"
    assert not [pi for pi in sandbox.objects("payment_intent")
                if pi["status"] in ("requires_capture", "succeeded")]


# -- the simulated reader's own rules ------------------------------------------------------
def _intent_for(client: stripe.StripeClient, customer_id: str, types: list[str],
                key: str) -> stripe.PaymentIntent:
    return client.v1.payment_intents.create(params={
        "amount": 5000, "currency": "usd", "customer": customer_id, "capture_method": "manual",
        "allowed_payment_method_types": types}, options={"idempotency_key": key})


def test_a_reader_refuses_an_intent_that_does_not_allow_card_present(
        client: stripe.StripeClient, sandbox: Sandbox, customer_id: str) -> None:
    pi = _intent_for(client, customer_id, ["card"], "card-only")
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.terminal.readers.process_payment_intent(
            sandbox.reader_id, params={"payment_intent": pi.id},
            options={"idempotency_key": "process-card-only"})
    assert caught.value.param == "payment_intent"
    assert _reader(sandbox)["action"] is None


def test_a_busy_reader_refuses_a_second_intent_and_cancel_action_frees_it(
        client: stripe.StripeClient, sandbox: Sandbox, customer_id: str) -> None:
    first = _intent_for(client, customer_id, ["card_present"], "busy-1")
    second = _intent_for(client, customer_id, ["card_present"], "busy-2")
    reader = client.v1.terminal.readers.process_payment_intent(
        sandbox.reader_id, params={"payment_intent": first.id},
        options={"idempotency_key": "busy-process-1"})
    assert reader.action is not None and reader.action.status == "in_progress"
    assert reader.action.type == "process_payment_intent"
    with pytest.raises(stripe.InvalidRequestError) as caught:
        client.v1.terminal.readers.process_payment_intent(
            sandbox.reader_id, params={"payment_intent": second.id},
            options={"idempotency_key": "busy-process-2"})
    assert caught.value.code == "terminal_reader_busy"
    reader = client.v1.terminal.readers.cancel_action(
        sandbox.reader_id, options={"idempotency_key": "busy-cancel"})
    assert reader.action is not None
    assert (reader.action.status, reader.action.failure_code) == ("failed", "canceled")
    assert client.v1.payment_intents.retrieve(first.id).status == "requires_payment_method"
    with pytest.raises(stripe.InvalidRequestError):  # nothing is waiting for a card now
        client.v1.test_helpers.terminal.readers.present_payment_method(
            sandbox.reader_id, options={"idempotency_key": "busy-late-tap"})
    client.v1.terminal.readers.process_payment_intent(
        sandbox.reader_id, params={"payment_intent": second.id},
        options={"idempotency_key": "busy-process-3"})
    assert _reader(sandbox)["action"]["process_payment_intent"]["payment_intent"] == second.id


def test_a_tap_on_a_payment_leaves_objects_shaped_like_stripes(
        gateway: StripeGateway, sandbox: Sandbox, customer_id: str,
        stripe_examples: dict[str, Any]) -> None:
    with Tapper(sandbox, gateway, [APPLE_PAY_TAP]) as taps:
        held = _tap_on_reader(gateway, sandbox, customer_id, 5000, "tap-shape")
        taps.join()
    reader = _reader(sandbox)
    assert_shape(reader, stripe_examples)
    assert set(reader["action"]) == {"type", "status", "failure_code", "failure_message",
                                     "api_error", "process_payment_intent"}
    assert set(reader["action"]["process_payment_intent"]) == {"payment_intent",
                                                               "process_config"}
    pi = _intent(sandbox, held.id)
    for obj in (pi, _method(sandbox, pi["payment_method"]), _charge(sandbox,
                                                                     pi["latest_charge"])):
        assert_shape(obj, stripe_examples)
    details = _charge(sandbox, pi["latest_charge"])["payment_method_details"]
    assert set(details) == {"type", "card_present"}
    assert details["card_present"]["reader"] == sandbox.reader_id


def test_a_busy_reader_refuses_the_tap_and_leaves_the_other_payment_waiting(
        gateway: StripeGateway, client: stripe.StripeClient, sandbox: Sandbox,
        customer_id: str) -> None:
    other = _intent_for(client, customer_id, ["card_present"], "other-desk")
    client.v1.terminal.readers.process_payment_intent(
        sandbox.reader_id, params={"payment_intent": other.id},
        options={"idempotency_key": "other-desk-process"})
    with pytest.raises(InvalidRequest) as caught:
        _tap_on_reader(gateway, sandbox, customer_id, 5000, "tap-busy")
    assert caught.value.code == "terminal_reader_busy"
    mine = [pi for pi in sandbox.objects("payment_intent") if pi["id"] != other.id]
    assert [pi["status"] for pi in mine] == ["canceled"]
    action = _reader(sandbox)["action"]
    assert (action["status"], action["process_payment_intent"]["payment_intent"]) == (
        "in_progress", other.id)
