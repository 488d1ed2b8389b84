"""Keyed card numbers: normalising, the Luhn check, brand detection, Stripe's test cards.

Nothing here keeps or logs a number: functions take it, answer, and forget it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from gateway.errors import CardNumberInvalid


@dataclass(frozen=True)
class KeyedCard:
    """A card read out over the phone. Its repr hides the number and CVC."""

    number: str = field(repr=False)
    exp_month: int
    exp_year: int
    cvc: str = field(repr=False)
    postal_code: str | None = None

    def __repr__(self) -> str:  # the dataclass repr already hides them; be explicit anyway
        return (
            f"KeyedCard(number='**** {last4(self.number)}', exp_month={self.exp_month}, "
            f"exp_year={self.exp_year}, cvc='***', postal_code={self.postal_code!r})"
        )

    __str__ = __repr__


# Stripe's published test card numbers -> the matching test PaymentMethod
# (https://docs.stripe.com/testing). Stripe refuses raw numbers from ordinary accounts, so
# in test mode a keyed test number becomes its PaymentMethod instead.
TEST_CARD_PAYMENT_METHODS: dict[str, str] = {
    "4242424242424242": "pm_card_visa",
    "4000056655665556": "pm_card_visa_debit",
    "5555555555554444": "pm_card_mastercard",
    "2223003122003222": "pm_card_mastercard",
    "5200828282828210": "pm_card_mastercard_debit",
    "5105105105105100": "pm_card_mastercard_prepaid",
    "378282246310005": "pm_card_amex",
    "371449635398431": "pm_card_amex",
    "6011111111111117": "pm_card_discover",
    "3056930009020004": "pm_card_diners",
    "3566002020360505": "pm_card_jcb",
    "6200000000000005": "pm_card_unionpay",
    "4000000000000002": "pm_card_visa_chargeDeclined",
    "4000000000009995": "pm_card_visa_chargeDeclinedInsufficientFunds",
    "4000000000009987": "pm_card_visa_chargeDeclinedLostCard",
    "4000000000009979": "pm_card_visa_chargeDeclinedStolenCard",
    "4000000000006975": "pm_card_visa_chargeDeclinedVelocityLimitExceeded",
    "4000000000000069": "pm_card_chargeDeclinedExpiredCard",
    "4000000000000127": "pm_card_chargeDeclinedIncorrectCvc",
    "4000000000000119": "pm_card_chargeDeclinedProcessingError",
    "4100000000000019": "pm_card_radarBlock",
    "4000000000000341": "pm_card_chargeCustomerFail",
    "4000002760003184": "pm_card_authenticationRequired",
    "4000002500003155": "pm_card_authenticationRequiredOnSetup",
    "4000000000003220": "pm_card_threeDSecure2Required",
}

# (brand, prefixes, allowed lengths); the first match wins, so narrower ranges come first.
_BRANDS: tuple[tuple[str, tuple[str, ...], tuple[int, ...]], ...] = (
    ("amex", ("34", "37"), (15,)),
    ("diners", ("300", "301", "302", "303", "304", "305", "36", "38", "39"), (14, 15, 16, 19)),
    ("jcb", tuple(str(p) for p in range(3528, 3590)), (16, 17, 18, 19)),
    ("discover", ("6011", "644", "645", "646", "647", "648", "649", "65"), (16, 19)),
    ("unionpay", ("62", "81"), (16, 17, 18, 19)),
    ("mastercard", tuple(str(p) for p in range(51, 56))
     + tuple(str(p) for p in range(2221, 2721)), (16,)),
    ("visa", ("4",), (13, 16, 19)),
)

INVALID_NUMBER_MESSAGE = "That card number is not valid. Please check the digits and try again."


def normalise(number: str) -> str:
    """The digits of a typed number, with spaces and dashes removed."""
    return "".join(ch for ch in number if ch not in " -")


def last4(number: str) -> str:
    digits = normalise(number)
    return digits[-4:] if len(digits) >= 4 else ""


def luhn_ok(digits: str) -> bool:
    """True when the digits pass the Luhn (mod 10) check."""
    if not digits.isdigit():
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def brand_of(number: str) -> str:
    """Stripe's brand name for a number (visa, mastercard, amex, ...), or "unknown"."""
    digits = normalise(number)
    for brand, prefixes, lengths in _BRANDS:
        if digits.startswith(prefixes) and len(digits) in lengths:
            return brand
    return "unknown"


def check_number(number: str) -> str:
    """The normalised digits, or CardNumberInvalid for a bad length, characters or Luhn."""
    digits = normalise(number)
    if (digits.isdigit() and 12 <= len(digits) <= 19 and luhn_ok(digits)
            and brand_of(digits) != "unknown"):
        return digits
    del number, digits  # the error's traceback must not show them among this frame's locals
    raise CardNumberInvalid(INVALID_NUMBER_MESSAGE, code="incorrect_number", param="number")


def payment_method_for_test_card(number: str) -> str | None:
    """Stripe's test PaymentMethod for a published test number, or None."""
    return TEST_CARD_PAYMENT_METHODS.get(normalise(number))
