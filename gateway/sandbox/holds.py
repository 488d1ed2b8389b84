"""Card holds lapse, as Stripe's do: a manual-capture PaymentIntent still uncaptured when its
authorization's validity window ends is canceled with `cancellation_reason` "automatic", and
its charge's authorization is released.

The windows are Stripe's (docs.stripe.com/payments/place-a-hold-on-a-payment-method):
- card-not-present: 7 days; a Visa merchant-initiated (off-session) one 4 days 18 hours;
- card-present (a reader): Visa 5 days, every other brand 2 days.

Each authorization is tracked in a heap by the time it lapses (also shown on the charge as
`payment_method_details.card.capture_before`), so checking for lapsed holds at the start of
a request costs nothing until one is due.
"""

from __future__ import annotations

import heapq
from typing import Any

DAY = 24 * 3600
HOLD_SECONDS = 7 * DAY  # an online (card-not-present), customer-initiated authorization
VISA_MERCHANT_INITIATED_SECONDS = 4 * DAY + 18 * 3600
CARD_PRESENT_SECONDS = 2 * DAY
VISA_CARD_PRESENT_SECONDS = 5 * DAY
MERCHANT_INITIATED = "_merchant_initiated"  # private flag on a charge made off-session


def hold_seconds(charge: dict[str, Any]) -> int:
    """How long the authorization of `charge` stays valid, by how the card was used."""
    details = charge.get("payment_method_details") or {}
    kind = details.get("type") or "card"
    brand = (details.get(kind) or {}).get("brand")
    if kind == "card_present":
        return VISA_CARD_PRESENT_SECONDS if brand == "visa" else CARD_PRESENT_SECONDS
    if brand == "visa" and charge.get(MERCHANT_INITIATED):
        return VISA_MERCHANT_INITIATED_SECONDS
    return HOLD_SECONDS


def capture_before(charge: dict[str, Any]) -> int:
    """When the authorization of an uncaptured charge lapses."""
    details = charge.get("payment_method_details") or {}
    card = details.get(details.get("type") or "card") or {}
    stamp = card.get("capture_before")
    return int(stamp) if stamp is not None else int(charge["created"]) + hold_seconds(charge)


def is_hold(charge: dict[str, Any], pi: dict[str, Any] | None) -> bool:
    """A successful, uncaptured charge of a manual-capture PaymentIntent: an authorization."""
    return (pi is not None and pi.get("capture_method") == "manual"
            and charge.get("status") == "succeeded" and not charge.get("captured"))


def lapse(pi: dict[str, Any], charge: dict[str, Any], at: int) -> bool:
    """Cancel `pi` as Stripe does when its hold lapses at `at`; False if it is no hold now."""
    if pi.get("status") != "requires_capture" or pi.get("latest_charge") != charge["id"]:
        return False
    charge["refunded"], charge["amount_refunded"] = True, charge["amount"]
    pi.update(status="canceled", canceled_at=at, cancellation_reason="automatic",
              amount_capturable=0, next_action=None)
    return True


class Holds:
    """Open authorizations as (lapse time, PaymentIntent id, charge id), soonest first."""

    def __init__(self) -> None:
        self._heap: list[tuple[int, str, str]] = []

    def track(self, charge: dict[str, Any]) -> int:
        """Start tracking an authorization; stamps and returns its lapse time."""
        at = capture_before(charge)
        details = charge.get("payment_method_details") or {}
        card = details.get(details.get("type") or "card")
        if isinstance(card, dict):
            card["capture_before"] = at
        heapq.heappush(self._heap, (at, charge["payment_intent"], charge["id"]))
        return at

    def due(self, now: int) -> list[tuple[int, str, str]]:
        """Remove and return the authorizations that lapse at or before `now`."""
        out = []
        while self._heap and self._heap[0][0] <= now:
            out.append(heapq.heappop(self._heap))
        return out

    def clear(self) -> None:
        self._heap.clear()

    def __len__(self) -> int:
        return len(self._heap)
