"""The payment engine: reserve, authorize a few at a time, capture all or cancel all,
record (DESIGN.md section 4).

No database lock is held during a Stripe call. Every Stripe call carries an idempotency key
stored before the call, and every state change is stored as soon as it is known, so a crash
at any point leaves a checkout that `billing.reconcile` can drive to a final state.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass

from billing import lease, ledger, saved_cards
from billing.errors import (
    AmountRejected,
    BalancesChanged,
    BillingError,
    NotAllowed,
    PaymentsDisabled,
)
from billing.plurals import plural
from billing.reservations import balance_change, check_reservable, held_minor
from billing.values import BalanceChange, CardChoice, CheckoutResult, Payer, ProgressEvent
from gateway import errors as gw
from gateway.cards import brand_of
from gateway.values import NoReusableCard
from models.db import for_update, write_transaction
from models.firm import Client, utcnow
from models.invoices import Invoice
from models.money import Money
from models.payments import Checkout, InvoicePayment
from models.queries import payable_invoices

# Test hook for the crash-point tests: when PAYDESK_CRASH_AT names a step, the process
# exits (no clean-up, like a power cut) right after that step. Read once, at import.
CRASH_AT = os.environ.get("PAYDESK_CRASH_AT", "")
STEPS = ("reserved", "customer", "card", "authorizing", "authorize-returned", "authorized",
         "capturing", "capture-returned", "recorded", "cancelling", "cancel-returned")
AUTHORIZE_CONCURRENCY = 4
READER_TIMEOUT_SECONDS = 60.0
CARD_METHODS = {"keyed": "card_keyed", "saved": "card_saved", "reader": "card_reader"}


def crash_point(step: str) -> None:
    if CRASH_AT == step:
        os._exit(70)


def new_key(purpose: str) -> str:
    """A fresh idempotency key; stored before the call it keys."""
    return f"paydesk-{purpose}-{uuid.uuid4().hex}"


def reserve(payer: Payer, amounts: Mapping[int, Money], *, method: str, terminal: str,
            today) -> int:
    """Check every rule and write the checkout and its invoice payments as pending, with
    their idempotency keys, in one short write transaction. Returns the checkout id;
    raises a BillingError (and changes nothing) when a rule is broken."""
    if not amounts:
        raise BillingError("Choose at least one invoice to pay.")
    client = Client.get_or_none(Client.id == payer.client_id)
    if client is None:
        raise NotAllowed("There is no such client.")
    firm = client.firm
    card = method.startswith("card_")
    if card and not firm.online_payments_enabled:
        raise PaymentsDisabled(f"{firm.name} does not take online payments at the moment.")
    if card and len(amounts) > 1 and not firm.multi_invoice_payments_enabled:
        raise PaymentsDisabled("Pay one invoice at a time: paying several invoices at once "
                               "is switched off for this firm.")
    if payer.kind == "code":
        allowed = {payer.code_invoice_id}
    else:
        allowed = {i.invoice_id for i in payable_invoices(client.id, today=today)}
    ids = sorted(amounts)
    for invoice_id in ids:
        if invoice_id not in allowed:
            row = Invoice.get_or_none(Invoice.id == invoice_id)
            if row is None or row.client_id != client.id:
                raise NotAllowed("That invoice cannot be paid here.")
            if (payer.kind != "code" and row.status == "issued"
                    and row.paid_minor >= row.total_minor):
                continue  # paid meanwhile: reported below with every other balance change
            raise NotAllowed("That invoice cannot be paid here." if payer.kind == "code"
                             else f"{row.number} cannot be paid here.")
    with write_transaction():
        # Lock in id order, so two checkouts over the same invoices cannot deadlock.
        invoices = {
            i.id: i
            for i in for_update(Invoice.select().where(Invoice.id.in_(ids)).order_by(Invoice.id))
        }
        held = held_minor(ids)
        changes: list[BalanceChange] = []
        reasons: list[str] = []
        for invoice_id in ids:
            invoice = invoices[invoice_id]
            if invoice.status != "issued" or invoice.client_id != client.id:
                raise NotAllowed(f"{invoice.number} cannot be paid here.")
            try:
                check_reservable(invoice, amounts[invoice_id], held.get(invoice_id, 0),
                                 card=card, locale=firm.locale)
            except AmountRejected as exc:
                # A balance that changed since the payer chose (paid, or being paid,
                # elsewhere) is collected, so that every such invoice is named at once.
                change = balance_change(invoice, amounts[invoice_id], held.get(invoice_id, 0))
                if change is None:
                    raise
                changes.append(change)
                reasons.append("nothing is left to pay: it is paid"
                               if change.nothing_left and not change.in_progress.minor
                               else exc.reason)
        if changes:
            raise BalancesChanged(tuple(changes), tuple(reasons))
        checkout = Checkout.create(
            firm=firm, client=client, payer_kind=payer.kind,
            staff=payer.staff.staff_id if payer.staff else None, payer_email=payer.email,
            method=method, currency=firm.currency,
            total_minor=sum(amounts[i].minor for i in ids),
            customer_key=new_key("customer") if card else None,
            payment_method_key=new_key("card") if card else None,
            terminal=terminal, status="reserved" if card else "succeeded",
            # This process drives the payment: reconciliation leaves it alone (billing.lease).
            **(lease.claim(utcnow()) if card else {}),
        )
        for position, invoice_id in enumerate(ids):
            InvoicePayment.create(
                checkout=checkout, invoice=invoice_id, position=position,
                amount_minor=amounts[invoice_id].minor,
                authorize_key=new_key("authorize") if card else None,
                capture_key=new_key("capture") if card else None,
                cancel_key=new_key("cancel") if card else None,
            )
    return checkout.id


def balance_changes(payer: Payer, amounts: Mapping[int, Money]) -> tuple[BalanceChange, ...]:
    """Read only, the check `reserve` makes under its lock: the invoices among `amounts`
    (the payer's own) whose balance no longer covers the amount chosen for them."""
    ids = sorted(amounts)
    if payer.kind == "code":
        ids = [i for i in ids if i == payer.code_invoice_id]
    rows = {i.id: i for i in Invoice.select().where(
        Invoice.id.in_(ids) & (Invoice.client == payer.client_id)
        & (Invoice.status == "issued"))}
    held = held_minor(rows)
    changes = (balance_change(rows[i], amounts[i], held.get(i, 0)) for i in ids if i in rows)
    return tuple(c for c in changes if c is not None)


def authorization_metadata(checkout: Checkout, payment: InvoicePayment) -> dict[str, str]:
    """What Paydesk stores on the PaymentIntent of an invoice payment, and how
    reconciliation finds it again. `paydesk_request` (the request's idempotency key) tells
    this request apart from one of another database that reused the same row ids against
    the same Stripe account (a demo reset, a restored backup)."""
    return {"paydesk_checkout": str(checkout.id), "paydesk_invoice_payment": str(payment.id),
            "paydesk_request": payment.authorize_key, "invoice_number": payment.invoice.number}


def authorize_request(checkout: Checkout, payment: InvoicePayment) -> dict:
    """The authorization of one invoice payment, built only from stored values, so that a
    replay (reconciliation) sends exactly the same request under the same key."""
    number = payment.invoice.number
    return dict(
        amount=payment.amount_minor, currency=checkout.currency.lower(),
        payment_method_id=checkout.payment_method_id, customer_id=checkout.stripe_customer_id,
        metadata=authorization_metadata(checkout, payment),
        statement_descriptor_suffix=ledger.descriptor_suffix(number),
        description=f"Invoice {number}", idempotency_key=payment.authorize_key,
    )


@dataclass(frozen=True)
class Outcome:
    """What one Stripe call on one invoice payment came to."""

    payment_id: int
    status: str  # authorized, captured, cancelled, declined, failed, verifying
    payment_intent_id: str | None = None
    charge_id: str | None = None
    code: str | None = None
    decline_code: str | None = None
    message: str | None = None


def outcome_of_error(payment_id: int, exc: Exception, pi_id: str | None = None) -> Outcome:
    """A gateway error as an outcome: only a decline or a refusal is final; anything else
    (a timeout, a 5xx, an unexpected error) is unknown and left for verification."""
    if isinstance(exc, gw.CardDeclined):
        return Outcome(payment_id, "declined", exc.payment_intent_id or pi_id, code=exc.code,
                       decline_code=exc.decline_code, message=exc.message)
    if isinstance(exc, gw.ActionRequired):
        return Outcome(payment_id, "failed", exc.payment_intent_id or pi_id,
                       code="authentication_required", message=exc.message)
    if isinstance(exc, gw.InvalidRequest) and not isinstance(exc, gw.OutcomeUnknown):
        return Outcome(payment_id, "failed", pi_id, code=exc.code, message=exc.message)
    message = exc.message if isinstance(exc, gw.GatewayError) else "no answer"
    return Outcome(payment_id, "verifying", pi_id, message=message)


class CheckoutRun:
    """One run of the engine over a reserved checkout."""

    def __init__(self, gateway, *, terminal: str,
                 on_progress: Callable[[ProgressEvent], None] | None = None,
                 reader_timeout: float = READER_TIMEOUT_SECONDS) -> None:
        self.gateway = gateway
        self.terminal = terminal
        self.on_progress = on_progress
        self.reader_timeout = reader_timeout
        # Set when the card on the reader cannot be kept: each payment is tapped on it.
        self.tap_reader: str | None = None
        # Why prepare_card refused the card (a decline is shown as one, with its reason).
        self.card_error: gw.GatewayError | None = None

    def _progress(self, payment: InvoicePayment | None, status: str, message: str = "") -> None:
        if self.on_progress is not None:
            try:
                number = payment.invoice.number if payment is not None else ""
                self.on_progress(ProgressEvent(number, status, message))
            except Exception:  # noqa: BLE001,S110 - a screen's callback never stops a payment
                pass

    # --- 2. customer and card ----------------------------------------------------------
    def prepare_card(self, checkout_id: int, card: CardChoice) -> str | None:
        """Store the Stripe customer and PaymentMethod on the checkout; None when ready,
        else the message of why the card cannot be used (nothing was charged)."""
        checkout = Checkout.get_by_id(checkout_id)
        try:
            customer_id = self._customer(checkout)
            crash_point("customer")
            info = self._card_info(checkout, customer_id, card)
        except gw.OutcomeUnknown:
            return "We could not reach the card processor; please try again."
        except gw.GatewayError as exc:
            self.card_error = exc
            return exc.message
        # A card the reader could not keep has no PaymentMethod to charge: the checkout keeps
        # none, and each payment is tapped on the reader (authorize_all).
        reusable = not isinstance(info, NoReusableCard)
        Checkout.update(
            payment_method_id=info.payment_method_id if reusable else None,
            card_brand=info.brand, card_last4=(info.last4 or "")[-4:] or None,
            stripe_customer_id=customer_id, updated_at=utcnow(),
        ).where(Checkout.id == checkout_id).execute()
        crash_point("card")
        if not reusable:
            self.tap_reader = card.reader_id
            self._progress(None, "taps", taps_needed(len(ledger.open_payments(checkout_id))))
        return None

    def _customer(self, checkout: Checkout) -> str:
        client = checkout.client
        if checkout.payer_kind == "code":
            # The holder of a payment link is not the client: their card goes on a customer
            # of its own, never on the client's saved cards.
            customer_id = self.gateway.find_or_create_customer(
                client_ref=f"link-checkout-{checkout.id}", email="",
                name="Payment link payer", idempotency_key=checkout.customer_key)
            Checkout.update(stripe_customer_id=customer_id).where(
                Checkout.id == checkout.id).execute()
            return customer_id
        if client.stripe_customer_id:
            return client.stripe_customer_id
        # One creation request per client, whichever payment sends it: the first claims the
        # client's key (a guarded update), and every first payment made meanwhile sends the
        # same request under that same key, so Stripe makes exactly one customer.
        Client.update(stripe_customer_key=new_key("customer")).where(
            (Client.id == client.id) & Client.stripe_customer_key.is_null()).execute()
        client = Client.get_by_id(client.id)
        customer_id = client.stripe_customer_id or self.gateway.find_or_create_customer(
            client_ref=f"client-{client.id}", email=client.email, name=client.name,
            idempotency_key=client.stripe_customer_key,
        )
        Client.update(stripe_customer_id=customer_id).where(
            (Client.id == client.id) & Client.stripe_customer_id.is_null()
        ).execute()
        customer_id = Client.get_by_id(client.id).stripe_customer_id
        Checkout.update(stripe_customer_id=customer_id).where(
            Checkout.id == checkout.id).execute()
        return customer_id

    def _card_info(self, checkout: Checkout, customer_id: str, card: CardChoice):
        key = checkout.payment_method_key
        if card.kind == "keyed":
            return self.gateway.card_from_keyed_entry(card.keyed, customer_id=customer_id,
                                                      idempotency_key=key)
        if card.kind == "reader":
            return self.gateway.card_from_reader(card.reader_id, customer_id=customer_id,
                                                 idempotency_key=key,
                                                 timeout_seconds=self.reader_timeout)
        if checkout.payer_kind == "code":
            raise gw.InvalidRequest("A saved card can be used only by its owner.")
        for saved in self.gateway.saved_cards(customer_id, allow_redisplay=saved_cards.KEPT):
            if saved.payment_method_id == card.payment_method_id:
                return saved
        raise gw.InvalidRequest("That saved card is no longer on file. Choose another card.")

    # --- 2. authorize ------------------------------------------------------------------
    def authorize_all(self, checkout_id: int) -> list[Outcome] | None:
        """Authorize every pending payment; None (nothing sent) when the checkout is no
        longer this run's to authorize (reconciliation took it over meanwhile)."""
        taps = self.tap_reader is not None
        with write_transaction():
            if not ledger.set_checkout_status(checkout_id, "authorizing",
                                              only_from=("reserved",)):
                return None
            if not taps:  # taps: each payment is marked as it is tapped
                InvoicePayment.update(status="authorizing").where(
                    (InvoicePayment.checkout == checkout_id)
                    & (InvoicePayment.status == "pending")
                ).execute()
        crash_point("authorizing")
        checkout = Checkout.get_by_id(checkout_id)
        if taps:
            return self._authorize_by_taps(checkout)
        payments = [p for p in ledger.open_payments(checkout_id) if p.status == "authorizing"]
        requests = {p.id: authorize_request(checkout, p) for p in payments}
        by_id = {p.id: p for p in payments}
        outcomes: list[Outcome] = []
        with ThreadPoolExecutor(AUTHORIZE_CONCURRENCY, thread_name_prefix="authorize") as pool:
            futures = {}
            for p in payments:
                self._progress(p, "authorizing")
                futures[pool.submit(self._authorize_one, p.id, requests[p.id])] = p.id
            for future in as_completed(futures):
                outcome = future.result()
                crash_point("authorize-returned")
                self._store(outcome)
                outcomes.append(outcome)
                self._progress(by_id[outcome.payment_id], outcome.status, outcome.message or "")
        crash_point("authorized")
        return outcomes

    def _authorize_by_taps(self, checkout: Checkout) -> list[Outcome]:
        """One tap on the reader per payment, one after another. At the first that is not
        authorized the taps stop: the payments not yet tapped stay pending (never sent),
        and the caller cancels the rest, so nothing is charged unless all are."""
        payments = [p for p in ledger.open_payments(checkout.id) if p.status == "pending"]
        outcomes: list[Outcome] = []
        for index, p in enumerate(payments, start=1):
            request = authorize_request(checkout, p)
            if not ledger.update_payment(p.id, status="authorizing"):
                break
            self._progress(p, "tap", f"Tap the card on the reader for {p.invoice.number} "
                                     f"({index} of {len(payments)})")
            outcome = self._authorize_by_tap(p.id, request)
            crash_point("authorize-returned")
            self._store(outcome)
            outcomes.append(outcome)
            self._progress(p, outcome.status, outcome.message or "")
            if outcome.status != "authorized":
                break
        crash_point("authorized")
        return outcomes

    def _authorize_by_tap(self, payment_id: int, request: dict) -> Outcome:
        request = {k: v for k, v in request.items() if k != "payment_method_id"}
        try:
            pi = self.gateway.authorize_on_reader(self.tap_reader, **request,
                                                  timeout_seconds=self.reader_timeout)
        except (gw.ReaderTimeout, gw.InvalidRequest) as exc:
            # No tap in time, or refused before any tap: the reader's intent is cancelled.
            return Outcome(payment_id, "failed", code=getattr(exc, "code", None),
                           message=exc.message)
        except Exception as exc:  # noqa: BLE001 - every error becomes an outcome
            if type(exc) is gw.GatewayError:  # cancelled on the reader; nothing charged
                return Outcome(payment_id, "failed", message=exc.message)
            return outcome_of_error(payment_id, exc)
        if pi.status == "requires_capture":
            return Outcome(payment_id, "authorized", pi.id)
        if pi.status == "succeeded":
            return Outcome(payment_id, "captured", pi.id, charge_id=pi.latest_charge)
        return Outcome(payment_id, "failed", pi.id, message="The card was not authorized.")

    def _authorize_one(self, payment_id: int, request: dict) -> Outcome:
        try:
            pi = self.gateway.authorize(**request)
        except Exception as exc:  # noqa: BLE001 - every error becomes an outcome
            return outcome_of_error(payment_id, exc)
        if pi.status == "requires_capture":
            return Outcome(payment_id, "authorized", pi.id)
        if pi.status == "succeeded":
            return Outcome(payment_id, "captured", pi.id, charge_id=pi.latest_charge)
        message = pi.decline.message if pi.decline else "The card was not authorized."
        return Outcome(payment_id, "failed", pi.id, message=message)

    def _store(self, o: Outcome) -> None:
        fields = {"status": o.status}
        if o.payment_intent_id:
            fields["stripe_payment_intent_id"] = o.payment_intent_id
        if o.status in ("declined", "failed"):
            fields.update(failure_code=o.code, decline_code=o.decline_code,
                          failure_message=o.message, completed_at=utcnow())
        if o.status == "captured":  # recorded by ledger.record_captures
            fields["status"] = "capturing"
        if o.payment_intent_id:
            ledger.store_payment_intent(o.payment_id, o.payment_intent_id)
        ledger.update_payment(o.payment_id, **fields)

    # --- 3. capture all, or cancel all ---------------------------------------------------
    def capture_all(self, checkout_id: int) -> None:
        if not ledger.set_checkout_status(checkout_id, "capturing", only_from=("authorizing",)):
            return  # reconciliation took this checkout over; it finishes it
        crash_point("capturing")
        payments = [p for p in ledger.open_payments(checkout_id)
                    if p.status in ("authorized", "capturing")]
        InvoicePayment.update(status="capturing").where(
            InvoicePayment.id.in_([p.id for p in payments])
            & InvoicePayment.status.in_(("authorized", "capturing"))).execute()
        captured: dict[int, str | None] = {}
        with ThreadPoolExecutor(AUTHORIZE_CONCURRENCY, thread_name_prefix="capture") as pool:
            futures = {pool.submit(self.capture_one, p): p for p in payments}
            for p in payments:
                self._progress(p, "capturing")
            for future in as_completed(futures):
                p, outcome = futures[future], future.result()
                if outcome.status == "captured":
                    captured[p.id] = outcome.charge_id
                else:
                    self._store(outcome)
                self._progress(p, outcome.status, outcome.message or "")
        crash_point("capture-returned")
        ledger.record_captures(checkout_id, captured, terminal=self.terminal)
        crash_point("recorded")

    def capture_one(self, payment: InvoicePayment) -> Outcome:
        try:
            pi = self.gateway.capture(payment.stripe_payment_intent_id,
                                      idempotency_key=payment.capture_key)
        except Exception as exc:  # noqa: BLE001
            outcome = outcome_of_error(payment.id, exc, payment.stripe_payment_intent_id)
            if outcome.status == "verifying":
                return outcome
            # A capture refused as invalid may still have happened: a replay after a lost
            # answer, once Stripe no longer has the key, runs anew and is refused because the
            # PaymentIntent is already captured. The PaymentIntent says what is true; if it
            # cannot be read, nothing is known yet.
            return self.read_back(payment, Outcome(payment.id, "verifying",
                                                   outcome.payment_intent_id,
                                                   message=outcome.message))
        if pi.status == "succeeded":
            return Outcome(payment.id, "captured", pi.id, charge_id=pi.latest_charge)
        return self.read_back(payment, Outcome(payment.id, "verifying", pi.id))

    def read_back(self, payment: InvoicePayment, fallback: Outcome) -> Outcome:
        """The PaymentIntent's own status, as an outcome; `fallback` if it cannot be read."""
        try:
            pi = self.gateway.payment_intent(payment.stripe_payment_intent_id)
        except Exception:  # noqa: BLE001
            return fallback
        if pi.status == "succeeded":
            return Outcome(payment.id, "captured", pi.id, charge_id=pi.latest_charge)
        if pi.status == "canceled":
            return Outcome(payment.id, "cancelled", pi.id)
        if pi.status == "requires_capture":
            return Outcome(payment.id, "authorized", pi.id)
        return fallback

    def cancel_all(self, checkout_id: int, message: str) -> None:
        """Cancel every authorization of the checkout and release its reservation."""
        ledger.set_failure_message(checkout_id, message)
        if not ledger.set_checkout_status(checkout_id, "cancelling",
                                          only_from=("authorizing", "reserved", "cancelling")):
            return
        crash_point("cancelling")
        for p in ledger.open_payments(checkout_id):
            if p.status in ("pending",) and not p.stripe_payment_intent_id:
                ledger.update_payment(p.id, status="cancelled", completed_at=utcnow())
        payments = [p for p in ledger.open_payments(checkout_id)
                    if p.stripe_payment_intent_id and p.status in ("authorized", "failed",
                                                                    "declined", "cancelling")]
        with ThreadPoolExecutor(AUTHORIZE_CONCURRENCY, thread_name_prefix="cancel") as pool:
            results = list(pool.map(self.cancel_one, payments))
        crash_point("cancel-returned")
        for p, outcome in zip(payments, results, strict=True):
            self._after_cancel(checkout_id, p, outcome)
        ledger.close_if_done(checkout_id, terminal=self.terminal)

    def cancel_one(self, payment: InvoicePayment) -> Outcome:
        try:
            pi = self.gateway.cancel(payment.stripe_payment_intent_id,
                                     idempotency_key=payment.cancel_key)
        except Exception as exc:  # noqa: BLE001
            # Refused (e.g. already captured, or cancelled by an earlier try whose answer was
            # lost): the PaymentIntent says what is true; unread, nothing is known yet.
            outcome = outcome_of_error(payment.id, exc, payment.stripe_payment_intent_id)
            return self.read_back(payment, Outcome(payment.id, "verifying",
                                                   outcome.payment_intent_id,
                                                   message=outcome.message))
        if pi.status == "canceled":
            return Outcome(payment.id, "cancelled", pi.id)
        return self.read_back(payment, Outcome(payment.id, "verifying", pi.id))

    def _after_cancel(self, checkout_id: int, payment: InvoicePayment, o: Outcome) -> None:
        if o.status == "captured":
            # Captured after all (it cannot be undone by a cancel): record it, never lose it.
            ledger.record_captures(checkout_id, {payment.id: o.charge_id}, terminal=self.terminal)
        elif payment.status in ("declined", "failed"):
            pass  # a declined PaymentIntent keeps its decline as the payment's status
        elif o.status == "cancelled":
            ledger.update_payment(payment.id, status="cancelled", completed_at=utcnow())
            self._progress(payment, "cancelled")
        else:
            ledger.update_payment(payment.id, status="cancelling")


def taps_needed(count: int) -> str:
    """What the payer is told when the card on the reader cannot be kept for the payment."""
    if count == 1:
        return "This card or phone pays one invoice per tap: tap it once more to pay."
    return (f"This card or phone pays one invoice per tap: tap it once for each invoice, "
            f"{count} taps.")


def failure_message(outcomes: list[Outcome], numbers: dict[int, str], *,
                    locale: str = "en_US") -> str:
    """Which invoice failed and why, in words a client understands: each reason once, as a
    sentence of its own, and what else can be done for as many invoices as are left."""
    failed = [o for o in outcomes if o.status in ("declined", "failed")]
    if failed:
        parts = [f"{numbers[o.payment_id]}: {_sentence(o.message or 'The card was declined')}"
                 for o in failed]
        others = len({numbers[p] for p in numbers} - {numbers[o.payment_id] for o in failed})
        text = "Nothing was charged. " + " ".join(parts)
        if others:
            text += " " + plural(
                others, locale,
                one="You can try another card, or pay the other invoice on its own.",
                other="You can try another card, or pay the other {n} invoices on their own.")
        return text
    return ("Nothing was charged: we could not confirm every authorization with the card "
            "processor. Any authorization is being released.")


def _sentence(text: str) -> str:
    """`text` as one sentence: a capital first letter and exactly one full stop."""
    text = text.strip()
    text = text[:1].upper() + text[1:]
    return text if text.endswith((".", "!", "?")) else text + "."


def run_checkout(gateway, checkout_id: int, card: CardChoice, *, terminal: str,
                 on_progress: Callable[[ProgressEvent], None] | None = None,
                 reader_timeout: float = READER_TIMEOUT_SECONDS) -> CheckoutResult:
    """Drive a reserved checkout through card, authorize, capture-or-cancel and record,
    holding its lease (renewed while it runs) so that reconciliation never takes it over."""
    with lease.held(checkout_id):
        return _run_checkout(gateway, checkout_id, card, terminal=terminal,
                             on_progress=on_progress, reader_timeout=reader_timeout)


def _run_checkout(gateway, checkout_id: int, card: CardChoice, *, terminal: str,
                  on_progress: Callable[[ProgressEvent], None] | None,
                  reader_timeout: float) -> CheckoutResult:
    crash_point("reserved")
    run = CheckoutRun(gateway, terminal=terminal, on_progress=on_progress,
                      reader_timeout=reader_timeout)
    problem = run.prepare_card(checkout_id, card)
    if problem is not None:
        declined = run.card_error if isinstance(run.card_error, gw.CardDeclined) else None
        if declined is not None and card.kind == "keyed" and card.keyed is not None:
            # Declined before Stripe had a card to show: the brand and last four typed.
            Checkout.update(card_brand=brand_of(card.keyed.number),
                            card_last4=card.keyed.number[-4:]).where(
                (Checkout.id == checkout_id) & Checkout.card_last4.is_null()).execute()
        ledger.fail_checkout(
            checkout_id, f"Nothing was charged. {problem}", terminal=terminal,
            declined=(declined.code, declined.decline_code, declined.message)
            if declined is not None else None)
        saved_cards.settle_card(gateway, checkout_id, terminal=terminal)
        return ledger.result_of(checkout_id)
    outcomes = run.authorize_all(checkout_id)
    if outcomes is None:  # reconciliation is settling it: nothing was sent from here
        return ledger.result_of(checkout_id)
    if outcomes and all(o.status == "authorized" for o in outcomes):
        run.capture_all(checkout_id)
    else:
        numbers = {p.id: p.invoice.number for p in ledger.open_payments(checkout_id)}
        locale = Checkout.get_by_id(checkout_id).firm.locale
        run.cancel_all(checkout_id, failure_message(outcomes, numbers, locale=locale))
    # The card is kept on file (succeeded, with consent) or taken off the customer.
    saved_cards.settle_card(gateway, checkout_id, terminal=terminal)
    return ledger.result_of(checkout_id)
