"""A card saved by the payer on their own phone: a Stripe Checkout Session in setup mode,
whose page (Stripe's, or the sandbox's) Paydesk shows as a QR code. The card number goes
from the payer's browser to Stripe only; Paydesk sees the saved card's PaymentMethod.

Stripe's rules kept here (docs.stripe.com/payments/checkout/save-and-reuse and the SDK's
CheckoutSessionCreateParams for the pinned version): setup mode needs `currency` (no
`allowed_payment_method_types` is sent), the page lives 30 minutes to 24 hours measured by
Stripe's clock (so `expires_at` is computed from Stripe's time, `stripe_time`, never the
terminal's), custom text is at most 1200 characters. A card saved in setup mode would be
redisplayable ("always") by default; `payment_method_data[allow_redisplay]` "limited" is
set on the card at confirmation and overrides Checkout's choice, so the card is never
offered again on its own. Stripe's setup-mode page cannot ask whether to keep the card
(it has no such box, and `custom_fields` are not available in setup mode:
docs.stripe.com/payments/checkout/custom-fields): the terminal asks once the card is
saved, and Paydesk marks the card "always" only if the payer agreed and the payment
succeeded (billing.saved_cards).
"""

from __future__ import annotations

import email.utils
import logging
import time
from collections.abc import Mapping
from typing import Any

import stripe
from stripe.params import CustomerRetrieveParams
from stripe.params.checkout import (
    SessionCreateParams,
    SessionExpireParams,
    SessionRetrieveParams,
)

from gateway.stripe_calls import StripeCalls
from gateway.values import HostedSetup

log = logging.getLogger(__name__)
MIN_LIFETIME = 30 * 60
MAX_LIFETIME = 24 * 3600
# The request takes a moment to reach Stripe, which measures the 30 minutes from then.
_MARGIN = 60
TEXT_LIMIT = 1200
# The saved card's PaymentMethod, read with the session.
_EXPAND = ["setup_intent.payment_method"]


def stripe_date(headers: Mapping[str, str] | None) -> int | None:
    """The Unix time of a response's HTTP `Date` header (whole seconds), or None."""
    value = next((v for k, v in (headers or {}).items() if k.lower() == "date"), None)
    if not value:
        return None
    try:
        return int(email.utils.parsedate_to_datetime(value).timestamp())
    except (TypeError, ValueError):
        return None


def card_setup_expiry(seconds: int, now: float | None = None) -> int:
    """The `expires_at` of a page usable for `seconds` from `now` (Stripe's time,
    `HostedSetupOperations.stripe_time`; default: this machine's clock):
    31 minutes to 24 hours (Stripe: 30 minutes to 24 hours, measured when the request
    arrives). Store it with the idempotency key: a retry must send the same time.
    ValueError outside that range."""
    if not MIN_LIFETIME + _MARGIN <= seconds <= MAX_LIFETIME:
        raise ValueError("A card page stays usable from 31 minutes to 24 hours.")
    return int(time.time() if now is None else now) + seconds


class HostedSetupOperations(StripeCalls):
    """Hosted card pages: start one, read how it went, close it early."""

    def stripe_time(self, customer_id: str) -> int:
        """Stripe's clock now (Unix seconds): the `Date` of Stripe's answer to a read of the
        customer a page is for (every Stripe answer is dated by Stripe's clock). A page's
        `expires_at` is measured by it, as Stripe measures it, whatever this machine's
        clock says. This machine's clock only if the answer carries no date."""
        answers: list[stripe.StripeObject] = []

        def read() -> stripe.StripeObject:
            params: CustomerRetrieveParams = {}
            answers.append(self._v1.customers.retrieve(customer_id, params=params))
            return answers[-1]

        self._call(read)
        response: Any = answers[-1].last_response if answers else None
        found = stripe_date(getattr(response, "headers", None))
        if found is None:
            log.warning("Stripe's answer carried no Date: the page's time is this machine's")
            return int(time.time())
        return found

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
