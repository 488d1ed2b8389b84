"""What every Stripe event handler shares: the ids an event's object carries, and the
invoice payment (Paydesk's, or none) that object is about."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from models.db import for_update
from models.payments import InvoicePayment

# The terminal named in audit entries of what Stripe reported (no person at a desk did it).
EVENTS_TERMINAL = "stripe-events"


@dataclass(frozen=True)
class EventContext:
    """The event being applied, for handlers that need more than its object."""

    event: Mapping[str, Any]
    terminal: str
    # False while applying objects the event's object merely lists (a charge's refunds):
    # the request's idempotency key then says nothing about them.
    own_object: bool = True

    @property
    def event_id(self) -> str:
        return str(self.event["id"])

    @property
    def request_key(self) -> str | None:
        """The idempotency key of the API request that caused the event (a Dashboard
        action has none, or one of Stripe's own)."""
        request = self.event.get("request")
        return request.get("idempotency_key") if isinstance(request, Mapping) else None


# A handler takes the event's object and returns a word for what it did (StripeEvent.outcome).
Handler = Callable[[Mapping[str, Any], EventContext], str]
IGNORED = "ignored"


def stripe_id(value: Any) -> str | None:
    """The id of a field that Stripe sends as an id or, when expanded, as the object."""
    if isinstance(value, Mapping):
        value = value.get("id")
    return value if isinstance(value, str) and value else None


def from_unix(seconds: Any) -> dt.datetime:
    """A Stripe timestamp as Paydesk stores times: naive UTC."""
    return dt.datetime.fromtimestamp(int(seconds or 0), dt.UTC).replace(tzinfo=None)


def payment_of(obj: Mapping[str, Any], *, lock: bool = False) -> InvoicePayment | None:
    """Paydesk's invoice payment that a PaymentIntent, refund, dispute or charge is about,
    found by its PaymentIntent (one per invoice payment) or, failing that, its charge; None
    when the object is not Paydesk's (another integration on the same Stripe account)."""
    kind = obj.get("object")
    intent = obj.get("id") if kind == "payment_intent" else obj.get("payment_intent")
    charge = obj.get("id") if kind == "charge" else obj.get("charge")
    for value, column in ((intent, InvoicePayment.stripe_payment_intent_id),
                          (charge, InvoicePayment.stripe_charge_id)):
        found = stripe_id(value)
        if found:
            query = InvoicePayment.select().where(column == found)
            row = (for_update(query) if lock else query).first()
            if row is not None:
                return row
    return None


def payment_by_metadata(obj: Mapping[str, Any], *, lock: bool = False
                        ) -> InvoicePayment | None:
    """The invoice payment a PaymentIntent was made for, read from the metadata Paydesk
    stores on it (billing.stripe_requests.authorization_metadata), when its id was never
    stored (the answer to the request was lost). Trusted only when the checkout, the
    amount and the request's key all match the row, and the row has no other
    PaymentIntent: another database reusing the same row ids is not taken for this one."""
    metadata = obj.get("metadata")
    if obj.get("object") != "payment_intent" or not isinstance(metadata, Mapping):
        return None
    row_id, checkout_id = metadata.get("paydesk_invoice_payment"), metadata.get(
        "paydesk_checkout")
    if not (isinstance(row_id, str) and row_id.isdigit() and isinstance(checkout_id, str)):
        return None
    query = InvoicePayment.select().where(InvoicePayment.id == int(row_id))
    row = (for_update(query) if lock else query).first()
    if row is None or str(row.checkout_id) != checkout_id \
            or row.amount_minor != obj.get("amount") \
            or metadata.get("paydesk_request") != row.authorize_key \
            or row.stripe_payment_intent_id not in (None, obj.get("id")):
        return None
    return row
