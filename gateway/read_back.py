"""Reading back: what became of a request whose answer was lost."""

from __future__ import annotations

from collections.abc import Mapping
from functools import partial
from typing import Any

from stripe.params import PaymentIntentListParams, RefundListParams

from gateway.stripe_calls import StripeCalls
from gateway.values import PaymentIntentInfo, RefundInfo


class ReadBack(StripeCalls):
    """Reconciliation's reads: PaymentIntents and refunds found by their metadata."""

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
