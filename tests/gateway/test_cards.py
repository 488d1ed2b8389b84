"""Keyed cards checked locally: Luhn, length, brand, and a repr that hides the number."""

from __future__ import annotations

import pytest

from gateway import CardNumberInvalid, KeyedCard
from gateway.cards import (
    TEST_CARD_PAYMENT_METHODS,
    brand_of,
    check_number,
    luhn_ok,
    payment_method_for_test_card,
)


@pytest.mark.parametrize("number", list(TEST_CARD_PAYMENT_METHODS))
def test_every_published_test_number_passes_luhn_and_has_a_brand(number: str) -> None:
    assert luhn_ok(number)
    assert brand_of(number) != "unknown"
    assert check_number(number) == number


@pytest.mark.parametrize("number,brand", [
    ("4242 4242 4242 4242", "visa"), ("5555-5555-5555-4444", "mastercard"),
    ("2223003122003222", "mastercard"), ("378282246310005", "amex"),
    ("6011111111111117", "discover"), ("3056930009020004", "diners"),
    ("3566002020360505", "jcb"), ("6200000000000005", "unionpay"),
])
def test_brand_detection_follows_the_number_ranges(number: str, brand: str) -> None:
    assert brand_of(number) == brand


@pytest.mark.parametrize("number", [
    "4242424242424241",  # Luhn fails
    "424242",  # too short
    "42424242424242424242",  # too long
    "4242 4242 4242 424x",  # not digits
    "",
])
def test_a_bad_number_is_refused_with_a_plain_message(number: str) -> None:
    with pytest.raises(CardNumberInvalid) as caught:
        check_number(number)
    assert caught.value.message.startswith("That card number is not valid")
    assert caught.value.param == "number"


def test_test_numbers_map_to_stripes_test_payment_methods() -> None:
    assert payment_method_for_test_card("4242 4242 4242 4242") == "pm_card_visa"
    assert payment_method_for_test_card("4000000000000002") == "pm_card_visa_chargeDeclined"
    assert payment_method_for_test_card("4000002760003184") == "pm_card_authenticationRequired"
    assert payment_method_for_test_card("4000000000000341") == "pm_card_chargeCustomerFail"
    assert payment_method_for_test_card("4111111111111111") is None


def test_keyed_card_repr_and_str_hide_the_number_and_cvc() -> None:
    card = KeyedCard(number="4000000000009995", exp_month=4, exp_year=2031, cvc="739")
    for text in (repr(card), str(card), f"{card}", repr([card])):
        assert "4000000000009995" not in text
        assert "739" not in text
        assert "9995" in text
