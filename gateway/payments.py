"""Payments: holds placed, captured, released and refunded, and PaymentIntents read.

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

import unicodedata
from typing import Any

from stripe.params import (
    PaymentIntentCancelParams,
    PaymentIntentCaptureParams,
    PaymentIntentCreateParams,
    PaymentIntentRetrieveParams,
    PaymentIntentSearchParams,
    RefundCreateParams,
)

from gateway.errors import ActionRequired, InvalidRequest
from gateway.stripe_calls import StripeCalls
from gateway.translate import AUTHENTICATION
from gateway.values import PaymentIntentInfo, RefundInfo

_DESCRIPTOR_FORBIDDEN = set("<>\\'\"*")


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



class Payments(StripeCalls):
    """Holds on a card: placed, captured, released, refunded, read back by id or metadata."""

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
