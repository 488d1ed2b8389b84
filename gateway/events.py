"""Stripe's events: read page by page, or received by webhook with their signature checked.

Events come back as plain dicts shaped as Stripe sends them (the Event object, its
`data.object` the refund, dispute, charge or PaymentIntent it is about).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import partial
from typing import Any

import stripe
from stripe.params import AccountRetrieveCurrentParams, EventListParams

from gateway.errors import GatewayMisconfigured
from gateway.stripe_calls import StripeCalls

# How old a webhook's signed timestamp may be: Stripe's own library default. An older one
# is refused, so that a delivery copied off the wire cannot be sent again later.
WEBHOOK_TOLERANCE_SECONDS = 300


@dataclass(frozen=True)
class EventsPage:
    """One page of Stripe's event list, newest first as Stripe lists it."""

    events: tuple[dict[str, Any], ...]
    has_more: bool


class SignatureRefused(Exception):
    """A webhook delivery whose signature is wrong, missing or too old (or whose body is
    not an event): it did not come from Stripe, or not lately."""


class Events(StripeCalls):
    """The account's events, for reading them forward from where Paydesk stopped."""

    def events_page(self, *, ending_before: str | None = None,
                    starting_after: str | None = None, limit: int = 100,
                    types: Sequence[str] | None = None,
                    created_gte: int | None = None) -> EventsPage:
        """One page of events. `ending_before=ID` gives the events just newer than ID (the
        way forward in time); `starting_after=ID` those just older. Newest first either way;
        `has_more` says whether more lie further in that direction. `types` (at most 20)
        and `created_gte` (a Unix time) narrow the list; a cursor need not match them.
        A cursor Stripe no longer keeps (older than 30 days) raises InvalidRequest with
        code "resource_missing"."""
        params: EventListParams = {"limit": limit}
        if ending_before is not None:
            params["ending_before"] = ending_before
        if starting_after is not None:
            params["starting_after"] = starting_after
        if types:
            params["types"] = list(types)
        if created_gte is not None:
            params["created"] = {"gte": created_gte}
        page = self._call(partial(self._v1.events.list, params=params))
        return EventsPage(tuple(page.get("data") or ()), bool(page.get("has_more")))

    def account_id(self) -> str | None:
        """The id of the account the API key belongs to (GET /v1/account), so that events
        read are kept apart per account; None when a restricted key may not ask."""
        params: AccountRetrieveCurrentParams = {}
        try:
            account = self._call(partial(self._v1.accounts.retrieve_current, params=params))
        except GatewayMisconfigured as exc:
            if isinstance(exc.__cause__, stripe.PermissionError):
                return None  # a restricted key is often refused the account itself
            raise
        return str(account.get("id") or "") or None


def verified_event(payload: bytes, signature_header: str | None, secret: str, *,
                   tolerance: int = WEBHOOK_TOLERANCE_SECONDS) -> dict[str, Any]:
    """The event of a webhook delivery, once its `Stripe-Signature` is checked against the
    endpoint's signing secret and its timestamp is within `tolerance` seconds of now.
    SignatureRefused otherwise; the reason never includes the secret."""
    if not secret:
        raise SignatureRefused("no webhook signing secret is configured")
    try:
        event = stripe.Webhook.construct_event(payload, signature_header, secret,
                                               tolerance=tolerance)
    except stripe.SignatureVerificationError as exc:
        raise SignatureRefused(_reason(exc)) from None
    except ValueError:
        raise SignatureRefused("the body is not a Stripe event") from None
    body = event.to_dict()
    if body.get("object") != "event" or not body.get("id") or not body.get("type"):
        raise SignatureRefused("the body is not a Stripe event")
    return body


def _reason(exc: stripe.SignatureVerificationError) -> str:
    text = str(exc.user_message or exc).lower()
    if "tolerance" in text:
        return "the signature's timestamp is too old"
    if "no stripe-signature header" in text or "unable to extract" in text:
        return "the delivery carries no valid signature header"
    return "the signature does not match"
