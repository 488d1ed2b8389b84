"""Plain, frozen values the gateway hands to billing: no Stripe objects leave the gateway."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple


class DeclineInfo(NamedTuple):
    """Why the last attempt on a PaymentIntent failed, as Stripe said it."""

    code: str | None
    decline_code: str | None
    message: str | None


@dataclass(frozen=True)
class CardInfo:
    """A reusable card PaymentMethod: never more of the number than the last four digits."""

    payment_method_id: str
    brand: str
    last4: str
    exp_month: int
    exp_year: int
    # Stripe's fingerprint: the same for every PaymentMethod of one card number.
    fingerprint: str | None = None
    # Stripe's `allow_redisplay`: "always" once the payer agreed to keep the card on file.
    allow_redisplay: str = "unspecified"
    customer: str | None = None
    created: int = 0

    @classmethod
    def from_stripe(cls, pm: dict[str, Any]) -> CardInfo:
        card = pm.get("card") or pm.get("card_present") or {}
        customer = pm.get("customer")
        return cls(pm["id"], card.get("brand") or "unknown", card.get("last4") or "",
                   int(card.get("exp_month") or 0), int(card.get("exp_year") or 0),
                   fingerprint=card.get("fingerprint") or None,
                   allow_redisplay=pm.get("allow_redisplay") or "unspecified",
                   customer=customer if isinstance(customer, str) else None,
                   created=int(pm.get("created") or 0))


@dataclass(frozen=True)
class PaymentIntentInfo:
    id: str
    status: str
    amount: int
    currency: str
    amount_capturable: int
    amount_received: int
    latest_charge: str | None
    metadata: dict[str, str] = field(default_factory=dict)
    card: CardInfo | None = None
    decline: DeclineInfo | None = None
    customer: str | None = None
    created: int = 0

    @classmethod
    def from_stripe(cls, pi: dict[str, Any]) -> PaymentIntentInfo:
        pm = pi.get("payment_method")
        error = pi.get("last_payment_error")
        charge = pi.get("latest_charge")
        return cls(
            id=pi["id"], status=pi["status"], amount=int(pi["amount"]),
            currency=pi["currency"], amount_capturable=int(pi.get("amount_capturable") or 0),
            amount_received=int(pi.get("amount_received") or 0),
            latest_charge=charge.get("id") if isinstance(charge, dict) else charge,
            metadata=dict(pi.get("metadata") or {}),
            card=CardInfo.from_stripe(pm) if isinstance(pm, dict) else None,
            decline=DeclineInfo(error.get("code"), error.get("decline_code"),
                                error.get("message")) if error else None,
            customer=pi.get("customer") if isinstance(pi.get("customer"), str) else None,
            created=int(pi.get("created") or 0),
        )


@dataclass(frozen=True)
class RefundInfo:
    id: str
    status: str
    amount: int
    payment_intent: str
    currency: str
    metadata: dict[str, str] = field(default_factory=dict)

    @classmethod
    def from_stripe(cls, refund: dict[str, Any]) -> RefundInfo:
        return cls(refund["id"], refund["status"], int(refund["amount"]),
                   refund.get("payment_intent") or "", refund["currency"],
                   dict(refund.get("metadata") or {}))


@dataclass(frozen=True)
class NoReusableCard:
    """What the reader gives when the card presented on it cannot be kept: a wallet tap
    (Apple Pay, Google Pay), or a card whose network yields no reusable `generated_card`.
    Nothing here can be charged: each payment must be tapped on the reader
    (`StripeGateway.authorize_on_reader`). `wallet` is Stripe's wallet type, if any."""

    brand: str
    last4: str
    wallet: str | None = None

    message = "No reusable card: each invoice must be tapped on the reader."
