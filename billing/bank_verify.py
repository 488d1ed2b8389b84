"""The payer's reading of a microdeposit, in the sitting where Stripe asked for it or on a
later visit (billing.bank_waiting keeps the wait): right, the waiting debit goes to the bank
and the checkout's other debits follow under its mandate; wrong, the payer is told how many
tries Stripe leaves and nothing changes; out of tries, or past Stripe's 10 days, the waiting
debit fails and the others are released (nothing debited, the invoices payable again).

It runs under the checkout's lease (billing.lease), as the first sitting and reconciliation
do: while another live process drives the checkout the code is refused (nothing changed),
so that two runs never send the same debits at once. A refused verification is saved in one
transaction with the debits it releases (billing.bank_settlement.fail_and_release). Only the
client signed in or staff signed in may answer; a payment code may not.

Every request's idempotency key is stored before it is sent.
"""

from __future__ import annotations

from billing import lease
from billing.bank_checkout import UNREACHABLE, _after_sent, _drive, result_of
from billing.bank_settlement import fail_and_release, reason_in_words
from billing.bank_values import BankCheckoutResult, NeedsVerification
from billing.bank_waiting import (
    AMOUNTS,
    MISMATCH,
    RELEASED,
    note_wrong_code,
    verification_of,
    wrong_code_words,
)
from billing.errors import BillingError, NotAllowed
from billing.keys import new_key
from billing.staff import require_staff
from billing.values import Payer
from gateway import errors as gw
from models.bank_debits import BankAuthorization
from models.db import write_transaction
from models.firm import utcnow
from models.invoices import Invoice
from models.payments import Checkout, InvoicePayment

__all__ = ["check_payer", "verify_bank_account"]

ENDED = {
    "verified": "This bank account is verified already: its debits have started.",
    "failed": "This bank account could not be verified, so nothing was debited. The "
              "invoices can be paid again, with another account or a card.",
    "expired": "The code was not entered within 10 days, so the bank debits were cancelled "
               "and nothing was debited. The invoices can be paid again.",
}
# Answered the other way than the deposit Stripe sent: not sent to Stripe, no try used.
OTHER_KIND = {
    "descriptor_code": "This account was sent one small deposit with a code: type the "
                       "6-character code from its line on the bank statement (it starts "
                       "with SM). Nothing was changed.",
    AMOUNTS: "This account was sent two small deposits: type their two amounts (for "
             "example 0.32 0.45). Nothing was changed.",
}
BUSY = ("This bank payment is being worked on by another terminal just now. Nothing was "
        "changed: try the code again in a minute.")


def check_payer(payer: Payer) -> None:
    """Bank debits are a client's own (signed in) or the front desk's (staff signed in);
    a payment code opens one invoice, to be paid by card."""
    if payer.kind == "code":
        raise NotAllowed("A payment link is paid by card; bank debits need a client "
                         "sign-in or the front desk.")
    if payer.kind == "staff":
        require_staff(payer.staff)
    elif payer.kind != "client":
        raise NotAllowed("There is no such bank payment.")


def verify_bank_account(gateway, payer: Payer, checkout_id: int, *,
                        descriptor_code: str | None = None,
                        amounts: tuple[int, int] | None = None
                        ) -> BankCheckoutResult | NeedsVerification:
    """Right: the waiting debit goes to processing and the others are started under its
    mandate (BankCheckoutResult). Wrong: NeedsVerification saying so and how many tries
    are left (nothing changed). Out of tries or too late: that debit fails and the others
    are released, nothing debited (BankCheckoutResult). BillingError when the checkout no
    longer waits (verified, failed or expired: the message says which), or while another
    process drives it (its lease: billing.lease)."""
    check_payer(payer)
    checkout = Checkout.get_or_none(Checkout.id == checkout_id)
    if checkout is None or checkout.client_id != payer.client_id \
            or checkout.method != "bank_debit":
        raise NotAllowed("There is no such bank payment.")
    try:
        with lease.held(checkout_id, exclusive=True):
            return _verify(gateway, checkout, descriptor_code, amounts)
    except lease.LeaseHeld:
        raise BillingError(BUSY) from None


def _verify(gateway, checkout: Checkout, descriptor_code: str | None,
            amounts: tuple[int, int] | None) -> BankCheckoutResult | NeedsVerification:
    checkout_id = checkout.id
    kept = verification_of(checkout_id)
    if kept is not None and kept.status != "waiting":
        raise BillingError(ENDED[kept.status])
    kind = kept.microdeposit_type if kept is not None else "descriptor_code"
    if (amounts is not None) != (kind == AMOUNTS):
        return NeedsVerification(checkout_id, OTHER_KIND[kind], microdeposit_type=kind)
    waiting = (InvoicePayment.select(InvoicePayment, Invoice).join(Invoice)
               .where((InvoicePayment.checkout == checkout_id)
                      & (InvoicePayment.status == "authorizing")
                      & InvoicePayment.stripe_payment_intent_id.is_null(False))
               .order_by(InvoicePayment.position, InvoicePayment.id).first())
    if waiting is None:
        raise BillingError("This bank payment is not waiting for verification.")
    key = new_key("verify")
    InvoicePayment.update(capture_key=key).where(InvoicePayment.id == waiting.id).execute()
    try:
        pi = gateway.verify_microdeposits(waiting.stripe_payment_intent_id,
                                          descriptor_code=descriptor_code, amounts=amounts,
                                          idempotency_key=key)
    except gw.GatewayError as exc:
        # An earlier try may have verified it, its answer lost: the debit says what is true.
        pi = _read_back(gateway, waiting.stripe_payment_intent_id)
        if pi is None or pi.status == "requires_action":
            code = getattr(exc, "code", None)
            if code in MISMATCH:
                left = note_wrong_code(checkout_id, exc.message)
                return NeedsVerification(checkout_id, wrong_code_words(
                    "amounts" if amounts is not None else "code", left),
                    microdeposit_type=kind)
            if code not in RELEASED:
                return NeedsVerification(checkout_id, UNREACHABLE
                                         if isinstance(exc, gw.OutcomeUnknown) else exc.message,
                                         microdeposit_type=kind)
            with write_transaction():  # one transaction: the debit and those waiting on it
                fail_and_release(waiting, code, reason_in_words(code, exc.message),
                                 terminal=checkout.terminal,
                                 actor=f"checkout:{checkout_id}",
                                 details=f"checkout:{checkout_id} invoice_payment:"
                                         f"{waiting.id} not started")
            return result_of(checkout_id)
    authorization = BankAuthorization.get(BankAuthorization.checkout == checkout_id)
    if _after_sent(waiting, pi, authorization, checkout):
        return result_of(checkout_id)  # refused: it and the debits waiting on it released
    return _drive(gateway, checkout_id, utcnow())


def _read_back(gateway, payment_intent_id: str):
    try:
        return gateway.bank_debit(payment_intent_id)
    except gw.GatewayError:
        return None

