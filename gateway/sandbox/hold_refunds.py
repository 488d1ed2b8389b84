"""The refund Stripe makes itself when a card hold ends uncaptured.

Releasing an authorization (its PaymentIntent cancelled) or letting it lapse refunds the
uncaptured charge in full: the charge shows `refunded`, a Refund object exists, and
`refund.created` is sent. A lapse's refund has Stripe's reason `expired_uncaptured_charge`;
a cancel's has none. No money moved, so the refund has no balance transaction. An
integration must not take either for money given back (none was taken).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from gateway.sandbox import objects

if TYPE_CHECKING:
    from gateway.sandbox.store import State

LAPSED = "expired_uncaptured_charge"


def refund_released_hold(state: State, charge: dict[str, Any], reason: str | None) -> dict[str, Any]:
    """Record and announce the refund of an uncaptured `charge` whose hold ended (call with
    the state's lock held, after the charge is marked refunded)."""
    refund = objects.refund(state.new_id("re_"), state.now(), charge["amount"], charge, reason,
                            {}, None, state.new_id("", 12).upper())
    state.add(refund)
    charge.setdefault("_refunds", []).append(refund["id"])
    state.emit("refund.created", refund)
    return refund
