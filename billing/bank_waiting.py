"""Bank checkouts waiting for their account's microdeposit code (models.BankVerification,
migration 0012): recorded when Stripe asks for the code, listed for the payer's later visit
(their own session, the kiosk, or the front desk opening the client), and closed when the
code is right, the tries run out, or Stripe gives up after 10 days.

Stripe keeps a microdeposit open for 10 days, then fails the waiting debit
(`payment_method_microdeposit_verification_timeout`); each wrong code uses one of the
tries Stripe allows, and Stripe's refusal says how many are left.
"""

from __future__ import annotations

import datetime as dt
import re

import peewee as pw

from models.bank_debits import BankVerification
from models.firm import utcnow
from models.payments import Checkout

VERIFY_WITHIN = dt.timedelta(days=10)
TIMEOUT = "payment_method_microdeposit_verification_timeout"
EXCEEDED = "payment_method_microdeposit_verification_attempts_exceeded"
MISMATCH = ("payment_method_microdeposit_verification_descriptor_code_mismatch",
            "payment_method_microdeposit_verification_amounts_mismatch")
# Stripe's words ("You have 9 verification attempts remaining"), or the gateway's.
_LEFT = re.compile(r"(\d+)\s+verification attempts? remaining|attempts left:\s*(\d+)",
                   re.IGNORECASE)


# Which deposit Stripe sent (next_action.verify_with_microdeposits.microdeposit_type): one
# with a code on its statement line, or two small amounts.
DESCRIPTOR_CODE = "descriptor_code"
AMOUNTS = "amounts"
RELEASED = {
    EXCEEDED: "The bank account could not be verified: nothing was debited.",
    TIMEOUT: "The bank account was not verified within 10 days: nothing was debited, and "
             "the invoices can be paid again.",
}


def record_waiting(checkout_id: int, payment_intent_id: str, *, asked_at: int = 0,
                   microdeposit_type: str | None = None) -> None:
    """The checkout's debit `payment_intent_id` waits for the microdeposit code: kept
    (once; a retry or a resume after a crash finds the row there). `asked_at`: when Stripe
    asked (the PaymentIntent's `created`, Unix seconds: the debit is created and confirmed
    in one request, and Stripe's 10 days run from then); 0 when unknown (now)."""
    if BankVerification.select().where(BankVerification.checkout == checkout_id).exists():
        return
    checkout = Checkout.get_by_id(checkout_id)
    now = utcnow()
    asked = (dt.datetime.fromtimestamp(asked_at, dt.UTC).replace(tzinfo=None)
             if asked_at > 0 else now)
    kind = microdeposit_type if microdeposit_type in (DESCRIPTOR_CODE, AMOUNTS) \
        else DESCRIPTOR_CODE
    try:
        BankVerification.create(checkout=checkout_id, client=checkout.client_id,
                                stripe_payment_intent_id=payment_intent_id,
                                microdeposit_type=kind, requested_at=asked,
                                expires_at=asked + VERIFY_WITHIN, updated_at=now)
    except pw.IntegrityError:
        pass  # another process recorded it first


def waited_on(checkout_id: int, payment_intent_id: str | None, code: str | None = None,
              status: str | None = None) -> bool:
    """True when a refused debit is the one the account's verification held: its
    PaymentIntent is the kept one, or Stripe says the verification ran out (timeout, too
    many tries) or the debit was canceled. The checkout's other debits waited on it."""
    if code in (TIMEOUT, EXCEEDED) or status == "canceled":
        return True
    kept = verification_of(checkout_id)
    return kept is not None and payment_intent_id is not None \
        and kept.stripe_payment_intent_id == payment_intent_id


def close_verified(checkout_id: int, payment_intent_id: str | None) -> bool:
    """The waiting debit was found processing or paid (its code typed here, or outside
    Paydesk, e.g. on Stripe's own page): its wait is over."""
    if payment_intent_id is None:
        return False
    return bool(BankVerification.update(status="verified", updated_at=utcnow()).where(
        (BankVerification.checkout == checkout_id)
        & (BankVerification.stripe_payment_intent_id == payment_intent_id)
        & (BankVerification.status == "waiting")).execute())


def verification_of(checkout_id: int) -> BankVerification | None:
    return BankVerification.get_or_none(BankVerification.checkout == checkout_id)


def close_verification(checkout_id: int, status: str) -> bool:
    """The wait ends: verified, failed or expired (only a waiting row changes)."""
    return bool(BankVerification.update(status=status, updated_at=utcnow()).where(
        (BankVerification.checkout == checkout_id)
        & (BankVerification.status == "waiting")).execute())


def status_after_failure(code: str | None) -> str:
    return "expired" if code == TIMEOUT else "failed"


def attempts_left_in(message: str | None) -> int | None:
    """The tries left, as Stripe's refusal of a wrong code says them (None: not said)."""
    found = _LEFT.search(message or "")
    return int(found.group(1) or found.group(2)) if found else None


def note_wrong_code(checkout_id: int, message: str | None) -> int | None:
    """A wrong code: keep how many tries Stripe says are left; that number."""
    left = attempts_left_in(message)
    if left is not None:
        BankVerification.update(attempts_left=left, updated_at=utcnow()).where(
            (BankVerification.checkout == checkout_id)
            & (BankVerification.status == "waiting")).execute()
    return left


def wrong_code_words(given: str, left: int | None) -> str:
    """What the payer is told after a wrong code or wrong amounts (nothing changed)."""
    what = "Those amounts do" if given == "amounts" else "That code does"
    head = (f"{what} not match the deposit on the bank statement. Nothing was "
            "changed")
    if left is None:
        return head + "; check it and try again."
    if left == 1:
        return head + ". One try is left: after a wrong one, the debits are cancelled."
    return head + f". {left} tries are left."
