"""The payment engine: reserve, authorize all at once, capture all or cancel all, record
(DESIGN.md section 4).

No database lock is held during a Stripe call. Every Stripe call carries an idempotency key
stored before the call, and every state change is stored as soon as it is known, so a crash
at any point leaves a checkout that `billing.reconcile` can drive to a final state.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor, as_completed

from billing import lease, ledger, saved_cards
from billing.crash_points import crash_point
from billing.failure_wording import failure_message
from billing.keys import new_key
from billing.outcomes import Outcome, outcome_of_error
from billing.reader_taps import ReaderTaps, taps_needed
from billing.stripe_requests import authorize_request
from billing.values import CardChoice, CheckoutResult, ProgressEvent
from gateway import errors as gw
from gateway.cards import brand_of
from gateway.values import NoReusableCard
from models.db import write_transaction
from models.firm import Client, utcnow
from models.payments import Checkout, InvoicePayment

# Stripe calls one checkout has in flight at most, each in a thread of the run's own pool.
# How fast requests go to Stripe is the gateway's rate limiter's to decide (one per process,
# within Stripe's limits); this only bounds the threads a checkout holds. 20: a checkout of
# up to 20 invoices sends all its authorizations, then all its captures, at once.
PARALLEL_CALLS = 20
READER_TIMEOUT_SECONDS = 60.0
CARD_METHODS = {"keyed": "card_keyed", "saved": "card_saved", "reader": "card_reader"}
NOT_ON_FILE = "That saved card is no longer on file. Choose another card."


class CheckoutRun(ReaderTaps):
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
        self._pool: ThreadPoolExecutor | None = None

    def _calls(self) -> Executor:
        """The run's one thread pool, for every phase: authorize, capture, cancel."""
        if self._pool is None:
            self._pool = ThreadPoolExecutor(PARALLEL_CALLS, thread_name_prefix="stripe-call")
        return self._pool

    def __enter__(self) -> CheckoutRun:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None

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
        if card.kind == "phone":
            # Saved by the payer on their own phone for this payment (billing.phone_entry):
            # on file only if they agreed there, so it is read by its id, not from the list.
            info = self.gateway.card(card.payment_method_id)
            if info.customer != customer_id:
                raise gw.InvalidRequest("That card was saved for another client.")
            return info
        # Stripe's "always" alone is not Paydesk keeping it: a card is charged as saved
        # only if a checkout of this client kept it with the payer's consent.
        if not Checkout.select().where(
                (Checkout.client == checkout.client_id) & (Checkout.card_on_file == "kept")
                & (Checkout.payment_method_id == card.payment_method_id)).exists():
            raise gw.InvalidRequest(NOT_ON_FILE)
        for saved in self.gateway.saved_cards(customer_id, allow_redisplay=saved_cards.KEPT):
            if saved.payment_method_id == card.payment_method_id:
                return saved
        raise gw.InvalidRequest(NOT_ON_FILE)

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
        pool = self._calls()
        futures = []
        for p in payments:
            self._progress(p, "authorizing")
            futures.append(pool.submit(self._authorize_one, p.id, requests[p.id]))
        for future in as_completed(futures):
            outcome = future.result()
            crash_point("authorize-returned")
            self._store(outcome)
            outcomes.append(outcome)
            self._progress(by_id[outcome.payment_id], outcome.status, outcome.message or "")
        crash_point("authorized")
        return outcomes

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
        pool = self._calls()
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
        results = list(self._calls().map(self.cancel_one, payments))
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


def run_checkout(gateway, checkout_id: int, card: CardChoice, *, terminal: str,
                 on_progress: Callable[[ProgressEvent], None] | None = None,
                 reader_timeout: float = READER_TIMEOUT_SECONDS) -> CheckoutResult:
    """Drive a reserved checkout through card, authorize, capture-or-cancel and record,
    holding its lease (renewed while it runs) so that reconciliation never takes it over."""
    run = CheckoutRun(gateway, terminal=terminal, on_progress=on_progress,
                      reader_timeout=reader_timeout)
    with lease.held(checkout_id), run:
        return _run_checkout(run, gateway, checkout_id, card, terminal=terminal)


def _run_checkout(run: CheckoutRun, gateway, checkout_id: int, card: CardChoice, *,
                  terminal: str) -> CheckoutResult:
    crash_point("reserved")
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
