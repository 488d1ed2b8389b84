"""`StripeGateway`: the operations Paydesk needs, over one injected `stripe.StripeClient`.

Every POST carries the idempotency key the caller stored before the call (operations that
make several calls derive one key per call from it, so a replay repeats every step
exactly). Stripe errors leave as `gateway.errors`; results leave as plain frozen values.
"""

from __future__ import annotations

import random
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import stripe

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
from gateway.values import CardInfo, PaymentIntentInfo, RefundInfo

CLIENT_REF_KEY = "paydesk_client_ref"
TEST_CARDS_ONLY = ("In test mode only Stripe's test card numbers work, such as "
                   "4242 4242 4242 4242 (see https://docs.stripe.com/testing).")
KEYED_ENTRY_OFF = ("Typing in a card number is not enabled for this firm's Stripe account. "
                   "Please use the card reader or a saved card.")
_DESCRIPTOR_FORBIDDEN = set("<>\\'\"*")


def _plain(obj: Any) -> dict[str, Any]:
    return obj.to_dict() if hasattr(obj, "to_dict") else dict(obj)


def descriptor_suffix(text: str) -> str | None:
    """`text` made acceptable to Stripe as a statement descriptor suffix (or None)."""
    cleaned = "".join(ch for ch in text if ch not in _DESCRIPTOR_FORBIDDEN).strip()[:22].strip()
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
    def _call(self, method: Callable[..., Any], *args: Any, **kwargs: Any) -> dict[str, Any]:
        """Run one SDK call and return plain data. A 429 is retried with back-off (Stripe did
        not act on it, so the same key is safe); other errors become gateway errors."""
        attempt = 0
        while True:
            try:
                return _plain(method(*args, **kwargs))
            except stripe.RateLimitError as exc:
                if attempt >= self._rate_limit_retries:
                    raise translate(exc) from exc
                attempt += 1
                delay = min(0.25 * 2 ** attempt, 4.0)
                self._sleep(delay * (0.5 + random.random() / 2))  # noqa: S311 - jitter
            except stripe.StripeError as exc:
                raise translate(exc) from exc

    @staticmethod
    def _key(key: str, step: str | None = None) -> dict[str, str]:
        if not key:
            raise ValueError("every call to Stripe needs the idempotency key stored for it")
        return {"idempotency_key": f"{key}:{step}" if step else key}

    @property
    def _v1(self) -> Any:
        return self._client.v1

    # -- customers and cards ---------------------------------------------------------------
    def find_or_create_customer(self, *, client_ref: str, email: str, name: str,
                                idempotency_key: str) -> str:
        """The id of the Stripe Customer for this client: found by email and Paydesk's
        reference (list is consistent at once), then by search, else created."""
        listed = self._call(self._v1.customers.list, params={"email": email, "limit": 100})
        for customer in listed["data"]:
            if (customer.get("metadata") or {}).get(CLIENT_REF_KEY) == client_ref:
                return customer["id"]
        if "'" not in client_ref and "\\" not in client_ref:
            try:
                found = self._call(self._v1.customers.search, params={
                    "query": f"metadata['{CLIENT_REF_KEY}']:'{client_ref}'", "limit": 1})
                if found["data"]:
                    return found["data"][0]["id"]
            except InvalidRequest:
                pass  # search is not offered everywhere; creating with the key is still safe
        created = self._call(self._v1.customers.create, params={
            "email": email, "name": name, "metadata": {CLIENT_REF_KEY: client_ref}},
            options=self._key(idempotency_key))
        return created["id"]

    def card_from_keyed_entry(self, card: KeyedCard, *, customer_id: str,
                              idempotency_key: str) -> CardInfo:
        """A card typed in at the desk, attached to the customer. The number and CVC are
        checked here, sent at most once, and not kept.

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
            pm_id = self._call(self._v1.payment_methods.create, params=_raw_card_params(card),
                               options=self._key(idempotency_key, "pm"))["id"]
        attached = self._call(self._v1.payment_methods.attach, pm_id,
                              params={"customer": customer_id},
                              options=self._key(idempotency_key, "attach"))
        return CardInfo.from_stripe(attached)

    def saved_cards(self, customer_id: str) -> list[CardInfo]:
        """The customer's saved card PaymentMethods, newest first."""
        listed = self._call(self._v1.customers.payment_methods.list, customer_id,
                            params={"type": "card", "limit": 100})
        return [CardInfo.from_stripe(pm) for pm in listed["data"]]

    # -- the card reader (server-driven Stripe Terminal) -----------------------------------
    def list_readers(self) -> list[tuple[str, str]]:
        """(id, label) of the account's Terminal readers."""
        listed = self._call(self._v1.terminal.readers.list, params={"limit": 100})
        return [(r["id"], r.get("label") or r["id"]) for r in listed["data"]]

    def card_from_reader(self, reader_id: str, *, customer_id: str, idempotency_key: str,
                         timeout_seconds: float = 60) -> CardInfo:
        """Ask the reader for a card (a SetupIntent processed on it), wait until the card is
        presented, and return the reusable card it yielded, attached to the customer."""
        seti = self._call(self._v1.setup_intents.create, params={
            "customer": customer_id, "payment_method_types": ["card_present"],
            "usage": "off_session"}, options=self._key(idempotency_key, "seti"))
        self._call(self._v1.terminal.readers.process_setup_intent, reader_id, params={
            "setup_intent": seti["id"], "allow_redisplay": "always"},
            options=self._key(idempotency_key, "process"))
        action = self._wait_for_reader(reader_id, seti["id"], timeout_seconds, idempotency_key)
        if action["status"] != "succeeded":
            code = action.get("failure_code")
            if code == "canceled":
                raise GatewayError("The card reader request was canceled.")
            decline_code = self._setup_decline_code(seti["id"])
            raise CardDeclined(decline_message(code, decline_code), code=code,
                               decline_code=decline_code)
        generated = (action.get("process_setup_intent") or {}).get("generated_card")
        if not generated:
            seti = self._call(self._v1.setup_intents.retrieve, seti["id"])
            generated = seti.get("payment_method")
        return CardInfo.from_stripe(self._call(self._v1.payment_methods.retrieve, generated))

    def _setup_decline_code(self, seti_id: str) -> str | None:
        """The issuer's reason a card on the reader was refused (on the SetupIntent)."""
        try:
            seti = self._call(self._v1.setup_intents.retrieve, seti_id)
        except GatewayError:
            return None  # the decline stands; only its reason is unknown
        return (seti.get("last_setup_error") or {}).get("decline_code")

    def _wait_for_reader(self, reader_id: str, seti_id: str, timeout: float,
                         key: str) -> dict[str, Any]:
        deadline = time.monotonic() + timeout
        while True:
            try:
                reader = self._call(self._v1.terminal.readers.retrieve, reader_id)
                action = reader.get("action") or {}
                mine = (action.get("process_setup_intent") or {}).get("setup_intent") == seti_id
                if mine and action.get("status") in ("succeeded", "failed"):
                    return action
            except OutcomeUnknown:
                pass  # a read: keep polling until the deadline
            if time.monotonic() >= deadline:
                try:
                    self._call(self._v1.terminal.readers.cancel_action, reader_id,
                               options=self._key(key, "cancel"))
                except GatewayError:
                    pass  # the reader may have finished or gone; the SetupIntent is unused
                raise ReaderTimeout("No card was presented to the reader in time.")
            self._sleep(self._poll_interval)

    def present_test_card_on_reader(self, reader_id: str,
                                    card_number: str = "4242424242424242") -> None:
        """Test mode only: tap a Stripe test card on a simulated reader."""
        if not self.test_mode:
            raise InvalidRequest("A test card can only be presented in test mode.")
        self._call(self._v1.test_helpers.terminal.readers.present_payment_method, reader_id,
                   params={"type": "card_present", "card_present": {"number": card_number}},
                   options={"idempotency_key": f"present:{uuid.uuid4()}"})

    # -- payments --------------------------------------------------------------------------
    def authorize(self, *, amount: int, currency: str, payment_method_id: str,
                  customer_id: str, metadata: dict[str, str],
                  statement_descriptor_suffix: str, description: str, idempotency_key: str,
                  off_session: bool = False) -> PaymentIntentInfo:
        """Place a hold (PaymentIntent, manual capture, confirmed now). Raises CardDeclined,
        ActionRequired (3-D Secure: cancel the intent), InvalidRequest or OutcomeUnknown."""
        params: dict[str, Any] = {
            "amount": amount, "currency": currency.lower(),
            "payment_method": payment_method_id, "customer": customer_id,
            "capture_method": "manual", "confirm": True, "payment_method_types": ["card"],
            "metadata": dict(metadata), "description": description,
            "expand": ["payment_method"],
        }
        suffix = descriptor_suffix(statement_descriptor_suffix)
        if suffix:
            params["statement_descriptor_suffix"] = suffix
        if off_session:
            params["off_session"] = True
        pi = self._call(self._v1.payment_intents.create, params=params,
                        options=self._key(idempotency_key))
        info = PaymentIntentInfo.from_stripe(pi)
        if info.status == "requires_action":
            raise ActionRequired(AUTHENTICATION, payment_intent_id=info.id)
        return info

    def capture(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntentInfo:
        """Capture the whole hold."""
        return PaymentIntentInfo.from_stripe(self._call(
            self._v1.payment_intents.capture, payment_intent_id,
            params={"expand": ["payment_method"]}, options=self._key(idempotency_key)))

    def cancel(self, payment_intent_id: str, *, idempotency_key: str) -> PaymentIntentInfo:
        """Release a hold (or abandon an intent that needs an action)."""
        return PaymentIntentInfo.from_stripe(self._call(
            self._v1.payment_intents.cancel, payment_intent_id,
            params={"expand": ["payment_method"]}, options=self._key(idempotency_key)))

    def refund(self, payment_intent_id: str, *, amount: int | None, idempotency_key: str,
               metadata: dict[str, str] | None = None) -> RefundInfo:
        """Refund `amount` (None: all that is left) of a captured PaymentIntent."""
        params: dict[str, Any] = {"payment_intent": payment_intent_id}
        if amount is not None:
            params["amount"] = amount
        if metadata:
            params["metadata"] = dict(metadata)
        return RefundInfo.from_stripe(self._call(self._v1.refunds.create, params=params,
                                                 options=self._key(idempotency_key)))

    def payment_intent(self, payment_intent_id: str) -> PaymentIntentInfo:
        return PaymentIntentInfo.from_stripe(self._call(
            self._v1.payment_intents.retrieve, payment_intent_id,
            params={"expand": ["payment_method"]}))

    def refund_status(self, refund_id: str) -> RefundInfo:
        return RefundInfo.from_stripe(self._call(self._v1.refunds.retrieve, refund_id))

    def find_payment_intents(self, *, metadata_key: str,
                             metadata_value: str) -> list[PaymentIntentInfo]:
        """PaymentIntents whose metadata has this value, newest first: how reconciliation
        finds an authorization whose response was lost. (Stripe's search can lag new
        objects by a minute; replaying the stored idempotency key is the first resort.)"""
        for text in (metadata_key, metadata_value):
            if "'" in text or "\\" in text:
                raise InvalidRequest("Metadata searched for cannot contain quotes.")
        found: list[PaymentIntentInfo] = []
        params: dict[str, Any] = {
            "query": f"metadata['{metadata_key}']:'{metadata_value}'", "limit": 100,
            "expand": ["data.payment_method"]}
        while True:
            page = self._call(self._v1.payment_intents.search, params=params)
            found.extend(PaymentIntentInfo.from_stripe(pi) for pi in page["data"])
            if not page.get("has_more") or not page.get("next_page"):
                return found
            params = {**params, "page": page["next_page"]}


def _raw_card_params(card: KeyedCard) -> dict[str, Any]:
    """The one request body that carries a card number and CVC (live raw card entry)."""
    params: dict[str, Any] = {"type": "card", "card": {
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
