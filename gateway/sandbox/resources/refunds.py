"""/v1/refunds (create, retrieve, update, list) and /v1/charges (retrieve, list)."""

from __future__ import annotations

from typing import Any

from gateway.sandbox import objects, settlement
from gateway.sandbox.errors import invalid
from gateway.sandbox.events import changed
from gateway.sandbox.forms import as_int, metadata
from gateway.sandbox.listing import paginate
from gateway.sandbox.resources.disputes import refusal_to_refund
from gateway.sandbox.resources.payment_intents import ZERO_DECIMAL
from gateway.sandbox.store import State

REASONS = ("duplicate", "fraudulent", "requested_by_customer")


def _money(amount: int, currency: str) -> str:
    if currency in ZERO_DECIMAL:
        return f"{amount} {currency}"
    return f"${amount / 100:,.2f}" if currency == "usd" else f"{amount / 100:,.2f} {currency}"


def _charge_for(state: State, params: dict[str, Any]) -> dict[str, Any]:
    if params.get("payment_intent"):
        pi = state.get(params["payment_intent"], "payment_intent", label="payment_intent",
                       param="payment_intent")
        if pi["status"] != "succeeded" or not pi["latest_charge"]:
            raise invalid(f"This PaymentIntent ({pi['id']}) does not have a successful charge "
                          "to refund.", param="payment_intent", code="charge_not_refundable",
                          saved=True)
        return state.get(pi["latest_charge"], "charge")
    if params.get("charge"):
        return state.get(params["charge"], "charge", param="charge")
    raise invalid("One of the following params should be provided for this request: "
                  "payment_intent or charge.", code="parameter_missing")


def create(state: State, params: dict[str, Any]) -> dict[str, Any]:
    return make_refund(state, _charge_for(state, params), params)


def make_refund(state: State, charge: dict[str, Any], params: dict[str, Any],
                ) -> dict[str, Any]:
    """Refund `charge` as `params` say (amount, reason, metadata): through the API, or from
    the Dashboard (the sandbox's control endpoint). Call with the state's lock held."""
    reason = params.get("reason") or None
    if reason is not None and reason not in REASONS:
        raise invalid(f"Invalid reason: {reason}", param="reason")
    if not charge["captured"] or charge["status"] != "succeeded":
        raise invalid(f"Charge {charge['id']} has not been captured; cancel its PaymentIntent "
                      "instead.", code="charge_not_refundable", saved=True)
    already = sum(state.objects[r]["amount"] for r in charge.get("_refunds", []))
    left = charge["amount_captured"] - already
    if left <= 0:
        raise invalid(f"Charge {charge['id']} has already been refunded.",
                      code="charge_already_refunded", saved=True)
    amount = as_int(params, "amount")
    amount = left if amount is None else amount
    if amount < 1:
        raise invalid("Invalid positive integer", param="amount",
                      code="parameter_invalid_integer")
    if amount > left:
        raise invalid(f"Refund amount ({_money(amount, charge['currency'])}) is greater than "
                      f"unrefunded amount on charge ({_money(left, charge['currency'])})",
                      param="amount", code="amount_too_large", saved=True)
    refused = refusal_to_refund(state, charge)
    if refused is not None:
        raise refused
    refund = objects.refund(state.new_id("re_"), state.now(), amount, charge, reason,
                            metadata(params), state.new_id("txn_"),
                            state.new_id("", 12).upper())
    settlement.pending_refund(state, refund, charge)  # an ACH debit's refund starts pending
    state.add(refund)
    before = state.snapshot(charge)
    charge.setdefault("_refunds", []).append(refund["id"])
    charge["amount_refunded"] += amount
    charge["refunded"] = charge["amount_refunded"] >= charge["amount"]
    charge["refunds"]["data"].insert(0, state.render(refund))
    charge["refunds"]["total_count"] = len(charge["_refunds"])
    state.emit("refund.created", refund)
    state.emit("charge.refunded", charge, changed(before, state.snapshot(charge)))
    return refund


def retrieve(state: State, params: dict[str, Any], refund: str) -> dict[str, Any]:
    return state.get(refund, "refund")


def update(state: State, params: dict[str, Any], refund: str) -> dict[str, Any]:
    obj = state.get(refund, "refund")
    before = state.snapshot(obj)
    obj["metadata"] = metadata(params, obj["metadata"])
    state.emit("refund.updated", obj, changed(before, state.snapshot(obj)))
    return obj


def list_(state: State, params: dict[str, Any]) -> dict[str, Any]:
    items = state.of_type("refund")
    for name in ("payment_intent", "charge"):
        if params.get(name):
            items = [r for r in items if r[name] == params[name]]
    return paginate(state, items, params, "/v1/refunds")


def retrieve_charge(state: State, params: dict[str, Any], charge: str) -> dict[str, Any]:
    return state.get(charge, "charge")


def list_charges(state: State, params: dict[str, Any]) -> dict[str, Any]:
    items = state.of_type("charge")
    for name in ("payment_intent", "customer"):
        if params.get(name):
            items = [c for c in items if c[name] == params[name]]
    return paginate(state, items, params, "/v1/charges")


ROUTES = [
    ("POST", r"/v1/refunds", create),
    ("GET", r"/v1/refunds", list_),
    ("GET", r"/v1/refunds/(?P<refund>re_\w+)", retrieve),
    ("POST", r"/v1/refunds/(?P<refund>re_\w+)", update),
    ("GET", r"/v1/charges", list_charges),
    ("GET", r"/v1/charges/(?P<charge>ch_\w+)", retrieve_charge),
]
