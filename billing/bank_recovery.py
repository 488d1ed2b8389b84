"""Reconciliation of bank checkouts interrupted before their debits were all sent or
answered (the process stopped, or Stripe could not be reached). A bank checkout is held
by the lease of the process running it (billing.lease); once that owner is gone:

- no bank account at Stripe yet (payment_method_id unset): the account number was never
  kept, so nothing can be sent; every debit not sent is released, its invoice payable;
- a debit sent without a stored answer is read back from Stripe and applied; one found
  nowhere is sent again under its key only while Stripe keeps the key (billing.replay);
- debits not yet sent go out under the authorization's mandate, recorded from the first
  debit's charge.

A debit that is processing, or waiting for the account's verification, is Stripe's to
settle or fail by its events (billing.bank_settlement): reconciliation leaves it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from peewee import ModelSelect

from billing import lease
from billing.bank_checkout import resume_bank_checkout
from billing.bank_settlement import release_unsent
from billing.bank_values import NeedsVerification
from billing.ledger import FINAL_CHECKOUT
from models.db import write_transaction
from models.firm import utcnow
from models.payments import Checkout, InvoicePayment
from models.queries import status_literally_in

INTERRUPTED = "The bank payment was interrupted before the bank account was set up. " \
              "Nothing was debited."


def unfinished_bank_checkouts(cutoff: dt.datetime | None) -> ModelSelect:
    """The bank checkouts not final (untouched since `cutoff`, if given), by id."""
    query = Checkout.select(Checkout.id, Checkout.terminal, Checkout.lease_owner,
                            Checkout.lease_until).where(
        status_literally_in(Checkout.status, FINAL_CHECKOUT, negate=True)
        & (Checkout.method == "bank_debit"))
    if cutoff is not None:
        query = query.where(Checkout.updated_at <= cutoff)
    return query.order_by(Checkout.id)


def left_to_reconcile(checkout_id: int) -> int:
    """How many debits may need reconciliation: not sent, or sent and not known to be
    processing (no answer, or an answer not applied, or waiting for verification)."""
    return InvoicePayment.select().where(
        (InvoicePayment.checkout == checkout_id)
        & InvoicePayment.status.in_(("pending", "authorizing"))).count()


def _unanswered(checkout_id: int) -> int:
    return InvoicePayment.select().where(
        (InvoicePayment.checkout == checkout_id)
        & ((InvoicePayment.status == "pending")
           | ((InvoicePayment.status == "authorizing")
              & InvoicePayment.stripe_payment_intent_id.is_null()))).count()


def settle_bank_checkout(gateway, checkout_id: int, *, terminal: str,
                         clock: Callable[[], dt.datetime] = utcnow) -> bool | None:
    """Drive one interrupted bank checkout as far as reconciliation can. True: nothing is
    left for it (final, or every debit with Stripe); False: something is still unknown
    (Stripe unreachable); None: its owner is still running it, left alone."""
    checkout = Checkout.get_by_id(checkout_id)
    if checkout.status in FINAL_CHECKOUT:
        return True
    if not lease.take_over(checkout_id, clock()):
        return None
    try:
        if not checkout.payment_method_id:
            with write_transaction():
                release_unsent(checkout_id, INTERRUPTED, terminal=terminal)
        elif isinstance(resume_bank_checkout(gateway, checkout_id, now=clock()),
                        NeedsVerification):
            return True  # waiting for the payer's microdeposit code, or Stripe's event
    finally:
        lease.release(checkout_id, lease.this_process())
    return _unanswered(checkout_id) == 0
