"""The sandbox's events, as Stripe records them: one Event per change, in order, listed by
GET /v1/events (newest first) and, when a webhook endpoint is set, POSTed to it signed.

Emitted (each `data.object` is the object as the API would answer it at that moment, with
`client_secret` null; `data.previous_attributes` where noted):
- payment_intent.created: a PaymentIntent is created.
- payment_intent.requires_action: a confirm needs 3-D Secure.
- charge.failed, then payment_intent.payment_failed: a confirm is declined.
- charge.succeeded: a confirm authorizes the card (every successful charge).
- payment_intent.amount_capturable_updated: a manual-capture intent is authorized.
- charge.captured (previous_attributes), then payment_intent.succeeded: a capture; an
  automatic-capture confirm sends payment_intent.succeeded after charge.succeeded only.
- charge.refunded (previous_attributes), then payment_intent.canceled: an authorized intent
  is canceled (the authorization is released).
- charge.expired, then payment_intent.canceled (cancellation_reason "automatic", request
  null): a card hold lapses when the sandbox clock passes its capture_before.
- payment_intent.canceled: any other cancel.
- refund.created, then charge.refunded (previous_attributes): a refund through the API or
  from the Dashboard (`request.idempotency_key` null for the Dashboard).
- refund.updated (previous_attributes): a refund's metadata is updated.
- charge.dispute.created, then charge.dispute.funds_withdrawn (not for an inquiry, whose
  status is warning_needs_response; the charge's `disputed` becomes true without an event
  of its own): a dispute is opened, by the control endpoint or, after capture, by the test
  cards 4000000000000259
  (pm_card_createDispute), 4000000000002685 (pm_card_createDisputeProductNotReceived) and
  4000000000001976 (pm_card_createDisputeInquiry).
- charge.dispute.updated (previous_attributes): evidence or metadata is given
  (POST /v1/disputes/{id}); submitting evidence moves it to under_review.
- charge.dispute.closed, then charge.dispute.funds_reinstated when won after funds were
  withdrawn: closed won or lost (control endpoint; POST /v1/disputes/{id}/close: lost;
  evidence uncategorized_text "winning_evidence" / "losing_evidence", as in Stripe's test
  mode).
- customer.created, customer.updated (previous_attributes).
- payment_method.attached, payment_method.detached.
- setup_intent.created, setup_intent.succeeded, setup_intent.setup_failed,
  setup_intent.canceled.
- checkout.session.completed (previous_attributes), after setup_intent.created (at the
  first submission of the hosted page), payment_method.attached and setup_intent.succeeded:
  a card saved on a hosted page (request null: the payer's doing); a declined card sends
  setup_intent.setup_failed and the session stays open.
- checkout.session.expired (previous_attributes): POST /v1/checkout/sessions/{id}/expire,
  or automatically (request null) once the clock passes its expires_at.
- ACH Direct Debit (resources/bank_debits.py, settlement.py): payment_intent.requires_action
  (microdeposits to verify); mandate.updated (previous_attributes: pending -> active when
  verified, -> inactive after failed verification or a closed/unknown/unauthorized account);
  charge.pending, then payment_intent.processing (the debit is sent); when the sandbox clock
  passes its settlement (request null): charge.succeeded, then payment_intent.succeeded, or
  charge.failed, then payment_intent.payment_failed. A refund of a debit: refund.created
  (pending), charge.refunded, then refund.updated (succeeded) when it settles.

Each event has `request` {id, idempotency_key} when an API request caused it, `request`
{id: null, idempotency_key: null} for automatic changes (a lapsing hold; anything a
dispute does, the bank's doing, even a test card's dispute opened as its capture is
answered), and a `req_` id with a null key for the Dashboard. `pending_webhooks` is 1 while a webhook endpoint is set and the event is not yet
delivered, else 0. Stripe lists events of the last 30 days only: older ones (by the sandbox
clock) are neither listed nor retrievable, and are dropped when the state is saved.

Control endpoints (outside Stripe's API, no key; form or JSON bodies; see control.py):
- GET /_sandbox/health, /_sandbox/counts, /_sandbox/clock
- POST /_sandbox/clock/advance            seconds=N | frozen_time=T
- POST /_sandbox/disputes                 payment_intent=pi_... | charge=ch_...,
                                          [amount=N], [reason=fraudulent|...],
                                          [inquiry=true]  -> the Dispute
- POST /_sandbox/disputes/{dp_id}/close   outcome=won|lost  -> the Dispute
- POST /_sandbox/refunds                  payment_intent=pi_... | charge=ch_...,
                                          [amount=N], [reason=...]  -> the Refund
                                          (a refund made in the Dashboard)
- GET  /_sandbox/webhooks                 the endpoint URL (never the secret) and deliveries
- POST /_sandbox/webhooks                 url=http://...&secret=whsec_...; url= turns off
The same from Python: Sandbox.open_dispute, close_dispute, dashboard_refund,
set_webhook_endpoint, events; start_sandbox(webhook_url=..., webhook_secret=...).
"""

from __future__ import annotations

import copy
import fnmatch
import json
import threading
import typing
from collections.abc import Callable
from typing import Any

import stripe

from gateway.sandbox.errors import ApiError, invalid
from gateway.sandbox.forms import as_int

EVENT_LIFETIME = 30 * 24 * 3600  # Stripe lists and retrieves events of the last 30 days
MAX_TYPES = 20  # "An array of up to 20 strings containing specific event names"
# The event types the pinned SDK knows: an emitted type outside them is a sandbox bug.
KNOWN_TYPES = frozenset(typing.get_args(typing.get_type_hints(stripe.Event)["type"]))


class RequestContext(typing.NamedTuple):
    """What caused a change: the API request's id and idempotency key."""

    id: str | None
    idempotency_key: str | None


AUTOMATIC = RequestContext(None, None)


def public_snapshot(obj: dict[str, Any]) -> dict[str, Any]:
    """`obj` as the API renders it, without private keys and with no client secret."""
    out = copy.deepcopy({k: v for k, v in obj.items() if not k.startswith("_")
                         and not (k == "refunds" and obj.get("object") == "charge")})
    # A charge's `refunds` list is left out as Stripe has since API version 2022-11-15
    # (Paydesk pins a later one): each refund is its own refund.* event.
    if "client_secret" in out:
        out["client_secret"] = None
    return out


def changed(before: dict[str, Any], after: dict[str, Any]) -> dict[str, Any]:
    """Stripe's `previous_attributes`: the earlier value of each top-level key that changed."""
    return {k: v for k, v in before.items() if after.get(k) != v}


class EventLog:
    """Events in creation order, by id. Callers hold the state's lock."""

    def __init__(self) -> None:
        self._events: list[dict[str, Any]] = []
        self._index: dict[str, int] = {}
        self._json: dict[str, tuple[int, str]] = {}  # id -> (pending_webhooks, its JSON)
        self.lock = threading.Lock()  # only for `listeners` (a webhook sender thread)
        self.listeners: list[Callable[[dict[str, Any]], None]] = []
        self.pending_webhooks = 0  # 1 while a webhook endpoint is set

    def record(self, event_id: str, kind: str, snapshot: dict[str, Any],
               previous: dict[str, Any] | None, created: int,
               request: RequestContext) -> dict[str, Any]:
        if kind not in KNOWN_TYPES:
            raise ValueError(f"{kind} is no event type of the pinned Stripe API")
        data: dict[str, Any] = {"object": snapshot}
        if previous is not None:
            data["previous_attributes"] = previous
        event = {"id": event_id, "object": "event", "api_version": stripe.api_version,
                 "created": created, "data": data, "livemode": False,
                 "pending_webhooks": self.pending_webhooks,
                 "request": {"id": request.id, "idempotency_key": request.idempotency_key},
                 "type": kind}
        self._index[event_id] = len(self._events)
        self._events.append(event)
        with self.lock:
            listeners = list(self.listeners)
        for listener in listeners:  # each copies what it keeps (the state's lock is held)
            listener(event)
        return event

    def __len__(self) -> int:
        return len(self._events)

    def get(self, event_id: str) -> dict[str, Any] | None:
        i = self._index.get(event_id)
        return self._events[i] if i is not None else None

    def recent(self, now: int) -> list[dict[str, Any]]:
        """The events Stripe still shows (the last 30 days), oldest first."""
        return [e for e in self._events if e["created"] >= now - EVENT_LIFETIME]

    # persistence
    def dump_json(self, now: int) -> str:
        """The events to keep in the state file, as a JSON array. The state is written at
        every change; an event never changes but for `pending_webhooks`, so each one's
        text is kept and made again only when that changed."""
        parts = []
        for event in self.recent(now):
            cached = self._json.get(event["id"])
            if cached is None or cached[0] != event["pending_webhooks"]:
                cached = self._json[event["id"]] = (event["pending_webhooks"],
                                                    json.dumps(event))
            parts.append(cached[1])
        if len(self._json) > len(parts):  # events past 30 days: their texts go too
            kept = {e["id"] for e in self.recent(now)}
            self._json = {k: v for k, v in self._json.items() if k in kept}
        return "[" + ", ".join(parts) + "]"

    def load(self, events: list[dict[str, Any]]) -> None:
        self._events = list(events)
        self._index = {e["id"]: i for i, e in enumerate(self._events)}


# -- GET /v1/events ---------------------------------------------------------------------------
# The parameter names and kinds (integers, booleans, the `created` hash, the `types` array)
# were checked against the SDK's EventListParams before the handler runs (schema.py); what
# is left here are the rules the types cannot say.


def _type_filter(params: dict[str, Any]) -> Callable[[str], bool]:
    kind, kinds = params.get("type"), params.get("types")
    if kind is not None and kinds is not None:
        raise invalid("You may pass either type or types, but not both.", param="types")
    if kinds is not None:
        if not isinstance(kinds, list):
            kinds = [kinds]
        if len(kinds) > MAX_TYPES:
            raise invalid(f"types may contain at most {MAX_TYPES} event types, "
                          f"got {len(kinds)}.", param="types")
        wanted = {str(k) for k in kinds}
        return lambda t: t in wanted
    if kind:
        pattern = str(kind)
        if "*" in pattern:
            return lambda t: fnmatch.fnmatchcase(t, pattern)
        return lambda t: t == pattern
    return lambda t: True


def created_filter(params: dict[str, Any]) -> Callable[[int], bool]:
    """A list's `created` filter: a time, or a hash of gt, gte, lt, lte."""
    created = params.get("created")
    if created is None:
        return lambda c: True
    if not isinstance(created, dict):
        exact = as_int(params, "created")
        return lambda c: c == exact
    bounds = {op: as_int(created, op) for op in ("gt", "gte", "lt", "lte") if op in created}
    checks = {"gt": lambda c, b: c > b, "gte": lambda c, b: c >= b,
              "lt": lambda c, b: c < b, "lte": lambda c, b: c <= b}
    return lambda c: all(checks[op](c, b) for op, b in bounds.items())


def _limit(params: dict[str, Any]) -> int:
    limit = as_int(params, "limit")
    limit = 10 if limit is None else limit
    if not 1 <= limit <= 100:
        raise invalid("Invalid limit: must be between 1 and 100", param="limit")
    return limit


def _cursor(log: EventLog, params: dict[str, Any], name: str, now: int) -> int | None:
    """The position of a `starting_after` / `ending_before` event, which must exist."""
    ident = params.get(name)
    if ident is None:
        return None
    event = log.get(str(ident))
    if event is None or event["created"] < now - EVENT_LIFETIME:
        raise ApiError(404, f"No such event: '{ident}'", code="resource_missing", param=name)
    return log._index[event["id"]]


def list_events(log: EventLog, params: dict[str, Any], now: int) -> dict[str, Any]:
    """A Stripe list object of events, newest first. A cursor need not match the filters:
    the page starts next to it in time, as Stripe's does."""
    if params.get("starting_after") is not None and params.get("ending_before") is not None:
        raise invalid("You may only specify one of these parameters: ending_before, "
                      "starting_after.", param="ending_before")
    limit = _limit(params)
    by_type, by_created = _type_filter(params), created_filter(params)
    delivered = params.get("delivery_success")
    after = _cursor(log, params, "starting_after", now)
    before = _cursor(log, params, "ending_before", now)
    positions = [(i, e) for i, e in enumerate(log._events)
                 if e["created"] >= now - EVENT_LIFETIME and by_type(e["type"])
                 and by_created(e["created"])
                 and (delivered is None or (e["pending_webhooks"] == 0) == (delivered == "true"))]
    newest_first = list(reversed(positions))
    if before is not None:  # the page just newer than the cursor, still newest first
        newer = [e for i, e in newest_first if i > before]
        page = newer[-limit:]
        more = len(newer) > limit
    else:
        rest = [e for i, e in newest_first if after is None or i < after]
        page = rest[:limit]
        more = len(rest) > limit
    return {"object": "list", "data": copy.deepcopy(page), "has_more": more,
            "url": "/v1/events"}


def retrieve_event(log: EventLog, ident: str, now: int) -> dict[str, Any]:
    event = log.get(ident)
    if event is None or event["created"] < now - EVENT_LIFETIME:
        raise ApiError(404, f"No such event: '{ident}'", code="resource_missing", param="id")
    return event
