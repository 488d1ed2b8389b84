"""Stripe's request schema, derived from the pinned `stripe` SDK: routes and parameter checks.

Nothing here lists a parameter by hand. The SDK's services say which HTTP method and path
each call uses and which `stripe.params` TypedDict describes its parameters (routes.py);
those TypedDicts (generated from Stripe's OpenAPI spec for the pinned API version) give the
names, nesting, lists, enums and required keys (param_checks.py). A new SDK pin moves the
sandbox, and the contract test, to the new API version.

`expand`: each path is checked against the object the endpoint answers with (the service
method's return annotation) and that object's `ExpandableField`s: see expandable.py.

The one hand-written piece is `REMOVED`: a parameter that Stripe removed keeps the specific
error code its changelog names.
"""

from __future__ import annotations

import importlib
import threading
import time
from pathlib import Path
from typing import Any

import stripe

from gateway.sandbox.expandable import Expansions
from gateway.sandbox.param_checks import ParamTypes, Violation, invalid
from gateway.sandbox.routes import Endpoint, read_endpoints

# (HTTP method, SDK path template) -> {removed parameter: (code, message)}.
# https://docs.stripe.com/changelog/endive/2026-09-30/removes-the-payment-method-types-parameter-from-payment-intents-and-setup-intents
# "Passing `payment_method_types` on this API version returns a 400 error with the code
# `payment_method_types_no_longer_supported`" (PaymentIntent create, update and confirm;
# SetupIntent create and update).
_PMT_GONE = ("payment_method_types_no_longer_supported",
             "The payment_method_types parameter is no longer supported on this API version. "
             "Use allowed_payment_method_types to name the payment method types to allow, "
             "excluded_payment_method_types, or dynamic payment methods.")
REMOVED: dict[tuple[str, str], dict[str, tuple[str, str]]] = {
    ("POST", "/v1/payment_intents"): {"payment_method_types": _PMT_GONE},
    ("POST", "/v1/payment_intents/{intent}"): {"payment_method_types": _PMT_GONE},
    ("POST", "/v1/payment_intents/{intent}/confirm"): {"payment_method_types": _PMT_GONE},
    ("POST", "/v1/setup_intents"): {"payment_method_types": _PMT_GONE},
    ("POST", "/v1/setup_intents/{intent}"): {"payment_method_types": _PMT_GONE},
}

# Ranks for sorting violations: the first one is what the API answers with.
_RANK = {"removed": 0, "unknown": 1, "missing": 2, "invalid": 3}


class Schema:
    """The SDK's endpoints and their parameter checks (build once with `schema()`)."""

    def __init__(self, package: Path) -> None:
        started = time.perf_counter()
        self.api_version = stripe.api_version
        self.endpoints: list[Endpoint] = read_endpoints(package)
        self.param_types = ParamTypes()
        self.expansions = Expansions(package)  # read as expand paths are first asked about
        self.build_ms = (time.perf_counter() - started) * 1000

    # -- routes

    def endpoint(self, method: str, path: str) -> Endpoint | None:
        parts = path.removesuffix("/").split("/") if path != "/" else [""]
        if any(part == "" for part in parts[1:]):
            return None
        for endpoint in self.endpoints:
            if endpoint.method == method and endpoint.matches(parts):
                return endpoint
        return None

    def params_type(self, endpoint: Endpoint) -> type | None:
        if endpoint.params_module is None or endpoint.params_class is None:
            return None
        return getattr(importlib.import_module(endpoint.params_module), endpoint.params_class)

    # -- checks

    def violations(self, method: str, path: str, params: dict[str, Any]) -> list[Violation] | None:
        """What Stripe would refuse in this request, first answer first; None when the SDK
        knows no such endpoint."""
        prepared = self.prepare(method, path, params)
        return None if prepared is None else prepared[1]

    def prepare(self, method: str, path: str, params: dict[str, Any]
                ) -> tuple[dict[str, Any], list[Violation]] | None:
        """The request's params as its endpoint reads them (a digit-keyed hash turned into a
        list where the types expect a list) and what Stripe would refuse in them, first
        answer first, `expand[]` paths included; None when the SDK knows no such endpoint."""
        endpoint = self.endpoint(method, path)
        if endpoint is None:
            return None
        removed = REMOVED.get((method, endpoint.template), {})
        out: list[Violation] = []
        rest = {}
        for key, value in params.items():
            if key in removed:
                code, message = removed[key]
                out.append(Violation("removed", key, code, message,
                                     "removed from the pinned API version"))
            else:
                rest[key] = value
        cls = self.params_type(endpoint)
        if cls is None:
            for key in rest:
                out.append(Violation("unknown", key, "parameter_unknown",
                                     f"Received unknown parameter: {key}", "unknown parameter"))
        else:
            node = self.param_types.object_for(cls)
            params = node.shaped(params)
            rest = {key: value for key, value in params.items() if key not in removed}
            node.check(rest, "", out)
            if not out:
                out.extend(self.expand_violations(endpoint, params.get("expand")))
        out.sort(key=lambda v: _RANK[v.kind])  # stable: request order within a kind
        return params, out

    def expand_violations(self, endpoint: Endpoint, expand: Any) -> list[Violation]:
        """Stripe refuses a path its answer cannot expand before it does anything; checked
        against the SDK's resource classes (gateway/sandbox/expandable.py)."""
        if not endpoint.returns or not isinstance(expand, list):
            return []  # an answer the SDK does not model: nothing to check against
        out = []
        for path in expand:
            message = self.expansions.refusal(endpoint.returns, str(path))
            if message is not None:
                out.append(invalid("expand", message, "a path that cannot be expanded"))
        return out


_SCHEMA: Schema | None = None
_SCHEMA_LOCK = threading.Lock()


def schema() -> Schema:
    """The process's one Schema, built on first use (the sandbox builds it when it starts)."""
    global _SCHEMA
    with _SCHEMA_LOCK:
        if _SCHEMA is None:
            _SCHEMA = Schema(Path(stripe.__file__).parent)
        return _SCHEMA

