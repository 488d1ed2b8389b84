"""Stripe's exceptions turned into the gateway's few errors, with words a client understands."""

from __future__ import annotations

import re

import stripe

from gateway.errors import (
    ActionRequired,
    CardDeclined,
    GatewayError,
    GatewayMisconfigured,
    InvalidRequest,
    OutcomeUnknown,
)

DECLINE_MESSAGES = {
    "insufficient_funds": "The card was declined: the account does not have enough funds.",
    "expired_card": "The card has expired. Please use another card.",
    "incorrect_cvc": "The card's security code (CVC) is incorrect.",
    "invalid_cvc": "The card's security code (CVC) is not valid.",
    "incorrect_number": "That card number is not valid. Please check the digits.",
    "processing_error": "The card could not be processed. Please try again in a moment.",
    "card_velocity_exceeded": "The card was declined: its spending limit has been reached.",
    "test_mode_live_card": "Only Stripe's test cards work in test mode.",
    "invalid_expiry_month": "The card's expiry month is not valid.",
    "invalid_expiry_year": "The card's expiry year is not valid.",
}
# Lost, stolen, fraudulent and the rest: the payer sees a plain decline (as Stripe advises).
GENERIC_DECLINE = "The card was declined. Please use another card or call the card's issuer."
AUTHENTICATION = ("This card needs the cardholder to approve the payment with their bank "
                  "(3-D Secure), which this terminal cannot do. Please use another card.")
# What a payer at the desk is told when Stripe refuses a bank account or its verification.
BANK_MESSAGES = {
    "routing_number_invalid": "That routing number is not valid. Please check the 9 digits.",
    "account_number_invalid": "That account number is not valid. Please check the digits.",
    "payment_method_microdeposit_verification_amounts_mismatch":
        "Those amounts do not match the deposits sent to the account. Please check the "
        "bank statement and try again.",
    "payment_method_microdeposit_verification_descriptor_code_mismatch":
        "That code does not match the deposit sent to the account. It starts with SM and "
        "is on the bank statement.",
    "payment_method_microdeposit_verification_attempts_exceeded":
        "Too many wrong attempts: this bank account cannot be verified. Please enter the "
        "account again or pay another way.",
    "payment_method_microdeposit_verification_timeout":
        "The deposits were not verified in time. Please enter the account again.",
}
_ATTEMPTS_LEFT = re.compile(r"You have (\d+) verification attempts? remaining")
UNKNOWN = ("We could not get an answer from the card processor. Nothing is shown as paid or "
           "declined until Paydesk has checked with Stripe.")


def decline_message(code: str | None, decline_code: str | None) -> str:
    """The client-facing words for a decline."""
    return (DECLINE_MESSAGES.get(decline_code or "") or DECLINE_MESSAGES.get(code or "")
            or GENERIC_DECLINE)


def translate(exc: stripe.StripeError) -> GatewayError:
    """The gateway error for a Stripe exception (raise it `from exc`)."""
    if isinstance(exc, stripe.CardError):
        error = exc.error
        pi = getattr(error, "payment_intent", None) if error is not None else None
        pi_id = getattr(pi, "id", None) if pi is not None else None
        decline_code = getattr(error, "decline_code", None) if error is not None else None
        if "authentication_required" in (exc.code, decline_code):
            return ActionRequired(AUTHENTICATION, payment_intent_id=pi_id)
        return CardDeclined(decline_message(exc.code, decline_code), code=exc.code,
                            decline_code=decline_code, payment_intent_id=pi_id)
    if isinstance(exc, stripe.RateLimitError):
        return OutcomeUnknown(UNKNOWN)
    if isinstance(exc, stripe.IdempotencyError) and (
            exc.http_status == 409 or exc.code == "idempotency_key_in_use"):
        # Another request under the same key is still running (409): it may be making the
        # payment right now, so its outcome is unknown, never a refusal.
        return OutcomeUnknown(UNKNOWN)
    if isinstance(exc, stripe.IdempotencyError):
        # Same key, other parameters: a bug in the caller, never a payment outcome.
        return InvalidRequest(exc.user_message or str(exc), code="idempotency_error")
    if isinstance(exc, stripe.InvalidRequestError) and exc.code in BANK_MESSAGES:
        left = _ATTEMPTS_LEFT.search(exc.user_message or "")
        more = f" Attempts left: {left.group(1)}." if left else ""
        return InvalidRequest(BANK_MESSAGES[exc.code] + more, code=exc.code, param=exc.param)
    if isinstance(exc, stripe.InvalidRequestError):
        return InvalidRequest(exc.user_message or str(exc), code=exc.code, param=exc.param)
    if isinstance(exc, stripe.AuthenticationError | stripe.PermissionError):
        return GatewayMisconfigured(
            "Stripe refused Paydesk's API key. Ask the firm's administrator to check the "
            "Stripe settings.")
    # Timeouts, lost connections, 5xx after retries, 409 key in use: the outcome is unknown.
    return OutcomeUnknown(UNKNOWN)
