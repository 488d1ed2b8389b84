"""The sandbox's control endpoints, outside Stripe's API (no key): for tests and the CLI.
The list, with each one's parameters, is in events.py's docstring.

Each control runs under the state's lock and saves the state. What a card network or the
Dashboard does here is not an API request of Paydesk's: a dispute's events carry no request,
a Dashboard refund's carry a `req_` id of its own and no idempotency key.
"""

from __future__ import annotations

import json
import re
import urllib.parse
from collections.abc import Callable
from typing import Any

from gateway.sandbox.clock import ClockError
from gateway.sandbox.errors import ApiError, invalid
from gateway.sandbox.events import AUTOMATIC, RequestContext
from gateway.sandbox.forms import as_bool, as_int
from gateway.sandbox.resources import disputes, refunds
from gateway.sandbox.store import State
from gateway.sandbox.webhooks import WebhookError, WebhookSender

_CLOSE = re.compile(r"/_sandbox/disputes/(?P<dispute>dp_\w+)/close")
VIEWS = ("/_sandbox/health", "/_sandbox/counts", "/_sandbox/clock")


class ControlError(ValueError):
    """A refused control request: (status, message)."""

    def __init__(self, status: int, message: str, allow: str | None = None) -> None:
        super().__init__(message)
        self.status, self.allow = status, allow


def error_body(message: str) -> dict[str, Any]:
    return {"error": {"type": "invalid_request_error", "message": message}}


def params_of(body: str, content_type: str | None) -> dict[str, Any]:
    """A control request's parameters, from a JSON object or a form; ClockError if neither."""
    text = body.strip()
    if (content_type or "").partition(";")[0].strip().lower() == "application/json" \
            or text.startswith("{"):
        try:
            params = json.loads(text or "{}")
        except ValueError:
            raise ClockError("The body is not valid JSON.") from None
        if not isinstance(params, dict):
            raise ClockError("The body must be a JSON object, e.g. {\"seconds\": 3600}.")
        return params
    try:
        pairs = urllib.parse.parse_qsl(text, keep_blank_values=True, strict_parsing=bool(text))
    except ValueError:
        raise ClockError("The body is not a valid form, e.g. seconds=3600.") from None
    params = {}
    for name, value in pairs:
        if name in params:
            raise ClockError(f"{name} is given more than once.")
        params[name] = value
    return params


def advance(state: State, params: dict[str, Any]) -> int:
    """Move the clock as `params` say (exactly one of seconds, frozen_time); the new time.
    Call with the state's lock held: holds that lapse by then do, and the state is saved."""
    unknown = sorted(set(params) - {"seconds", "frozen_time"})
    if unknown:
        raise ClockError(f"Unknown parameter: {unknown[0]}. Give seconds=N or frozen_time=T.")
    if len(params) != 1:
        raise ClockError("Give exactly one of seconds=N (move forward N seconds) or "
                         "frozen_time=T (move forward to Unix time T).")
    if "seconds" in params:
        now = state.clock.advance(params["seconds"])
    else:
        now = state.clock.advance_to(params["frozen_time"])
    state.sweep()
    state.save()
    return now


def _only(params: dict[str, Any], allowed: set[str]) -> dict[str, str]:
    unknown = sorted(set(params) - allowed)
    if unknown:
        raise invalid(f"Unknown parameter: {unknown[0]}.", param=unknown[0])
    return {k: str(v).lower() if isinstance(v, bool) else str(v) for k, v in params.items()}


def open_dispute(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """The cardholder's bank disputes a captured payment (call with the lock held)."""
    given = _only(params, {"payment_intent", "charge", "amount", "reason", "inquiry"})
    charge = disputes.charge_for(state, given)
    inquiry = as_bool(given, "inquiry")
    reason = given.get("reason") or ("general" if inquiry else "fraudulent")
    with _caused_by(state, AUTOMATIC):
        dispute = disputes.open_dispute(state, charge, amount=as_int(given, "amount"),
                                        reason=reason, inquiry=inquiry)
    state.save()
    return state.render(dispute)


def close_dispute(state: State, dispute_id: str, params: dict[str, Any]) -> dict[str, Any]:
    """The bank decides the dispute: outcome won or lost (call with the lock held)."""
    given = _only(params, {"outcome"})
    dispute = state.get(dispute_id, "dispute")
    with _caused_by(state, AUTOMATIC):
        disputes.close_dispute(state, dispute, given.get("outcome", ""))
    state.save()
    return state.render(dispute)


def dashboard_refund(state: State, params: dict[str, Any]) -> dict[str, Any]:
    """A refund made in the Dashboard: no idempotency key of Paydesk's (call with the lock
    held)."""
    given = _only(params, {"payment_intent", "charge", "amount", "reason"})
    charge = disputes.charge_for(state, given)
    with _caused_by(state, RequestContext(state.new_id("req_", 14), None)):
        refund = refunds.make_refund(state, charge, given)
    state.save()
    return state.render(refund)


class _caused_by:  # noqa: N801 - used as a context manager, like contextlib's
    def __init__(self, state: State, request: RequestContext) -> None:
        self.state, self.request = state, request

    def __enter__(self) -> None:
        self.saved, self.state.request = self.state.request, self.request

    def __exit__(self, *exc: object) -> None:
        self.state.request = self.saved


def handle(state: State, webhooks: WebhookSender, reader_id: str, method: str, path: str,
           params: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """The answer to one control request; ControlError, ClockError, WebhookError or
    ApiError when refused. `params` reads the body (only for a POST)."""
    posts = {"/_sandbox/clock/advance", "/_sandbox/disputes", "/_sandbox/refunds"}
    close = _CLOSE.fullmatch(path)
    if path not in (*VIEWS, *posts, "/_sandbox/webhooks") and close is None:
        raise ControlError(404, "Unknown sandbox control path.")
    wanted = ("GET", "POST") if path == "/_sandbox/webhooks" else \
        ("POST",) if path in posts or close else ("GET",)
    if method not in wanted:
        raise ControlError(405, f"Use {' or '.join(wanted)} for {path}.", ", ".join(wanted))
    with state.lock:
        if path == "/_sandbox/clock/advance":
            advance(state, params())
        elif path == "/_sandbox/disputes":
            return open_dispute(state, params())
        elif close is not None:
            return close_dispute(state, close.group("dispute"), params())
        elif path == "/_sandbox/refunds":
            return dashboard_refund(state, params())
        elif path == "/_sandbox/webhooks":
            if method == "POST":
                configure_webhooks(state, webhooks, params())
            return webhook_view(webhooks)
        state.sweep()
        if path == "/_sandbox/health":
            return {"ok": True, "reader": reader_id}
        if path == "/_sandbox/counts":
            counts: dict[str, int] = {}
            for obj in state.objects.values():
                counts[obj["object"]] = counts.get(obj["object"], 0) + 1
            if len(state.events):
                counts["event"] = len(state.events)
            return counts
        return {"now": state.now(), "offset": state.clock.offset}


def configure_webhooks(state: State, webhooks: WebhookSender, params: dict[str, Any]) -> None:
    """Deliver events recorded from now on to `url`, signed with `secret`; url="" stops."""
    unknown = sorted(set(params) - {"url", "secret"})
    if unknown:
        raise WebhookError(f"Unknown parameter: {unknown[0]}. Give url and secret.")
    url = str(params.get("url") or "")
    webhooks.configure(url or None, str(params.get("secret") or "") or None)
    state.events.pending_webhooks = 1 if url else 0


def webhook_view(webhooks: WebhookSender) -> dict[str, Any]:
    return {"url": webhooks.url, "deliveries": [vars(d) for d in webhooks.deliveries]}


REFUSALS = (ClockError, WebhookError)
__all__ = ["REFUSALS", "ApiError", "ControlError", "handle"]
