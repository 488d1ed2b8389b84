"""What each Stripe test PaymentMethod does in test mode (https://docs.stripe.com/testing)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from gateway.cards import TEST_CARD_PAYMENT_METHODS, brand_of, last4


@dataclass(frozen=True)
class Decline:
    code: str
    decline_code: str
    message: str
    param: str | None = None


@dataclass(frozen=True)
class TestCard:
    brand: str
    last4: str
    funding: str = "credit"
    country: str = "US"
    decline: Decline | None = None
    # A decline on attach too (Stripe validates a card when it is attached to a customer);
    # pm_card_chargeCustomerFail is the one that attaches and then fails to charge.
    decline_on_attach: bool = True
    authentication_required: bool = False
    # Disputed once captured: the dispute's reason, or "inquiry" (docs.stripe.com/testing).
    dispute: str | None = None
    exp_month: int = 12
    exp_year: int = 2034

    __test__ = False  # not a pytest test class


GENERIC = Decline("card_declined", "generic_decline", "Your card was declined.")

CATALOGUE: dict[str, TestCard] = {
    "pm_card_visa": TestCard("visa", "4242"),
    "pm_card_visa_debit": TestCard("visa", "5556", funding="debit"),
    "pm_card_mastercard": TestCard("mastercard", "4444"),
    "pm_card_mastercard_debit": TestCard("mastercard", "8210", funding="debit"),
    "pm_card_mastercard_prepaid": TestCard("mastercard", "5100", funding="prepaid"),
    "pm_card_amex": TestCard("amex", "8431"),
    "pm_card_discover": TestCard("discover", "1117"),
    "pm_card_diners": TestCard("diners", "0004"),
    "pm_card_jcb": TestCard("jcb", "0505", country="JP"),
    "pm_card_unionpay": TestCard("unionpay", "0005", country="CN"),
    "pm_card_visa_chargeDeclined": TestCard("visa", "0002", decline=GENERIC),
    "pm_card_visa_chargeDeclinedInsufficientFunds": TestCard("visa", "9995", decline=Decline(
        "card_declined", "insufficient_funds", "Your card has insufficient funds.")),
    "pm_card_visa_chargeDeclinedLostCard": TestCard("visa", "9987", decline=Decline(
        "card_declined", "lost_card", "Your card was declined.")),
    "pm_card_visa_chargeDeclinedStolenCard": TestCard("visa", "9979", decline=Decline(
        "card_declined", "stolen_card", "Your card was declined.")),
    "pm_card_visa_chargeDeclinedVelocityLimitExceeded": TestCard("visa", "6975", decline=Decline(
        "card_declined", "card_velocity_exceeded",
        "Your card was declined for making repeated attempts too frequently or exceeding "
        "its amount limit.")),
    "pm_card_chargeDeclinedExpiredCard": TestCard("visa", "0069", decline=Decline(
        "expired_card", "expired_card", "Your card has expired.", param="exp_month")),
    "pm_card_chargeDeclinedIncorrectCvc": TestCard("visa", "0127", decline=Decline(
        "incorrect_cvc", "incorrect_cvc", "Your card's security code is incorrect.",
        param="cvc")),
    "pm_card_chargeDeclinedProcessingError": TestCard("visa", "0119", decline=Decline(
        "processing_error", "processing_error",
        "An error occurred while processing your card. Try again in a little bit.")),
    "pm_card_radarBlock": TestCard("visa", "0019", decline=Decline(
        "card_declined", "fraudulent", "Your card was declined.")),
    "pm_card_chargeCustomerFail": TestCard("visa", "0341", decline=GENERIC,
                                           decline_on_attach=False),
    "pm_card_authenticationRequired": TestCard("visa", "3184", authentication_required=True),
    "pm_card_authenticationRequiredOnSetup": TestCard("visa", "3155",
                                                      authentication_required=True),
    "pm_card_threeDSecure2Required": TestCard("visa", "3220", authentication_required=True),
    "pm_card_createDispute": TestCard("visa", "0259", dispute="fraudulent"),
    "pm_card_createDisputeProductNotReceived": TestCard("visa", "2685",
                                                        dispute="product_not_received"),
    "pm_card_createDisputeInquiry": TestCard("visa", "1976", dispute="inquiry"),
}
# Stripe's dispute test numbers, which the shared list of keyed test numbers
# (gateway.cards.TEST_CARD_PAYMENT_METHODS) does not carry.
DISPUTE_NUMBERS = {"4000000000000259": "pm_card_createDispute",
                   "4000000000002685": "pm_card_createDisputeProductNotReceived",
                   "4000000000001976": "pm_card_createDisputeInquiry"}


def test_card(payment_method_id: str) -> TestCard | None:
    """The behaviour of a `pm_card_*` id, accepting both `pm_card_visa_x` and `pm_card_x`."""
    if payment_method_id in CATALOGUE:
        return CATALOGUE[payment_method_id]
    if payment_method_id.startswith("pm_card_visa_"):
        return CATALOGUE.get("pm_card_" + payment_method_id.removeprefix("pm_card_visa_"))
    if payment_method_id.startswith("pm_card_"):
        return CATALOGUE.get("pm_card_visa_" + payment_method_id.removeprefix("pm_card_"))
    return None


test_card.__test__ = False  # type: ignore[attr-defined]


def card_for_number(number: str) -> TestCard | None:
    """The behaviour of a published test card number, with that number's brand and last 4."""
    pm = TEST_CARD_PAYMENT_METHODS.get(number) or DISPUTE_NUMBERS.get(number)
    card = CATALOGUE.get(pm) if pm else None
    if card is None:
        return None
    return replace(card, brand=brand_of(number), last4=last4(number))
