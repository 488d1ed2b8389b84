"""Stripe events for the tests, built from Stripe's own example objects (fixtures3.json) with
the ids and amounts of the payment under test, and a stand-in for Stripe's event list."""

from __future__ import annotations

import copy
import itertools
import json
import time
import urllib.parse
import urllib.request
from collections.abc import Sequence
from functools import cache
from typing import Any

from gateway.errors import InvalidRequest
from gateway.events import EventsPage
from tests.conftest import STRIPE_FIXTURES

_ids = itertools.count(1)


@cache
def _examples() -> dict[str, Any]:
    with STRIPE_FIXTURES.open(encoding="utf-8") as handle:
        return json.load(handle)["resources"]


def example(kind: str, **fields: Any) -> dict[str, Any]:
    """Stripe's example object of `kind` ("refund", "dispute", "charge", ...) with `fields`."""
    obj = copy.deepcopy(_examples()[kind])
    obj.update(fields)
    return obj


def event(kind: str, obj: dict[str, Any], *, event_id: str | None = None,
          request_key: str | None = None, created: int | None = None) -> dict[str, Any]:
    """An Event shaped as Stripe's example event, about `obj`."""
    body = example("event")
    body.update(id=event_id or f"evt_test{next(_ids):06d}", type=kind,
                created=created or int(time.time()), data={"object": obj},
                request={"id": None, "idempotency_key": request_key})
    return body


def refund(payment_intent: str, amount: int, *, status: str = "succeeded",
           refund_id: str | None = None, **fields: Any) -> dict[str, Any]:
    return example("refund", id=refund_id or f"re_test{next(_ids):06d}", amount=amount,
                   payment_intent=payment_intent, charge=None, status=status, **fields)


def dispute(payment_intent: str, amount: int, *, status: str = "needs_response",
            dispute_id: str = "dp_test_1", reason: str = "fraudulent") -> dict[str, Any]:
    return example("dispute", id=dispute_id, amount=amount, payment_intent=payment_intent,
                   charge="ch_not_stored", status=status, reason=reason)


class FakeEventList:
    """Stripe's event list as the gateway reads it: newest first, `ending_before` giving
    the page just newer than an event, `starting_after` the page just older, `has_more`
    for that direction. `events` is kept oldest first; append to add newer ones."""

    def __init__(self, events: list[dict[str, Any]] | None = None) -> None:
        self.events = list(events or [])
        self.test_mode = True
        self.calls: list[dict[str, Any]] = []

    def events_page(self, *, ending_before: str | None = None,
                    starting_after: str | None = None, limit: int = 100,
                    types: Sequence[str] | None = None,
                    created_gte: int | None = None) -> EventsPage:
        self.calls.append({"ending_before": ending_before, "starting_after": starting_after,
                           "limit": limit, "types": types, "created_gte": created_gte})
        ids = [e["id"] for e in self.events]
        for cursor in (ending_before, starting_after):
            if cursor is not None and cursor not in ids:
                raise InvalidRequest(f"No such event: '{cursor}'", code="resource_missing",
                                     param="ending_before" if cursor == ending_before
                                     else "starting_after")
        # As Stripe: the filters narrow the list; a cursor need not match them.
        position = {e["id"]: i for i, e in enumerate(self.events)}
        kept = [e for e in self.events
                if (not types or e["type"] in types)
                and (created_gte is None or e["created"] >= created_gte)]
        newest_first = kept[::-1]
        if ending_before is not None:
            newer = [e for e in newest_first if position[e["id"]] > position[ending_before]]
            page = newer[-limit:]
            return EventsPage(tuple(page), len(newer) > len(page))
        rest = [e for e in newest_first
                if starting_after is None or position[e["id"]] < position[starting_after]]
        return EventsPage(tuple(rest[:limit]), len(rest) > limit)


def control(sandbox, path: str, params: dict[str, Any]) -> dict[str, Any]:
    """One POST to the sandbox's control API (what the Dashboard or a bank would do)."""
    request = urllib.request.Request(  # noqa: S310 - the local sandbox
        sandbox.url + path, data=urllib.parse.urlencode(params).encode(), method="POST")
    with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310
        return json.loads(answer.read())
