"""Errors billing raises: each carries a message the payer or staff member can act on,
and none leaves a change behind."""

from __future__ import annotations


class BillingError(Exception):
    """A rule was broken; nothing was changed."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotAllowed(BillingError):
    """The payer or staff member may not do this."""


class PaymentsDisabled(BillingError):
    """The firm has online payments (or multi-invoice payments) switched off."""


class AmountRejected(BillingError):
    """An amount for one invoice is not acceptable."""

    def __init__(self, invoice_number: str, message: str) -> None:
        super().__init__(f"{invoice_number}: {message}")
        self.invoice_number = invoice_number
        self.reason = message


class SignInFailed(BillingError):
    """Wrong email/password, name/PIN, or payment code."""


class StaffLocked(SignInFailed):
    """Too many wrong PINs: the staff member is locked until `until`."""

    def __init__(self, message: str, until) -> None:
        super().__init__(message)
        self.until = until


class StripeUnavailable(BillingError):
    """Stripe could not be asked (no answer, or it refused the API key) for something read
    before any payment or refund was sent: nothing was charged and nothing changed."""
