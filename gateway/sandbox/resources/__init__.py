"""The sandbox's endpoints: (method, path pattern, handler) for each resource Paydesk uses.

A handler takes the state, the decoded params and the path's named groups, and returns the
object to answer with (rendered with `expand[]` by the server), or raises `ApiError`.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from gateway.sandbox.resources import (
    account,
    bank_debits,
    checkout_sessions,
    customers,
    disputes,
    events,
    payment_intents,
    payment_methods,
    refunds,
    terminal,
)

Handler = Callable[..., dict[str, Any]]

ROUTES: list[tuple[str, re.Pattern[str], Handler]] = [
    (method, re.compile(pattern + r"/?"), handler)
    # bank_debits first: it answers us_bank_account requests and hands the rest on
    for module in (bank_debits, account, checkout_sessions, customers, disputes, events,
                   payment_methods, payment_intents, refunds, terminal)
    for method, pattern, handler in module.ROUTES
]


def route(method: str, path: str) -> tuple[Handler, dict[str, str]] | None:
    """The handler and path groups for a request, or None when no endpoint matches."""
    for verb, pattern, handler in ROUTES:
        if verb == method:
            match = pattern.fullmatch(path)
            if match:
                return handler, match.groupdict()
    return None
