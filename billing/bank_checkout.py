"""Bank debits (ACH) over several invoices: one debit per invoice, not all-or-nothing
(DESIGN.md section 8).

A debit cannot be held and captured later, settles days after it is sent and can fail
after it looked fine, so each debit goes its own way: once sent it is "processing", its
amount held against the invoice (billing.reservations) but not paid, until Stripe's event
settles or fails it (billing.bank_settlement). A debit that cannot be started does not undo
the others; the result says which.

Order of work: reserve the invoices and record the authorization (billing.bank_reserve),
then the client's Stripe customer, the bank account as a PaymentMethod, and the first
debit with the payer's acceptance (online for WEB, offline for TEL). An account typed in is
verified by microdeposits: the first debit then waits (NeedsVerification, the invoices
stay held, billing.bank_waiting keeps the wait) until the payer types the code, now or
on a later visit (billing.bank_verify); the other debits go under the mandate it made.
Every request's idempotency key is stored before it is sent.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping

from billing import lease
from billing.audit import audit
from billing.bank_authorization import authorization_text, record_mandate
from billing.bank_reserve import digits_of, reserve_bank_checkout
from billing.bank_settlement import (
    close_if_settled,
    fail_and_release,
    fail_debit,
    reason_in_words,
    release_unsent,
    settle_debit,
)
from billing.bank_values import (
    TEL,
    WEB,
    AuthorizationContext,
    BankAccountEntry,
    BankCheckoutResult,
    BankDebitLine,
    NeedsVerification,
)
from billing.bank_waiting import AMOUNTS, close_verified, record_waiting, waited_on
from billing.checkout import CheckoutRun
from billing.crash_points import crash_point
from billing.errors import NotAllowed
from billing.ledger import descriptor_suffix
from billing.receipts import lock_receipt_numbers
from billing.replay import may_replay
from billing.stripe_requests import authorization_metadata
from billing.values import Payer
from gateway import errors as gw
from gateway.values import ExistingMandate, OfflineAcceptance, OnlineAcceptance
from models.bank_debits import BankAuthorization, BankMandate
from models.db import write_transaction
from models.firm import utcnow
from models.invoices import Invoice
from models.money import Money
from models.payments import Checkout, InvoicePayment

__all__ = ["TEL", "WEB", "authorization_text", "result_of", "resume_bank_checkout",
           "start_bank_checkout", "waiting_for_code"]

VERIFY_MESSAGE = ("To protect your account, your bank will show a small deposit from Stripe "
                  "within 1-2 business days. Enter the 6-character code on it (it starts "
                  "with SM), or the two amounts if there are two deposits, to start the "
                  "debits.")
VERIFY_AMOUNTS = ("To protect your account, your bank will show two small deposits from "
                  "Stripe within 1-2 business days. Enter their two amounts (for example "
                  "0.32 and 0.45) to start the debits.")
NOT_MADE = ("Stripe has no record of this debit, and it is too old to be sent again "
            "safely: it was not made. Nothing was debited.")
UNREACHABLE = "We could not reach the payment processor; the debits will be tried again."
# Clocks disagree: PaymentIntents are looked for from this long before the checkout began.
CLOCK_MARGIN = dt.timedelta(hours=1)


def start_bank_checkout(gateway, payer: Payer, amounts: Mapping[int, Money],
                        entry: BankAccountEntry, context: AuthorizationContext, *,
                        today: dt.date) -> BankCheckoutResult | NeedsVerification:
    """Reserve, record the authorization, then start the debits: a BankCheckoutResult
    (debits processing, and any that could not start, with why), or NeedsVerification when
    the account must first be verified. BillingError (nothing changed) for a bad entry."""
    checkout_id = reserve_bank_checkout(payer, amounts, entry, context, today=today)
    # The lease taken at reserve is kept while this runs: reconciliation (billing.
    # bank_recovery) takes the checkout over only once this process is gone.
    with lease.held(checkout_id):
        crash_point("reserved")
        return _start(gateway, checkout_id, entry, context.terminal)


def _start(gateway, checkout_id: int, entry: BankAccountEntry,
           terminal: str) -> BankCheckoutResult | NeedsVerification:
    checkout = Checkout.get_by_id(checkout_id)
    try:
        # The client's one Stripe customer, claimed as a card payment claims it.
        customer_id = CheckoutRun(gateway, terminal=terminal)._customer(checkout)
        account = gateway.create_bank_account(
            routing=digits_of(entry.routing), account=digits_of(entry.account),
            holder_name=entry.holder_name, holder_type=entry.holder_type,
            account_type=entry.account_type, customer_id=customer_id,
            idempotency_key=checkout.payment_method_key)
    except gw.GatewayError as exc:
        message = UNREACHABLE if isinstance(exc, gw.OutcomeUnknown) else exc.message
        with write_transaction():
            release_unsent(checkout_id, f"Nothing was debited. {message}", terminal=terminal)
        return result_of(checkout_id)
    Checkout.update(stripe_customer_id=customer_id, payment_method_id=account.payment_method_id,
                    # The bank's name is kept where a card's brand is (column of 20
                    # characters); receipts and lists say "Bank •••• 6789".
                    card_brand=(account.bank_name or "Bank")[:20],
                    card_last4=account.last4[-4:] or entry.last4,
                    updated_at=utcnow()).where(Checkout.id == checkout_id).execute()
    return _drive(gateway, checkout_id, utcnow())


def resume_bank_checkout(gateway, checkout_id: int, *, now: dt.datetime | None = None
                         ) -> BankCheckoutResult | NeedsVerification:
    """Finish a bank checkout left unsent or unanswered (Stripe could not be reached, or
    the process stopped): see `_drive`. Reconciliation calls it (billing.bank_recovery)."""
    checkout = Checkout.get_or_none(Checkout.id == checkout_id)
    if checkout is None or checkout.method != "bank_debit":
        raise NotAllowed("There is no such bank payment.")
    if not checkout.payment_method_id:
        return result_of(checkout_id)
    return _drive(gateway, checkout_id, now or utcnow())


def _acceptance(authorization: BankAuthorization, mandate_id: str | None):
    if mandate_id:
        return ExistingMandate(mandate_id)
    if authorization.kind == WEB:
        # Refused at reserve without both (billing.bank_reserve): the mandate must carry
        # what the record says, never a stand-in.
        return OnlineAcceptance(authorization.ip_address, authorization.user_agent)
    return OfflineAcceptance()


def _mandate_of(authorization: BankAuthorization) -> str | None:
    row = (BankMandate.select().where(BankMandate.authorization == authorization.id)
           .order_by(BankMandate.id.desc()).first())
    return row.stripe_mandate_id if row else None


def _unix(moment: dt.datetime) -> int:
    return int(moment.replace(tzinfo=dt.UTC).timestamp())


def found_at_stripe(gateway, checkout: Checkout, p: InvoicePayment):
    """The debit Stripe made for this invoice payment, read in full, or None when it made
    none. Listed among the customer's PaymentIntents by the stored metadata (a list is
    consistent at once); raises a GatewayError when Stripe could not be read."""
    stored = authorization_metadata(checkout, p)
    wanted = {k: stored[k] for k in ("paydesk_checkout", "paydesk_invoice_payment")}
    since = _unix(checkout.created_at - CLOCK_MARGIN)
    if checkout.stripe_customer_id:
        listed = gateway.payment_intents_of_customer(
            checkout.stripe_customer_id, metadata=wanted, created_since=since)
    else:
        listed = gateway.find_payment_intents(
            metadata_key="paydesk_invoice_payment", metadata_value=wanted[
                "paydesk_invoice_payment"])
    same = [pi for pi in listed if pi.metadata.get("paydesk_request") == p.authorize_key
            and all(pi.metadata.get(k) == v for k, v in wanted.items())
            and pi.amount == p.amount_minor]
    return gateway.bank_debit(same[0].id) if same else None


def _open(checkout_id: int, *statuses: str) -> list[InvoicePayment]:
    return list(InvoicePayment.select(InvoicePayment, Invoice).join(Invoice)
                .where((InvoicePayment.checkout == checkout_id)
                       & InvoicePayment.status.in_(statuses))
                .order_by(InvoicePayment.position, InvoicePayment.id))


def _drive(gateway, checkout_id: int, now: dt.datetime
           ) -> BankCheckoutResult | NeedsVerification:
    """Bring every debit of the checkout as far as it can go, Stripe read back first:
    - sent, its id stored but not its answer: read back and applied (mandate, status);
    - sent, its answer lost: looked for at Stripe by its metadata and applied if found;
      if not, sent again with its stored key only while Stripe keeps the key
      (billing.replay), else it was never made and is released;
    - a debit waiting for the account's verification stops here (NeedsVerification);
    - then the debits not yet sent are sent, in order."""
    checkout = Checkout.get_by_id(checkout_id)
    authorization = BankAuthorization.get(BankAuthorization.checkout == checkout_id)
    replay: set[int] = set()
    for p in _open(checkout_id, "authorizing"):
        try:
            pi = (gateway.bank_debit(p.stripe_payment_intent_id)
                  if p.stripe_payment_intent_id else found_at_stripe(gateway, checkout, p))
        except gw.GatewayError:
            return result_of(checkout_id, message=UNREACHABLE)
        if pi is None:
            if may_replay(checkout.created_at, now):
                replay.add(p.id)
            else:
                _not_made(p, checkout.terminal)
            continue
        InvoicePayment.update(stripe_payment_intent_id=pi.id).where(
            (InvoicePayment.id == p.id) & InvoicePayment.stripe_payment_intent_id.is_null()
        ).execute()
        if pi.status == "requires_action":
            return waiting_for_code(checkout_id, pi)
        if _after_sent(p, pi, authorization, checkout):
            return result_of(checkout_id)  # the debit the others waited on failed
    return _start_debits(gateway, checkout_id, replay)


def waiting_for_code(checkout_id: int, pi) -> NeedsVerification:
    """The debit `pi` (a PaymentIntentInfo in requires_action) waits for the account's
    microdeposit code: kept for a later visit (billing.bank_waiting), with the deposit's
    type and Stripe's time, where `billing.bank_verify` takes the code."""
    record_waiting(checkout_id, pi.id, asked_at=pi.created,
                   microdeposit_type=pi.microdeposit_type)
    kind = pi.microdeposit_type or "descriptor_code"
    return NeedsVerification(checkout_id, VERIFY_AMOUNTS if kind == AMOUNTS else VERIFY_MESSAGE,
                             microdeposit_type=kind)


def _not_made(p: InvoicePayment, terminal: str) -> None:
    """A debit Stripe has no trace of, too old to send again under its key: not made."""
    with write_transaction():
        if InvoicePayment.update(status="cancelled", failure_message=NOT_MADE,
                                 completed_at=utcnow()).where(
                (InvoicePayment.id == p.id) & (InvoicePayment.status == "authorizing")
                & InvoicePayment.stripe_payment_intent_id.is_null()).execute():
            audit(actor=f"checkout:{p.checkout_id}", action="bank_debit.release",
                  subject=f"invoice:{p.invoice.number}", result="not_made", terminal=terminal,
                  details=f"checkout:{p.checkout_id} invoice_payment:{p.id} {NOT_MADE}")
        close_if_settled(p.checkout_id, terminal=terminal)


def _start_debits(gateway, checkout_id: int, replay: set[int] = frozenset()
                  ) -> BankCheckoutResult | NeedsVerification:
    """Send every debit not yet sent, in order, and those `replay` names again under their
    stored keys (read back and found nowhere, inside Stripe's key window); stops at one
    that waits for verification."""
    checkout = Checkout.get_by_id(checkout_id)
    authorization = BankAuthorization.get(BankAuthorization.checkout == checkout_id)
    payments = [p for p in _open(checkout_id, "pending", "authorizing")
                if p.status == "pending" or (p.id in replay and not p.stripe_payment_intent_id)]
    for p in payments:
        mandate = _mandate_of(authorization)
        claimed = InvoicePayment.update(status="authorizing").where(
            (InvoicePayment.id == p.id) & (InvoicePayment.status == "pending")).execute()
        if not claimed and p.status == "pending":
            # Another run (reconciliation, another terminal) took this debit since it was
            # read: it sends it; sending it here too would race it under the same key.
            continue
        try:
            pi = gateway.start_bank_debit(
                amount=p.amount_minor, currency=checkout.currency.lower(),
                customer=checkout.stripe_customer_id,
                payment_method_id=checkout.payment_method_id,
                metadata=authorization_metadata(checkout, p),
                acceptance=_acceptance(authorization, mandate),
                idempotency_key=p.authorize_key,
                description=f"Invoice {descriptor_suffix(p.invoice.number)}")
        except gw.OutcomeUnknown:
            # Sent or not: the key is stored, the hold stays; reconciliation reads Stripe
            # back and sends it again only while Stripe keeps the key (`_drive`).
            return result_of(checkout_id, message=UNREACHABLE)
        except gw.GatewayError as exc:
            _fail(p, getattr(exc, "code", None), exc.message, checkout.terminal)
            continue
        InvoicePayment.update(stripe_payment_intent_id=pi.id).where(
            (InvoicePayment.id == p.id) & InvoicePayment.stripe_payment_intent_id.is_null()
        ).execute()
        crash_point("authorize-returned")
        if pi.status == "requires_action":
            return waiting_for_code(checkout_id, pi)
        if _after_sent(p, pi, authorization, checkout):
            return result_of(checkout_id)
    return result_of(checkout_id)


def _after_sent(p: InvoicePayment, pi, authorization: BankAuthorization,
                checkout: Checkout) -> bool:
    """Apply Stripe's answer to a debit: processing (held until its event), succeeded
    (paid, as its event would record it), or refused (failed, the hold released). True
    when the refused debit is the one the account's verification held: then the debits
    waiting on it were released with it, in one transaction, and nothing more is sent."""
    terminal = checkout.terminal
    details = (f"checkout:{p.checkout_id} invoice_payment:{p.id} "
               f"amount_minor={p.amount_minor} payment_intent:{pi.id} "
               f"mandate:{pi.mandate or '-'}")
    if pi.status in ("processing", "succeeded"):
        with write_transaction():
            lock_receipt_numbers()  # before any row lock, as every numbering does
            if pi.mandate:
                record_mandate(authorization.id, pi.mandate, checkout.card_brand or "")
            Checkout.update(status="processing", updated_at=utcnow()).where(
                (Checkout.id == p.checkout_id) & (Checkout.status == "reserved")).execute()
            # Verified, here or outside Paydesk (Stripe's page): the wait is over.
            close_verified(p.checkout_id, pi.id)
            if pi.status == "succeeded":
                # Its payment_intent.succeeded event may have come first and been applied
                # (found by metadata): then this changes nothing.
                settle_debit(p, pi.id, pi.latest_charge, terminal=terminal,
                             actor=f"checkout:{p.checkout_id}", details=details)
            elif InvoicePayment.update(status="processing").where(
                    (InvoicePayment.id == p.id) & (InvoicePayment.status == "authorizing")
            ).execute():
                audit(actor=f"checkout:{p.checkout_id}", action="bank_debit.start",
                      subject=f"invoice:{p.invoice.number}", result="processing",
                      terminal=terminal, details=details)
        return False
    failure = pi.failure
    code = failure.code if failure else None
    reason = reason_in_words(code, failure.message if failure else "The bank refused the debit.")
    if waited_on(p.checkout_id, pi.id, code, pi.status):
        with write_transaction():
            fail_and_release(p, code, reason, terminal=terminal,
                             actor=f"checkout:{p.checkout_id}", details=details)
        return True
    _fail(p, code, reason, terminal)
    return False


def _fail(p: InvoicePayment, code: str | None, reason: str, terminal: str) -> None:
    with write_transaction():
        fail_debit(p, code, reason, terminal=terminal, actor=f"checkout:{p.checkout_id}",
                   details=f"checkout:{p.checkout_id} invoice_payment:{p.id} not started")


def _line_status(p: InvoicePayment) -> str:
    if p.status == "authorizing":
        # Sent, no answer yet (resume_bank_checkout replays it), or waiting for verification.
        return "waiting" if p.stripe_payment_intent_id else "unknown"
    return "failed" if p.status == "cancelled" else p.status


def result_of(checkout_id: int, *, message: str = "") -> BankCheckoutResult:
    """The bank checkout as the payer sees it, read from the database."""
    checkout = Checkout.get_by_id(checkout_id)
    rows = list(InvoicePayment.select(InvoicePayment, Invoice).join(Invoice)
                .where(InvoicePayment.checkout == checkout_id)
                .order_by(InvoicePayment.position, InvoicePayment.id))
    debits = tuple(BankDebitLine(
        invoice_payment_id=p.id, invoice_number=p.invoice.number,
        amount=Money(p.amount_minor, checkout.currency),
        status=_line_status(p), payment_intent_id=p.stripe_payment_intent_id,
        message=p.failure_message) for p in rows)
    return BankCheckoutResult(checkout_id, debits, message or _summary(debits, checkout))


def _summary(debits: tuple[BankDebitLine, ...], checkout: Checkout) -> str:
    started = [d for d in debits if d.status in ("processing", "captured")]
    failed = [d for d in debits if d.status == "failed"]
    parts = []
    if started:
        parts.append(f"{len(started)} bank debit{'s' if len(started) != 1 else ''} started "
                     f"from the account ending {checkout.card_last4}: each settles on its own "
                     "in a few business days, and one can fail while the others succeed.")
    for d in failed:
        parts.append(f"{d.invoice_number} was not debited: {d.message or 'it failed'}.")
    if failed and started:
        parts.append("The other debits were not undone.")
    if not parts:
        parts.append(checkout.failure_message or "Nothing was debited.")
    return " ".join(parts)
