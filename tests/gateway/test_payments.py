"""Point 1: the gateway, through the official SDK, against the sandbox: success, each
decline, authentication required, capture, cancel, refunds, a saved card, a reader."""

from __future__ import annotations

import threading
from typing import Any

import pytest

from gateway import (
    ActionRequired,
    CardDeclined,
    InvalidRequest,
    KeyedCard,
    KeyedEntryRefused,
    OutcomeUnknown,
    ReaderTimeout,
    StripeGateway,
)
from gateway.payments import descriptor_suffix
from gateway.sandbox import FRONT_DESK_READER_LABEL, Sandbox
from tests.gateway.conftest import make_gateway


def authorize(gateway: StripeGateway, customer_id: str, pm: str, key: str,
              amount: int = 12_500, **extra: Any):
    return gateway.authorize(
        amount=amount, currency="USD", payment_method_id=pm, customer_id=customer_id,
        metadata={"checkout": "17", "invoice_payment": key, "invoice": "INV-1001"},
        statement_descriptor_suffix="INV-1001", description="Invoice INV-1001",
        idempotency_key=key, **extra)


def keyed(number: str) -> KeyedCard:
    return KeyedCard(number=number, exp_month=12, exp_year=2034, cvc="123",
                     postal_code="94107")


def test_a_keyed_visa_authorizes_then_captures(gateway: StripeGateway, customer_id: str,
                                               sandbox: Sandbox) -> None:
    card = gateway.card_from_keyed_entry(keyed("4242 4242 4242 4242"), customer_id=customer_id,
                                         idempotency_key="card-1")
    assert (card.brand, card.last4) == ("visa", "4242")
    assert card.payment_method_id.startswith("pm_") and card.payment_method_id != "pm_card_visa"

    held = authorize(gateway, customer_id, card.payment_method_id, "ip-1")
    assert held.status == "requires_capture"
    assert (held.amount, held.amount_capturable, held.amount_received) == (12_500, 12_500, 0)
    assert held.currency == "usd" and held.latest_charge and held.latest_charge.startswith("ch_")
    assert held.metadata["invoice"] == "INV-1001"
    assert held.card is not None and held.card.last4 == "4242"
    [pi] = sandbox.objects("payment_intent")
    assert pi["capture_method"] == "manual"
    assert pi["statement_descriptor_suffix"] == "INV-1001"

    captured = gateway.capture(held.id, idempotency_key="cap-1")
    assert captured.status == "succeeded"
    assert (captured.amount_capturable, captured.amount_received) == (0, 12_500)
    assert gateway.payment_intent(held.id).status == "succeeded"


DECLINES = [
    ("pm_card_visa_chargeDeclined", "card_declined", "generic_decline"),
    ("pm_card_visa_chargeDeclinedInsufficientFunds", "card_declined", "insufficient_funds"),
    ("pm_card_visa_chargeDeclinedLostCard", "card_declined", "lost_card"),
    ("pm_card_visa_chargeDeclinedStolenCard", "card_declined", "stolen_card"),
    ("pm_card_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ("pm_card_visa_chargeDeclinedExpiredCard", "expired_card", "expired_card"),
    ("pm_card_chargeDeclinedIncorrectCvc", "incorrect_cvc", "incorrect_cvc"),
    ("pm_card_chargeDeclinedProcessingError", "processing_error", "processing_error"),
    ("pm_card_visa_chargeDeclinedVelocityLimitExceeded", "card_declined",
     "card_velocity_exceeded"),
    ("pm_card_chargeCustomerFail", "card_declined", "generic_decline"),
]


@pytest.mark.parametrize("pm,code,decline_code", DECLINES)
def test_each_decline_raises_card_declined_with_stripes_codes(
        gateway: StripeGateway, customer_id: str, pm: str, code: str, decline_code: str) -> None:
    with pytest.raises(CardDeclined) as caught:
        authorize(gateway, customer_id, pm, f"ip-{pm}")
    error = caught.value
    assert (error.code, error.decline_code) == (code, decline_code)
    assert error.message and "card" in error.message.lower()
    assert error.payment_intent_id and error.payment_intent_id.startswith("pi_")
    failed = gateway.payment_intent(error.payment_intent_id)
    assert failed.status == "requires_payment_method"
    assert failed.decline is not None and failed.decline.decline_code == decline_code


def test_the_client_sees_plain_words_for_insufficient_funds(gateway: StripeGateway,
                                                            customer_id: str) -> None:
    with pytest.raises(CardDeclined) as caught:
        authorize(gateway, customer_id, "pm_card_visa_chargeDeclinedInsufficientFunds", "ip-nsf")
    assert "enough funds" in caught.value.message


@pytest.mark.parametrize("number,decline_code", [
    ("4000000000000002", "generic_decline"), ("4000000000009995", "insufficient_funds"),
    ("4000000000000069", "expired_card"), ("4000000000000127", "incorrect_cvc"),
    ("4000000000000119", "processing_error"),
])
def test_a_keyed_declining_test_card_is_declined_when_saved(
        gateway: StripeGateway, customer_id: str, number: str, decline_code: str) -> None:
    with pytest.raises(CardDeclined) as caught:
        gateway.card_from_keyed_entry(keyed(number), customer_id=customer_id,
                                      idempotency_key=f"card-{number}")
    assert caught.value.decline_code == decline_code
    assert caught.value.payment_intent_id is None


def test_the_charge_customer_fail_card_saves_then_fails_to_charge(
        gateway: StripeGateway, customer_id: str) -> None:
    card = gateway.card_from_keyed_entry(keyed("4000000000000341"), customer_id=customer_id,
                                         idempotency_key="card-0341")
    assert card.last4 == "0341"
    with pytest.raises(CardDeclined) as caught:
        authorize(gateway, customer_id, card.payment_method_id, "ip-0341")
    assert caught.value.decline_code == "generic_decline"


@pytest.mark.parametrize("number", ["4000002760003184", "4000002500003155", "4000000000003220"])
def test_an_authentication_required_card_raises_action_required(
        gateway: StripeGateway, customer_id: str, number: str) -> None:
    card = gateway.card_from_keyed_entry(keyed(number), customer_id=customer_id,
                                         idempotency_key=f"card-{number}")
    with pytest.raises(ActionRequired) as caught:
        authorize(gateway, customer_id, card.payment_method_id, f"ip-{number}")
    pi_id = caught.value.payment_intent_id
    assert pi_id and gateway.payment_intent(pi_id).status == "requires_action"
    assert gateway.cancel(pi_id, idempotency_key=f"cancel-{number}").status == "canceled"


def test_off_session_authentication_required_is_action_required_too(
        gateway: StripeGateway, customer_id: str) -> None:
    with pytest.raises(ActionRequired) as caught:
        authorize(gateway, customer_id, "pm_card_authenticationRequired", "ip-off",
                  off_session=True)
    assert caught.value.payment_intent_id


def test_cancel_releases_a_hold_and_capture_then_refuses(gateway: StripeGateway,
                                                         customer_id: str) -> None:
    held = authorize(gateway, customer_id, "pm_card_mastercard", "ip-c")
    canceled = gateway.cancel(held.id, idempotency_key="cancel-c")
    assert (canceled.status, canceled.amount_capturable) == ("canceled", 0)
    with pytest.raises(InvalidRequest) as caught:
        gateway.capture(held.id, idempotency_key="cap-c")
    assert caught.value.code == "payment_intent_unexpected_state"


def test_a_captured_payment_cannot_be_canceled(gateway: StripeGateway, customer_id: str) -> None:
    held = authorize(gateway, customer_id, "pm_card_visa", "ip-d")
    gateway.capture(held.id, idempotency_key="cap-d")
    with pytest.raises(InvalidRequest) as caught:
        gateway.cancel(held.id, idempotency_key="cancel-d")
    assert caught.value.code == "payment_intent_unexpected_state"


def test_partial_then_full_refunds_and_no_more_than_was_captured(
        gateway: StripeGateway, customer_id: str) -> None:
    held = authorize(gateway, customer_id, "pm_card_visa", "ip-r", amount=10_000)
    gateway.capture(held.id, idempotency_key="cap-r")
    first = gateway.refund(held.id, amount=2_500, idempotency_key="re-1",
                           metadata={"refund": "1"})
    assert (first.status, first.amount, first.payment_intent) == ("succeeded", 2_500, held.id)
    with pytest.raises(InvalidRequest) as too_much:
        gateway.refund(held.id, amount=7_501, idempotency_key="re-2")
    assert too_much.value.code == "amount_too_large"
    rest = gateway.refund(held.id, amount=None, idempotency_key="re-3")
    assert rest.amount == 7_500
    assert gateway.refund_status(rest.id).status == "succeeded"
    with pytest.raises(InvalidRequest) as again:
        gateway.refund(held.id, amount=1, idempotency_key="re-4")
    assert again.value.code == "charge_already_refunded"


def test_refunds_at_once_never_exceed_what_was_captured(gateway: StripeGateway,
                                                       customer_id: str) -> None:
    held = authorize(gateway, customer_id, "pm_card_visa", "ip-race-re", amount=10_000)
    gateway.capture(held.id, idempotency_key="cap-race-re")
    outcomes: list[object] = []
    barrier = threading.Barrier(8)

    def refund(n: int) -> None:
        barrier.wait()
        try:
            outcomes.append(gateway.refund(held.id, amount=3_000, idempotency_key=f"re-race-{n}"))
        except InvalidRequest as exc:
            outcomes.append(exc.code)

    threads = [threading.Thread(target=refund, args=(n,)) for n in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    refunded = [o for o in outcomes if not isinstance(o, str)]
    assert len(refunded) == 3 and sorted(o for o in outcomes if isinstance(o, str)) == [
        "amount_too_large"] * 5
    rest = gateway.refund(held.id, amount=None, idempotency_key="re-race-rest")
    assert rest.amount == 1_000


def test_an_uncaptured_hold_cannot_be_refunded(gateway: StripeGateway, customer_id: str) -> None:
    held = authorize(gateway, customer_id, "pm_card_visa", "ip-u")
    with pytest.raises(InvalidRequest) as caught:
        gateway.refund(held.id, amount=None, idempotency_key="re-u")
    assert caught.value.code == "charge_not_refundable"
    assert gateway.payment_intent(held.id).amount_capturable == 12_500  # the hold stands


@pytest.mark.parametrize("currency,amount,code", [
    ("usd", 49, "amount_too_small"), ("gbp", 29, "amount_too_small"),
    ("jpy", 49, "amount_too_small"), ("usd", 100_000_000, "amount_too_large"),
])
def test_amounts_outside_stripes_limits_are_refused(
        gateway: StripeGateway, customer_id: str, currency: str, amount: int, code: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        gateway.authorize(amount=amount, currency=currency, payment_method_id="pm_card_visa",
                          customer_id=customer_id, metadata={}, statement_descriptor_suffix="X",
                          description="d", idempotency_key=f"ip-{currency}-{amount}")
    assert (caught.value.code, caught.value.param) == (code, "amount")


def test_the_minimum_itself_is_accepted(gateway: StripeGateway, customer_id: str) -> None:
    assert authorize(gateway, customer_id, "pm_card_visa", "ip-min", amount=50).amount == 50


def test_saved_cards_lists_the_customers_cards(gateway: StripeGateway, customer_id: str) -> None:
    assert gateway.saved_cards(customer_id) == []
    visa = gateway.card_from_keyed_entry(keyed("4242424242424242"), customer_id=customer_id,
                                         idempotency_key="card-s1")
    amex = gateway.card_from_keyed_entry(
        KeyedCard(number="378282246310005", exp_month=1, exp_year=2033, cvc="1234"),
        customer_id=customer_id, idempotency_key="card-s2")
    saved = gateway.saved_cards(customer_id)
    assert [c.payment_method_id for c in saved] == [amex.payment_method_id,
                                                   visa.payment_method_id]
    # In test mode the card is Stripe's pm_card_amex, with its own last 4 and expiry.
    assert saved[0].brand == "amex"
    held = authorize(gateway, customer_id, saved[1].payment_method_id, "ip-saved")
    assert held.card is not None and held.card.payment_method_id == visa.payment_method_id
    other = gateway.find_or_create_customer(client_ref="client-2", email="bob@example.com",
                                            name="Bob", idempotency_key="cus-client-2")
    assert gateway.saved_cards(other) == []


def test_find_or_create_customer_finds_the_same_customer(gateway: StripeGateway,
                                                         customer_id: str,
                                                         sandbox: Sandbox) -> None:
    again = gateway.find_or_create_customer(client_ref="client-1", email="ada@example.com",
                                            name="Ada Lovelace", idempotency_key="cus-other-key")
    moved = gateway.find_or_create_customer(client_ref="client-1", email="ada@new.example",
                                            name="Ada Lovelace", idempotency_key="cus-k3")
    assert again == moved == customer_id
    assert sandbox.count("customer") == 1


def test_an_unknown_number_in_test_mode_says_only_test_cards_work(
        gateway: StripeGateway, customer_id: str) -> None:
    with pytest.raises(InvalidRequest) as caught:
        gateway.card_from_keyed_entry(keyed("4111111111111111"), customer_id=customer_id,
                                      idempotency_key="card-x")
    assert "test card" in caught.value.message


def test_live_mode_refuses_keyed_entry_without_raw_card_access(sandbox: Sandbox) -> None:
    live = make_gateway(sandbox, test_mode=False)
    with pytest.raises(KeyedEntryRefused):
        live.card_from_keyed_entry(keyed("4242424242424242"), customer_id="cus_x",
                                   idempotency_key="card-live")
    assert sandbox.count("payment_method") == 0


def test_live_mode_with_raw_card_access_sends_the_number_once(sandbox: Sandbox) -> None:
    raw = make_gateway(sandbox, test_mode=False, raw=True)
    customer = raw.find_or_create_customer(client_ref="c", email="c@example.com", name="C",
                                           idempotency_key="cus-c")
    card = raw.card_from_keyed_entry(keyed("5555555555554444"), customer_id=customer,
                                     idempotency_key="card-raw")
    assert (card.brand, card.last4, card.exp_year) == ("mastercard", "4444", 2034)
    assert authorize(raw, customer, card.payment_method_id, "ip-raw").status == "requires_capture"


def test_find_payment_intents_finds_an_authorization_by_metadata(
        gateway: StripeGateway, customer_id: str) -> None:
    held = authorize(gateway, customer_id, "pm_card_visa", "ip-find")
    authorize(gateway, customer_id, "pm_card_visa", "ip-other")
    found = gateway.find_payment_intents(metadata_key="invoice_payment",
                                         metadata_value="ip-find")
    assert [p.id for p in found] == [held.id]
    assert gateway.find_payment_intents(metadata_key="invoice_payment",
                                        metadata_value="nothing") == []


def test_a_missing_payment_intent_is_an_invalid_request(gateway: StripeGateway) -> None:
    with pytest.raises(InvalidRequest) as caught:
        gateway.payment_intent("pi_doesnotexist")
    assert caught.value.code == "resource_missing"


# -- the simulated reader ------------------------------------------------------------------
def _tap_when_waiting(gateway: StripeGateway, sandbox: Sandbox, number: str) -> threading.Thread:
    def tap() -> None:
        for _ in range(500):
            [reader] = sandbox.objects("terminal.reader")
            if reader["action"] and reader["action"]["status"] == "in_progress":
                gateway.present_test_card_on_reader(sandbox.reader_id, number)
                return
            threading.Event().wait(0.01)

    thread = threading.Thread(target=tap)
    thread.start()
    return thread


def test_the_reader_yields_a_reusable_card_that_authorizes(
        gateway: StripeGateway, customer_id: str, sandbox: Sandbox) -> None:
    assert gateway.list_readers() == [(sandbox.reader_id, FRONT_DESK_READER_LABEL)]
    tapper = _tap_when_waiting(gateway, sandbox, "5555555555554444")
    card = gateway.card_from_reader(sandbox.reader_id, customer_id=customer_id,
                                    idempotency_key="reader-1", timeout_seconds=10)
    tapper.join()
    assert (card.brand, card.last4) == ("mastercard", "4444")
    assert [c.payment_method_id for c in gateway.saved_cards(customer_id)] == [
        card.payment_method_id]
    [seti] = sandbox.objects("setup_intent")
    assert seti["status"] == "succeeded" and seti["customer"] == customer_id
    assert authorize(gateway, customer_id, card.payment_method_id, "ip-tap").status == \
        "requires_capture"


@pytest.mark.parametrize("number,decline_code,words", [
    ("4000000000000002", "generic_decline", "use another card"),
    ("4000000000009995", "insufficient_funds", "enough funds"),
])
def test_a_declined_card_on_the_reader_is_card_declined(
        gateway: StripeGateway, customer_id: str, sandbox: Sandbox, number: str,
        decline_code: str, words: str) -> None:
    tapper = _tap_when_waiting(gateway, sandbox, number)
    with pytest.raises(CardDeclined) as caught:
        gateway.card_from_reader(sandbox.reader_id, customer_id=customer_id,
                                 idempotency_key="reader-2", timeout_seconds=10)
    tapper.join()
    assert (caught.value.code, caught.value.decline_code) == ("card_declined", decline_code)
    assert words in caught.value.message
    assert gateway.saved_cards(customer_id) == []


def test_no_card_on_the_reader_times_out_and_frees_the_reader(
        gateway: StripeGateway, customer_id: str, sandbox: Sandbox) -> None:
    with pytest.raises(ReaderTimeout):
        gateway.card_from_reader(sandbox.reader_id, customer_id=customer_id,
                                 idempotency_key="reader-3", timeout_seconds=0.2)
    [reader] = sandbox.objects("terminal.reader")
    assert reader["action"]["status"] == "failed"


def test_presenting_a_test_card_is_refused_in_live_mode(sandbox: Sandbox) -> None:
    with pytest.raises(InvalidRequest):
        make_gateway(sandbox, test_mode=False).present_test_card_on_reader(sandbox.reader_id)


def test_a_stopped_sandbox_is_an_unknown_outcome_not_a_failure(sandbox: Sandbox) -> None:
    gateway = make_gateway(sandbox, max_network_retries=0)
    sandbox.stop()
    with pytest.raises(OutcomeUnknown):
        gateway.authorize(amount=1000, currency="usd", payment_method_id="pm_card_visa",
                          customer_id="cus_x", metadata={}, statement_descriptor_suffix="A",
                          description="d", idempotency_key="ip-down")


@pytest.mark.parametrize("label", ["INV-1001", "№ 12 счёт", "Счёт INV-7", "Café *Ünïcode* \"q\"",
                                   "INV 1021 — Whitfield v. Smith & Co", "12345", "<>'\"*\\"])
def test_any_invoice_label_makes_a_suffix_stripe_accepts(gateway: StripeGateway,
                                                          customer_id: str, label: str) -> None:
    """The strict sandbox refuses what Stripe refuses in a statement descriptor suffix
    (non-Latin characters, < > \\ ' " *, no letter, over 22): whatever an invoice is called,
    the hold is placed, with a suffix only when one can be made."""
    held = gateway.authorize(amount=5_000, currency="usd", payment_method_id="pm_card_visa",
                             customer_id=customer_id, metadata={}, description="Invoice",
                             statement_descriptor_suffix=label, idempotency_key=f"sfx-{label.encode().hex()}")
    assert held.status == "requires_capture"
    suffix = descriptor_suffix(label)
    assert suffix is None or (len(suffix) <= 22 and any(c.isalpha() for c in suffix))
