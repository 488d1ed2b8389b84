"""The gateway's own errors: few, plain, and each one something a caller can act on.

Stripe's exception classes stop here; billing and the UI see only these. Every error has a
`message` written for the person at the terminal (never a card number, key or secret).
"""

from __future__ import annotations


class GatewayError(Exception):
    """Base of every gateway error; `message` is the client-facing text."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class CardDeclined(GatewayError):
    """The card was declined: Stripe's `code` and `decline_code`, and the PaymentIntent if any."""

    def __init__(
        self,
        message: str,
        *,
        code: str | None = None,
        decline_code: str | None = None,
        payment_intent_id: str | None = None,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.decline_code = decline_code
        self.payment_intent_id = payment_intent_id


class ActionRequired(GatewayError):
    """The card needs a step the terminal cannot take (3-D Secure); cancel the intent."""

    def __init__(self, message: str, *, payment_intent_id: str | None = None) -> None:
        super().__init__(message)
        self.payment_intent_id = payment_intent_id


class InvalidRequest(GatewayError):
    """Stripe (or the gateway before calling it) refused the request as given."""

    def __init__(self, message: str, *, code: str | None = None, param: str | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.param = param


class KeyedEntryRefused(InvalidRequest):
    """Keyed card entry in live mode without the account's raw-card-data access."""


class CardNumberInvalid(InvalidRequest):
    """The typed card number fails the Luhn check or has an impossible length."""


class OutcomeUnknown(GatewayError):
    """Stripe may or may not have done it (timeout, connection lost, 5xx, 409, 429).

    The caller keeps the stored idempotency key and settles the outcome later
    (reconciliation); it must never treat this as failed or as declined.
    """


class ReaderTimeout(GatewayError):
    """No card was presented to the reader in time; nothing was saved or charged."""


class GatewayMisconfigured(GatewayError):
    """Stripe refused the API key or its permissions: a setup problem, not the client's."""
