"""/v1/customers: create, retrieve, update, list (by email), search."""

from __future__ import annotations

from typing import Any

from gateway.sandbox import objects
from gateway.sandbox.errors import invalid
from gateway.sandbox.events import changed
from gateway.sandbox.forms import metadata
from gateway.sandbox.listing import paginate, search
from gateway.sandbox.store import State

_FIELDS = ("email", "name", "description", "phone")


def _check_email(params: dict[str, Any]) -> None:
    email = params.get("email")
    if email and ("@" not in email or len(email) > 512):
        raise invalid(f"Invalid email address: {email}", param="email", code="email_invalid")


def create(state: State, params: dict[str, Any]) -> dict[str, Any]:
    _check_email(params)
    prefix = state.new_id("", 8).upper()
    obj = objects.customer(state.new_id("cus_", 14), state.now(), params, metadata(params),
                           prefix)
    state.add(obj)
    state.emit("customer.created", obj)
    return obj


def retrieve(state: State, params: dict[str, Any], customer: str) -> dict[str, Any]:
    return state.get(customer, "customer")


def update(state: State, params: dict[str, Any], customer: str) -> dict[str, Any]:
    obj = state.get(customer, "customer")
    _check_email(params)
    meta = metadata(params, obj["metadata"])
    before = state.snapshot(obj)
    for name in _FIELDS:
        if name in params:
            obj[name] = params[name] or None
    obj["metadata"] = meta
    previous = changed(before, state.snapshot(obj))
    if previous:  # Stripe sends customer.updated only when something changed
        state.emit("customer.updated", obj, previous)
    return obj


def list_(state: State, params: dict[str, Any]) -> dict[str, Any]:
    items = state.of_type("customer")
    if params.get("email"):
        items = [c for c in items if (c["email"] or "") == params["email"]]
    return paginate(state, items, params, "/v1/customers")


def search_(state: State, params: dict[str, Any]) -> dict[str, Any]:
    return search(state, state.of_type("customer"), params, "/v1/customers/search")


ROUTES = [
    ("POST", r"/v1/customers", create),
    ("GET", r"/v1/customers", list_),
    ("GET", r"/v1/customers/search", search_),
    ("GET", r"/v1/customers/(?P<customer>cus_\w+)", retrieve),
    ("POST", r"/v1/customers/(?P<customer>cus_\w+)", update),
]
