"""`StripeGateway`: the operations Paydesk needs, over one injected `stripe.StripeClient`.

Every POST carries the idempotency key the caller stored before the call (operations that
make several calls derive one key per call from it, so a replay repeats every step
exactly). Stripe errors leave as `gateway.errors`; results leave as plain frozen values.

Every request body is built as the SDK's own request type (`stripe.params`, generated from
Stripe's API definition for the pinned version) and passed to a typed SDK call, so the type
checker run by `make test` refuses a parameter Stripe does not know before it is ever sent.

Which payment methods an intent accepts: API version 2026-10-28.endive no longer takes
`payment_method_types` on PaymentIntents or SetupIntents. Paydesk names the types it allows
with `allowed_payment_method_types` instead of turning on `automatic_payment_methods`:
- `authorize` allows `card` only. The cards it charges are card-not-present (a keyed card, a
  saved card, or the reusable card a reader yielded), so a `card_present` PaymentMethod is
  refused rather than charged as card-not-present, and what a firm turns on in its Stripe
  Dashboard (wallets, bank debits, redirects) never changes what the desk charges;
- the reader's SetupIntent, and a payment taken on the reader itself (`authorize_on_reader`),
  allow `card_present` only: the card or phone must be tapped or inserted there.
Stripe narrows the allowed list to what the amount, currency and customer permit and reports
the result as the intent's read-only `payment_method_types`: Paydesk may read it, never send it.
"""

from __future__ import annotations

import random
import time
import unicodedata
import uuid
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from functools import partial
from typing import Any

import stripe
from stripe.params import (
    CustomerCreateParams,
    CustomerListParams,
    CustomerPaymentMethodListParams,
    CustomerSearchParams,
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentCreateParams,
    PaymentIntentListParams,
    PaymentIntentRetrieveParams,
    PaymentIntentSearchParams,
    PaymentMethodAttachParams,
    PaymentMethodCreateParams,
    PaymentMethodDetachParams,
    PaymentMethodUpdateParams,
    RefundCreateParams,
    RefundListParams,
    SetupIntentCreateParams,
)
from stripe.params.terminal import (
    ReaderListParams,
    ReaderProcessPaymentIntentParams,
    ReaderProcessSetupIntentParams,
)
from stripe.params.test_helpers.terminal import ReaderPresentPaymentMethodParams

from gateway.cards import KeyedCard, check_number, normalise, payment_method_for_test_card
from gateway.client import GatewayOptions, build_stripe_client
from gateway.errors import (
    ActionRequired,
    CardDeclined,
    GatewayError,
    InvalidRequest,
    KeyedEntryRefused,
    OutcomeUnknown,
    ReaderTimeout,
)
from gateway.translate import AUTHENTICATION, decline_message, translate
from gateway.values import CardInfo, NoReusableCard, PaymentIntentInfo, RefundInfo

CLIENT_REF_KEY = "paydesk_client_ref"
TEST_CARDS_ONLY = ("In test mode only Stripe's test card numbers work, such as "
                   "4242 4242 4242 4242 (see https://docs.stripe.com/testing).")
KEYED_ENTRY_OFF = ("Typing in a card number is not enabled for this firm's Stripe account. "
                   "Please use the card reader or a saved card.")
_DESCRIPTOR_FORBIDDEN = set("<>\\'\"*")


def _plain(obj: stripe.StripeObject) -> dict[str, Any]:
    return obj.to_dict()


def _descriptor_char(ch: str) -> bool:
    """Stripe takes Latin characters only in a statement descriptor, and none of < > \\ ' " *."""
    if ch in _DESCRIPTOR_FORBIDDEN:
        return False
    if ch.isascii():
        return ch.isprintable()
    return ch.isalpha() and unicodedata.name(ch, "").startswith("LATIN ")


def descriptor_suffix(text: str) -> str | None:
    """`text` made acceptable to Stripe as a statement descriptor suffix (or None): other
    characters are left out (an invoice "№ 12" becomes "12", which has no letter: None)."""
    cleaned = " ".join("".join(ch if _descriptor_char(ch) else " " for ch in text).split())
    cleaned = cleaned[:22].strip()
    return cleaned if any(ch.isalpha() for ch in cleaned) else None


class StripeGateway:
    """Stripe for Paydesk. Blocking: call it from a worker thread, never the UI thread."""

    def __init__(self, client: stripe.StripeClient, *, test_mode: bool,
                 raw_card_data_access: bool = False, rate_limit_retries: int = 2,
                 poll_interval: float = 0.5,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self._client = client
        self.test_mode = test_mode
        self.raw_card_data_access = raw_card_data_access
        self._rate_limit_retries = rate_limit_retries
        self._poll_interval = poll_interval
        self._sleep = sleep

    @classmethod
    def from_options(cls, options: GatewayOptions) -> StripeGateway:
        """A gateway with its own client, in test mode when the key is a test key."""
        return cls(build_stripe_client(options), test_mode=options.test_mode,
                   raw_card_data_access=options.raw_card_data_access,
                   rate_limit_retries=options.max_network_retries)

    # -- plumbing --------------------------------------------------------------------------
    def _call(self, request: Callable[[], stripe.StripeObject]) -> dict[str, Any]:
        """Run one SDK call and return plain data. A 429 is retried with back-off (Stripe did
        not act on it, so the same key is safe); other errors become gateway errors.

        `request` makes the call itself, so the type checker sees its arguments:
        `self._call(lambda: self._v1.refunds.create(params=params, options=opts))`, with
        `params: RefundCreateParams = {...}` built beforehand."""
        attempt = 0
        while True:
            try:
                return _plain(request())
            except stripe.RateLimitError as exc:
                if attempt >= self._rate_limit_retries:
                    raise translate(exc) from exc
                attempt += 1
                delay = min(0.25 * 2 ** attempt, 4.0)
                self._sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 - jitter
            except stripe.StripeError as exc:
                raise translate(exc) from exc

    @staticmethod
    def _key(key: str, step: str | None = None) -> stripe.RequestOptions:
        if not key:
            raise ValueError("every call to Stripe needs the idempotency key stored for it")
        return {"idempotency_key": f"{key}:{step}" if step else key}

    @property
    def _v1(self) -> stripe.V1Services:
        return self._client.v1

    # -- customers and cards ---------------------------------------------------------------
    def find_or_create_customer(self, *, client_ref: str, email: str, name: str,
                                idempotency_key: str) -> str:
        """The id of the Stripe Customer for this client: found by email and Paydesk's
        reference (list is consistent at once), then by search, else created. An empty
        `email` or `name` is left out, never sent: Stripe refuses an empty value (a payer
        by payment code has no email address, so it is found by search only)."""
        if email:
            by_email: CustomerListParams = {"email": email, "limit": 100}
            listed = self._call(lambda: self._v1.customers.list(params=by_email))
            for customer in listed["data"]:
                if (customer.get("metadata") or {}).get(CLIENT_REF_KEY) == client_ref:
                    return customer["id"]
        if "'" not in client_ref and "\\" not in client_ref:
            try:
                search: CustomerSearchParams = {
                    "query": f"metadata['{CLIENT_REF_KEY}']:'{client_ref}'", "limit": 1}
                found = self._call(lambda: self._v1.customers.search(params=search))
                if found["data"]:
                    return found["data"][0]["id"]
            except InvalidRequest:
                pass  # search is not offered everywhere; creating with the key is still safe
        create: CustomerCreateParams = {"metadata": {CLIENT_REF_KEY: client_ref}}
        if email:
            create["email"] = email
        if name:
            create["name"] = name
        opts = self._key(idempotency_key)
        created = self._call(lambda: self._v1.customers.create(params=create, options=opts))
        return created["id"]

    def card_from_keyed_entry(self, card: KeyedCard, *, customer_id: str,
                              idempotency_key: str) -> CardInfo:
        """A card typed in at the desk, attached to the customer (so that each invoice of
        the payment can be charged with it) and not redisplayable: it is kept on file only
        if the caller says so afterwards (`keep_card`), else detached (`detach_card`). The
        number and CVC are checked here, sent at most once, and not kept. The card's expiry
        is the one typed in (a test card's PaymentMethod is updated to it).

        A failure leaves without its inner frames or chained exceptions: tracebacks that
        show local variables (debuggers, rich tracebacks) would otherwise print them."""
        try:
            return self._keyed_card(card, customer_id, idempotency_key)
        except Exception as exc:  # noqa: BLE001 - every failure is scrubbed the same way
            failure = exc
        failure.__cause__ = failure.__context__ = None
        failure.__suppress_context__ = True
        raise failure.with_traceback(None)

    def _keyed_card(self, card: KeyedCard, customer_id: str, idempotency_key: str) -> CardInfo:
        check_number(card.number)
        _check_expiry(card.exp_month, card.exp_year)
        if not card.cvc.isdigit() or len(card.cvc) not in (3, 4):
            raise InvalidRequest("The card's security code (CVC) must be 3 or 4 digits.",
                                 code="invalid_cvc", param="cvc")
        if self.test_mode:
            pm_id = payment_method_for_test_card(card.number)
            if pm_id is None:
                raise InvalidRequest(TEST_CARDS_ONLY, code="test_mode_test_card_required",
                                     param="number")
        elif not self.raw_card_data_access:
            raise KeyedEntryRefused(KEYED_ENTRY_OFF, code="raw_card_data_access_required")
        else:
            raw = _raw_card_params(card)
            pm_opts = self._key(idempotency_key, "pm")
            pm_id = self._call(lambda: self._v1.payment_methods.create(
                params=raw, options=pm_opts))["id"]
        attach: PaymentMethodAttachParams = {"customer": customer_id}
        opts = self._key(idempotency_key, "attach")
        attached = self._call(lambda: self._v1.payment_methods.attach(
            pm_id, params=attach, options=opts))
        info = CardInfo.from_stripe(attached)
        year = card.exp_year + 2000 if 0 <= card.exp_year < 100 else card.exp_year
        if (info.exp_month, info.exp_year) == (card.exp_month, year):
            return info
        # A test card's PaymentMethod carries Stripe's own expiry, not the one typed in.
        expiry: PaymentMethodUpdateParams = {"card": {"exp_month": card.exp_month,
                                                      "exp_year": year}}
        exp_opts = self._key(idempotency_key, "expiry")
        attached_id = info.payment_method_id
        return CardInfo.from_stripe(self._call(lambda: self._v1.payment_methods.update(
            attached_id, params=expiry, options=exp_opts)))

    def saved_cards(self, customer_id: str, *, allow_redisplay: str | None = None,
                    ) -> list[CardInfo]:
        """The customer's card PaymentMethods, newest first; with `allow_redisplay`
        ("always": the cards kept on file with the payer's consent), only those."""
        cards: CustomerPaymentMethodListParams = {"type": "card", "limit": 100}
        if allow_redisplay:
            cards["allow_redisplay"] = allow_redisplay
        found: list[CardInfo] = []
        while True:
            listed = self._call(partial(self._v1.customers.payment_methods.list, customer_id,
                                        params=cards))
            found.extend(CardInfo.from_stripe(pm) for pm in listed["data"])
            if not listed.get("has_more") or not listed["data"]:
                return found
            cards["starting_after"] = listed["data"][-1]["id"]

    def card(self, payment_method_id: str) -> CardInfo:
        """One PaymentMethod, read back (its customer says whether it is still attached)."""
        return CardInfo.from_stripe(self._call(
            lambda: self._v1.payment_methods.retrieve(payment_method_id)))

    def keep_card(self, payment_method_id: str, *, idempotency_key: str) -> CardInfo:
        """Mark an attached card as kept on file with the payer's consent
        (`allow_redisplay=always`): it is then listed among the saved cards."""
        params: PaymentMethodUpdateParams = {"allow_redisplay": "always"}
        opts = self._key(idempotency_key)
        return CardInfo.from_stripe(self._call(lambda: self._v1.payment_methods.update(
            payment_method_id, params=params, options=opts)))

    def detach_card(self, payment_method_id: str, *, idempotency_key: str) -> CardInfo:
        """Take a card off its customer: it can no longer be charged or listed."""
        params: PaymentMethodDetachParams = {}
        opts = self._key(idempotency_key)
        return CardInfo.from_stripe(self._call(lambda: self._v1.payment_methods.detach(
            payment_method_id, params=params, options=opts)))

    # -- the card reader (server-driven Stripe Terminal) -----------------------------------
    def list_readers(self) -> list[tuple[str, str]]:
        """(id, label) of the account's Terminal readers."""
        readers: ReaderListParams = {"limit": 100}
        listed = self._call(lambda: self._v1.terminal.readers.list(params=readers))
        return [(r["id"], r.get("label") or r["id"]) for r in listed["data"]]

    def card_from_reader(self, reader_id: str, *, customer_id: str, idempotency_key: str,
                         timeout_seconds: float = 60, allow_redisplay: str = "limited",
                         ) -> CardInfo | NoReusableCard:
        """Ask the reader for a card (a SetupIntent processed on it) and wait until it is
        presented. Returns the reusable card it yielded (Stripe's `generated_card`, attached
        to the customer; charges on it are card-not-present), or `NoReusableCard` when the
        card cannot be kept (a wallet tap such as Apple Pay or Google Pay, some debit
        networks): then each payment must be tapped (`authorize_on_reader`). The tapped
        `card_present` PaymentMethod is never handed out: it cannot be charged as a card.
        The generated card gets `allow_redisplay` ("limited" by default: usable for this
        payment, not listed among the saved cards until `keep_card`)."""
        setup: SetupIntentCreateParams = {
            "customer": customer_id, "usage": "off_session",
            # Tapped or inserted only: see "Which payment methods an intent accepts" above.
            "allowed_payment_method_types": ["card_present"]}
        seti_opts = self._key(idempotency_key, "seti")
        seti = self._call(lambda: self._v1.setup_intents.create(params=setup, options=seti_opts))
        seti_id: str = seti["id"]
        process: ReaderProcessSetupIntentParams = {
            "setup_intent": seti_id, "allow_redisplay": allow_redisplay}
        process_opts = self._key(idempotency_key, "process")
        self._call(lambda: self._v1.terminal.readers.process_setup_intent(
            reader_id, params=process, options=process_opts))
        action = self._wait_for_action(reader_id, "process_setup_intent", "setup_intent",
                                       seti_id, timeout_seconds)
        if action is None:
            self._cancel_reader_action(reader_id, idempotency_key, "process_setup_intent",
                                       "setup_intent", seti_id)
            raise ReaderTimeout("No card was presented to the reader in time.")
        if action["status"] != "succeeded":
            code = action.get("failure_code")
            if code == "canceled":
                raise GatewayError("The card reader request was canceled.")
            decline_code = self._setup_decline_code(seti_id)
            raise CardDeclined(decline_message(code, decline_code), code=code,
                               decline_code=decline_code)
        generated = (action.get("process_setup_intent") or {}).get("generated_card")
        if generated:
            generated_id: str = generated
            return CardInfo.from_stripe(self._call(
                lambda: self._v1.payment_methods.retrieve(generated_id)))
        seti = self._call(lambda: self._v1.setup_intents.retrieve(seti_id))
        tapped = seti.get("payment_method")
        present: dict[str, Any] = {}
        if tapped:
            tapped_id: str = tapped
            pm = self._call(lambda: self._v1.payment_methods.retrieve(tapped_id))
            present = pm.get("card_present") or pm.get("card") or {}
        return NoReusableCard(present.get("brand") or "unknown", present.get("last4") or "",
                              (present.get("wallet") or {}).get("type"))

    def authorize_on_reader(self, reader_id: str, *, amount: int, currency: str,
                            customer_id: str, metadata: dict[str, str],
                            statement_descriptor_suffix: str, description: str,
                            idempotency_key: str, timeout_seconds: float = 60,
                            ) -> PaymentIntentInfo:
        """Place a hold by a tap on the reader: a PaymentIntent (manual capture, card_present
        only, not confirmed) processed on the reader, which authorizes it when the card or
        phone is tapped. Returns the authorized intent (requires_capture). Raises
        CardDeclined (with the intent, which is left for the caller to cancel),
        ReaderTimeout (no tap in time: the intent is cancelled), InvalidRequest, GatewayError
        (the tap was cancelled on the reader: the intent is cancelled) or OutcomeUnknown."""
        params: PaymentIntentCreateParams = {
            "amount": amount, "currency": currency.lower(), "customer": customer_id,
            "capture_method": "manual",
            # Tapped on the reader only: an in-person, card-present payment.
            "allowed_payment_method_types": ["card_present"],
            "metadata": dict(metadata), "description": description,
        }
        suffix = descriptor_suffix(statement_descriptor_suffix)
        if suffix:
            params["statement_descriptor_suffix"] = suffix
        pi_opts = self._key(idempotency_key, "pi")
        pi_id: str = self._call(lambda: self._v1.payment_intents.create(
            params=params, options=pi_opts))["id"]
        # A law firm's invoice takes no tip, whatever the reader's configuration says.
        process: ReaderProcessPaymentIntentParams = {
            "payment_intent": pi_id, "process_config": {"skip_tipping": True}}
        process_opts = self._key(idempotency_key, "process")
        try:
            self._call(lambda: self._v1.terminal.readers.process_payment_intent(
                reader_id, params=process, options=process_opts))
        except GatewayError as exc:
            return self._settle_on_reader(reader_id, pi_id, idempotency_key, exc)
        try:
            action = self._wait_for_action(reader_id, "process_payment_intent",
                                           "payment_intent", pi_id, timeout_seconds)
        except GatewayError as exc:  # the reader could not be read: stop it, release the hold
            return self._settle_on_reader(reader_id, pi_id, idempotency_key, exc)
        if action is None:
            return self._settle_on_reader(reader_id, pi_id, idempotency_key, ReaderTimeout(
                "No card was tapped on the reader in time. Nothing was charged."))
        if action["status"] == "succeeded":
            info = self.payment_intent(pi_id)
            if info.status in ("requires_capture", "succeeded"):
                return info
            raise OutcomeUnknown("The reader finished, but the payment is not authorized yet.")
        if action.get("failure_code") == "canceled":
            return self._settle_on_reader(reader_id, pi_id, idempotency_key, GatewayError(
                "The payment was canceled on the card reader. Nothing was charged."))
        code = action.get("failure_code")
        decline = None
        try:
            decline = self.payment_intent(pi_id).decline
        except GatewayError:
            pass  # the decline stands; only its reason is unknown
        decline_code = decline.decline_code if decline else None
        raise CardDeclined(decline_message(decline.code if decline else code, decline_code),
                           code=decline.code if decline else code, decline_code=decline_code,
                           payment_intent_id=pi_id)

    def _settle_on_reader(self, reader_id: str, pi_id: str, key: str,
                          failure: GatewayError) -> PaymentIntentInfo:
        """The reader did not report an authorization: stop the reader, and return the
        intent if a tap authorized it after all; otherwise cancel it and raise `failure`
        (OutcomeUnknown when Stripe cannot say which)."""
        self._cancel_reader_action(reader_id, key, "process_payment_intent", "payment_intent",
                                   pi_id)
        try:
            info = self.payment_intent(pi_id)
            if info.status in ("requires_capture", "succeeded"):
                return info
            cancelled = self.cancel(pi_id, idempotency_key=f"{key}:cancel")
        except OutcomeUnknown as exc:
            raise OutcomeUnknown(failure.message) from exc
        except GatewayError:
            info = self.payment_intent(pi_id)  # cancel refused: the intent says what holds
            if info.status in ("requires_capture", "succeeded"):
                return info
            raise failure from None
        if cancelled.status != "canceled":
            raise OutcomeUnknown(failure.message)
        raise failure

    def _cancel_reader_action(self, reader_id: str, key: str, action_type: str, field: str,
                              object_id: str) -> None:
        """Stop the reader waiting for a card for `object_id`; another payment's action on
        the same reader is left alone."""
        opts = self._key(key, "cancel-action")
        try:
            reader = self._call(lambda: self._v1.terminal.readers.retrieve(reader_id))
            action = reader.get("action") or {}
            if (action.get(action_type) or {}).get(field) != object_id \
                    or action.get("status") != "in_progress":
                return
            self._call(lambda: self._v1.terminal.readers.cancel_action(reader_id, options=opts))
        except GatewayError:
            pass  # the reader finished or is gone: what it did is read from the intent

    def _setup_decline_code(self, seti_id: str) -> str | None:
        """The issuer's reason a card on the reader was refused (on the SetupIntent)."""
        try:
            seti = self._call(lambda: self._v1.setup_intents.retrieve(seti_id))
        except GatewayError:
            return None  # the decline stands; only its reason is unknown
        return (seti.get("last_setup_error") or {}).get("decline_code")

    def _wait_for_action(self, reader_id: str, action_type: str, field: str, object_id: str,
                         timeout: float) -> dict[str, Any] | None:
        """The reader's finished action on `object_id` (succeeded or failed), or None when
        the deadline passes first. Reads that fail are retried until the deadline."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                reader = self._call(lambda: self._v1.terminal.readers.retrieve(reader_id))
                action = reader.get("action") or {}
                mine = (action.get(action_type) or {}).get(field) == object_id
                if mine and action.get("status") in ("succeeded", "failed"):
                    return action
            except OutcomeUnknown:
                pass  # a read: keep polling until the deadline
            if time.monotonic() >= deadline:
                return None
            self._sleep(self._poll_interval)

    def present_test_card_on_reader(self, reader_id: str,
                                    card_number: str = "4242424242424242") -> None:
        """Test mode only: tap a Stripe test card on a simulated reader."""
        if not self.test_mode:
            raise InvalidRequest("A test card can only be presented in test mode.")
        tap: ReaderPresentPaymentMethodParams = {
            "type": "card_present", "card_present": {"number": card_number}}
        opts: stripe.RequestOptions = {"idempotency_key": f"present:{uuid.uuid4()}"}
        self._call(lambda: self._v1.test_helpers.terminal.readers.present_payment_method(
            reader_id, params=tap, options=opts))

    # -- payments --------------------------------------------------------------------------
    def authorize(self, *, amount: int, currency: str, payment_method_id: str,
                  customer_id: str, metadata: dict[str, str],
                  statement_descriptor_suffix: str, description: str, idempotency_key: str,
                  off_session: bool = False) -> PaymentIntentInfo:
        """Place a hold (PaymentIntent, manual capture, confirmed now). Raises CardDeclined,
        ActionRequired (3-D Secure: cancel the intent), InvalidRequest or OutcomeUnknown."""
        params: PaymentIntentCreateParams = {
            "amount": amount, "currency": currency.lower(),
            "payment_method": payment_method_id, "customer": customer_id,
            "capture_method": "manual", "confirm": True,
            # Card-not-present only: see "Which payment methods an intent accepts" above.
            "allowed_payment_method_types": ["card"],
            "metadata": dict(metadata), "description": description,
            "expand": ["payment_method"],
        }
        suffix = descriptor_suffix(statement_descriptor_suffix)
        if suffix:
            params["statement_descriptor_suffix"] = suffix
        if off_session:
            params["off_session"] = True
        opts = self._key(idempotency_key)
        pi = self._call(lambda: self._v1.payment_intents.create(params=params, options=opts))
        info = PaymentIntentInfo.from_stripe(pi)
        if info.status == "requires_action":
            raise ActionRequired(AUTHENTICATION, payment_intent_id=info.id)
        return info

    def capture(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntentInfo:
        """Capture the whole hold."""
        params: PaymentIntentCaptureParams = {"expand": ["payment_method"]}
        opts = self._key(idempotency_key)
        return PaymentIntentInfo.from_stripe(self._call(lambda: self._v1.payment_intents.capture(
            payment_intent_id, params=params, options=opts)))

    def cancel(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntentInfo:
        """Release a hold (or abandon an intent that needs an action)."""
        params: PaymentIntentCancelParams = {"expand": ["payment_method"]}
        opts = self._key(idempotency_key)
        return PaymentIntentInfo.from_stripe(self._call(lambda: self._v1.payment_intents.cancel(
            payment_intent_id, params=params, options=opts)))

    def refund(self, payment_intent_id: str, *, amount: int | None, idempotency_key: str,
               metadata: dict[str, str] | None = None) -> RefundInfo:
        """Refund `amount` (None: all that is left) of a captured PaymentIntent."""
        params: RefundCreateParams = {"payment_intent": payment_intent_id}
        if amount is not None:
            params["amount"] = amount
        if metadata:
            params["metadata"] = dict(metadata)
        opts = self._key(idempotency_key)
        return RefundInfo.from_stripe(self._call(
            lambda: self._v1.refunds.create(params=params, options=opts)))

    def payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        params: PaymentIntentRetrieveParams = {"expand": ["payment_method"]}
        return PaymentIntentInfo.from_stripe(self._call(
            lambda: self._v1.payment_intents.retrieve(payment_intent_id, params=params)))

    def refund_status(self, refund_id: str) -> RefundInfo:
        return RefundInfo.from_stripe(self._call(lambda: self._v1.refunds.retrieve(refund_id)))

    def find_payment_intents(self, *, metadata_key: str,
                             metadata_value: str) -> list[PaymentIntentInfo]:
        """PaymentIntents whose metadata has this value, newest first: how reconciliation
        finds an authorization whose response was lost. (Stripe's search can lag new
        objects by a minute; replaying the stored idempotency key is the first resort.)"""
        for text in (metadata_key, metadata_value):
            if "'" in text or "\\" in text:
                raise InvalidRequest("Metadata searched for cannot contain quotes.")
        found: list[PaymentIntentInfo] = []
        def search(params: PaymentIntentSearchParams) -> dict[str, Any]:
            return self._call(lambda: self._v1.payment_intents.search(params=params))

        query = f"metadata['{metadata_key}']:'{metadata_value}'"
        page = search({"query": query, "limit": 100, "expand": ["data.payment_method"]})
        while True:
            found.extend(PaymentIntentInfo.from_stripe(pi) for pi in page["data"])
            if not page.get("has_more") or not page.get("next_page"):
                return found
            page = search({"query": query, "limit": 100, "expand": ["data.payment_method"],
                           "page": page["next_page"]})

    # -- reading back ----------------------------------------------------------------------
    # What became of a request whose answer was lost: reconciliation reads Stripe back
    # before it decides whether the stored request may be sent again (Stripe keeps an
    # idempotency key for 24 hours only; after that the same key runs a new request).
    def payment_intents_of_customer(self, customer_id: str, *, created_since: int,
                                    metadata: Mapping[str, str]) -> list[PaymentIntentInfo]:
        """The customer's PaymentIntents created at or after `created_since` (Unix time)
        whose metadata holds every pair in `metadata`, newest first, over every page.
        Stripe's list is consistent at once (its search can lag new objects by about a
        minute), so an empty answer means no such PaymentIntent was made."""
        params: PaymentIntentListParams = {
            "customer": customer_id, "created": {"gte": created_since}, "limit": 100,
            "expand": ["data.payment_method"]}
        found: list[PaymentIntentInfo] = []
        while True:
            page = self._call(partial(self._v1.payment_intents.list, params=params))
            found.extend(PaymentIntentInfo.from_stripe(pi) for pi in page["data"]
                         if _holds(pi, metadata)
                         and int(pi.get("created") or 0) >= created_since)
            if not page.get("has_more") or not page["data"]:
                return found
            params["starting_after"] = page["data"][-1]["id"]

    def refunds_of_payment_intent(self, payment_intent_id: str, *,
                                  metadata: Mapping[str, str]) -> list[RefundInfo]:
        """The PaymentIntent's refunds whose metadata holds every pair in `metadata`,
        newest first, over every page (Stripe's list is consistent at once)."""
        params: RefundListParams = {"payment_intent": payment_intent_id, "limit": 100}
        found: list[RefundInfo] = []
        while True:
            page = self._call(partial(self._v1.refunds.list, params=params))
            found.extend(RefundInfo.from_stripe(refund) for refund in page["data"]
                         if _holds(refund, metadata))
            if not page.get("has_more") or not page["data"]:
                return found
            params["starting_after"] = page["data"][-1]["id"]


def _holds(obj: Mapping[str, Any], metadata: Mapping[str, str]) -> bool:
    """Whether a Stripe object's metadata has every key of `metadata` with its value."""
    own = obj.get("metadata") or {}
    return all(own.get(key) == value for key, value in metadata.items())


def _raw_card_params(card: KeyedCard) -> PaymentMethodCreateParams:
    """The one request body that carries a card number and CVC (live raw card entry)."""
    params: PaymentMethodCreateParams = {"type": "card", "card": {
        "number": normalise(card.number), "exp_month": card.exp_month,
        "exp_year": card.exp_year, "cvc": card.cvc}}
    if card.postal_code:
        params["billing_details"] = {"address": {"postal_code": card.postal_code}}
    return params


def _check_expiry(month: int, year: int) -> None:
    if not 1 <= month <= 12:
        raise InvalidRequest("The card's expiry month must be between 1 and 12.",
                             code="invalid_expiry_month", param="exp_month")
    year = year + 2000 if 0 <= year < 100 else year
    now = datetime.now(UTC)
    if (year, month) < (now.year, now.month):
        raise InvalidRequest("The card's expiry date has passed.", code="invalid_expiry_year",
                             param="exp_year")
    if year > now.year + 50:
        raise InvalidRequest("The card's expiry year is not valid.", code="invalid_expiry_year",
                             param="exp_year")
