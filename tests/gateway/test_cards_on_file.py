"""The gateway's calls for cards on file, against the sandbox: a keyed card carries the
expiry typed in and Stripe's fingerprint, is not redisplayable until kept, and is detached;
the reader's generated card is "limited" unless asked otherwise."""

from __future__ import annotations

import pytest

from gateway import InvalidRequest, KeyedCard, StripeGateway
from gateway.sandbox import Sandbox
from tests.reader_taps import VISA, Tapper


def keyed(number: str = VISA, month: int = 12, year: int = 2030) -> KeyedCard:
    return KeyedCard(number, month, year, "123", "94107")


def test_a_keyed_card_has_the_typed_expiry_and_a_fingerprint(gateway: StripeGateway,
                                                             customer_id: str) -> None:
    card = gateway.card_from_keyed_entry(keyed(month=12, year=30), customer_id=customer_id,
                                         idempotency_key="k-1")
    assert (card.exp_month, card.exp_year) == (12, 2030)
    assert card.fingerprint
    assert card.allow_redisplay == "unspecified"
    assert card.customer == customer_id
    again = gateway.card_from_keyed_entry(keyed(year=2031), customer_id=customer_id,
                                          idempotency_key="k-2")
    assert again.payment_method_id != card.payment_method_id
    assert again.fingerprint == card.fingerprint  # the same card number
    other = gateway.card_from_keyed_entry(keyed("5555555555554444"), customer_id=customer_id,
                                          idempotency_key="k-3")
    assert other.fingerprint != card.fingerprint


def test_only_kept_cards_are_listed_as_redisplayable_and_detach_takes_one_off(
        gateway: StripeGateway, customer_id: str) -> None:
    card = gateway.card_from_keyed_entry(keyed(), customer_id=customer_id,
                                         idempotency_key="k-1")
    assert gateway.saved_cards(customer_id, allow_redisplay="always") == []
    kept = gateway.keep_card(card.payment_method_id, idempotency_key="k-1:keep")
    assert kept.allow_redisplay == "always"
    assert [c.payment_method_id for c in gateway.saved_cards(
        customer_id, allow_redisplay="always")] == [card.payment_method_id]
    detached = gateway.detach_card(card.payment_method_id, idempotency_key="k-1:off")
    assert detached.customer is None
    assert gateway.saved_cards(customer_id) == []
    assert gateway.card(card.payment_method_id).customer is None
    with pytest.raises(InvalidRequest):  # detached: Stripe no longer updates it
        gateway.keep_card(card.payment_method_id, idempotency_key="k-1:keep-again")


def test_the_readers_card_is_limited_unless_kept(gateway: StripeGateway, customer_id: str,
                                                 sandbox: Sandbox) -> None:
    with Tapper(sandbox, gateway, [VISA]) as taps:
        card = gateway.card_from_reader(sandbox.reader_id, customer_id=customer_id,
                                        idempotency_key="r-1", timeout_seconds=20)
        taps.join()
    assert card.allow_redisplay == "limited"
    assert gateway.saved_cards(customer_id, allow_redisplay="always") == []
    typed = gateway.card_from_keyed_entry(keyed(), customer_id=customer_id,
                                          idempotency_key="k-1")
    assert card.fingerprint == typed.fingerprint  # one card, tapped or typed
