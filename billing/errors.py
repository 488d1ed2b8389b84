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


class BalancesChanged(AmountRejected):
    """Balances changed since the payer chose the amounts: `changes` names every invoice
    whose balance no longer covers its amount (paid, or being paid, elsewhere). Nothing was
    reserved; the payer sees the new balances and may go on with the rest."""

    def __init__(self, changes: tuple, reasons: tuple[str, ...]) -> None:
        first = changes[0]
        super().__init__(first.invoice_number, reasons[0])
        if len(changes) > 1:
            self.message = "; ".join(f"{c.invoice_number}: {r}"
                                     for c, r in zip(changes, reasons, strict=True))
            self.args = (self.message,)
        self.changes = changes


class SignInFailed(BillingError):
    """Wrong email/password, name/PIN, or payment code. `attempts_left`: the wrong tries
    left before sign-in locks (None when not counted); the message already says it."""

    def __init__(self, message: str, attempts_left: int | None = None) -> None:
        super().__init__(message)
        self.attempts_left = attempts_left


class SignInLocked(SignInFailed):
    """Too many wrong tries: sign-in is locked until `until` (nothing was checked)."""

    def __init__(self, message: str, until) -> None:
        super().__init__(message)
        self.until = until


class StaffLocked(SignInLocked):
    """Too many wrong PINs: the staff member is locked until `until`."""


class StripeUnavailable(BillingError):
    """Stripe could not be asked (no answer, or it refused the API key) for something read
    before any payment or refund was sent: nothing was charged and nothing changed."""
