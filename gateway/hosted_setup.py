"""A card saved by the payer on their own phone: a Stripe Checkout Session in setup mode,
whose page (Stripe's, or the sandbox's) Paydesk shows as a QR code. The card number goes
from the payer's browser to Stripe only; Paydesk sees the saved card's PaymentMethod.

Stripe's rules kept here (docs.stripe.com/payments/checkout/save-and-reuse and the SDK's
CheckoutSessionCreateParams for the pinned version): setup mode needs `currency` (no
`allowed_payment_method_types` is sent), the page lives 30 minutes to 24 hours, custom
text is at most 1200 characters. A card saved in setup mode would be redisplayable
("always") by default; `payment_method_data[allow_redisplay]` "limited" keeps it so unless
the payer agrees to keep it on file (the sandbox's page asks; see gateway/sandbox/
resources/checkout_sessions.py).
"""

from __future__ import annotations

import time
from collections.abc import Mapping

from stripe.params.checkout import (
    SessionCreateParams,
    SessionExpireParams,
    SessionRetrieveParams,
)

from gateway.stripe_calls import StripeCalls
from gateway.values import HostedSetup

MIN_LIFETIME = 30 * 60
MAX_LIFETIME = 24 * 3600
# The request takes a moment to reach Stripe, which measures the 30 minutes from then.
_MARGIN = 60
TEXT_LIMIT = 1200
# The saved card's PaymentMethod, read with the session.
_EXPAND = ["setup_intent.payment_method"]


def card_setup_expiry(seconds: int, now: float | None = None) -> int:
    """The `expires_at` of a page usable for `seconds` from `now` (default: this moment):
    31 minutes to 24 hours (Stripe: 30 minutes to 24 hours, measured when the request
    arrives). Store it with the idempotency key: a retry must send the same time.
    ValueError outside that range."""
    if not MIN_LIFETIME + _MARGIN <= seconds <= MAX_LIFETIME:
        raise ValueError("A card page stays usable from 31 minutes to 24 hours.")
    return int(time.time() if now is None else now) + seconds


class HostedSetupOperations(StripeCalls):
    """Hosted card pages: start one, read how it went, close it early."""

    def start_card_setup(self, *, customer_id: str, currency: str, idempotency_key: str,
                         expires_at: int | None = None, custom_text: str | None = None,
                         success_url: str | None = None, cancel_url: str | None = None,
                         metadata: Mapping[str, str] | None = None) -> HostedSetup:
        """A hosted page on which the payer saves a card for `customer_id`. `expires_at`:
        when the page stops working (`card_setup_expiry(seconds)`; None: Stripe's default,
        24 hours after creation), a fixed time so that a retry with the same key sends the
        same parameters; `custom_text` is shown above the button (what the card will pay
        for). ValueError for a text Stripe would refuse; InvalidRequest for a time that is
        no longer 30 minutes to 24 hours away."""
        if custom_text is not None and not 0 < len(custom_text) <= TEXT_LIMIT:
            raise ValueError(f"The text on a card page is 1 to {TEXT_LIMIT} characters.")
        params: SessionCreateParams = {
            "mode": "setup", "customer": customer_id, "currency": currency.lower(),
            "payment_method_data": {"allow_redisplay": "limited"},
            "expand": list(_EXPAND),
        }
        if expires_at is not None:
            params["expires_at"] = expires_at
        if custom_text:
            params["custom_text"] = {"submit": {"message": custom_text}}
        if success_url:
            params["success_url"] = success_url
        if cancel_url:
            params["cancel_url"] = cancel_url
        if metadata:
            params["metadata"] = dict(metadata)
        opts = self._key(idempotency_key)
        session = self._call(lambda: self._v1.checkout.sessions.create(params=params,
                                                                       options=opts))
        return HostedSetup.from_stripe(session)

    def hosted_setup_status(self, session_id: str) -> HostedSetup:
        """How the page is doing: open, complete (with the saved card) or expired."""
        params: SessionRetrieveParams = {"expand": list(_EXPAND)}
        session = self._call(lambda: self._v1.checkout.sessions.retrieve(session_id,
                                                                         params=params))
        return HostedSetup.from_stripe(session)

    def expire_card_setup(self, session_id: str, *, idempotency_key: str) -> HostedSetup:
        """Close an open page at once (the payer can no longer use it). Stripe refuses a
        page that is already complete or expired (InvalidRequest)."""
        params: SessionExpireParams = {"expand": list(_EXPAND)}
        opts = self._key(idempotency_key)
        session = self._call(lambda: self._v1.checkout.sessions.expire(
            session_id, params=params, options=opts))
        return HostedSetup.from_stripe(session)
