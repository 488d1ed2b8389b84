"""A client's first payments made at the same moment, each in a process of its own,
create exactly one Stripe customer, and every payment uses it (SQLite and PostgreSQL)."""

from __future__ import annotations

import threading
import time

import pytest

from models import Checkout, Client
from tests.billing.procs import paydesk_at_once

pytestmark = pytest.mark.slow
DANA = "dana.whitfield@example.com"
PAYERS = 6


class CustomerRequests:
    """Wraps the sandbox: records every customer listing and creation request (the
    creation's idempotency key, when each came and when its answer left), and holds every
    creation back until every payer has looked for the client's customer, so that they
    all find none: the race the test is about, made to happen every time."""

    def __init__(self, sandbox) -> None:
        self._server = sandbox._server
        self._dispatch = self._server.dispatch
        self._lock = threading.Lock()
        self._all_looked = threading.Event()
        self.lists: list[float] = []
        self.creations: list[tuple[str | None, float, float]] = []
        self._server.dispatch = self.dispatch

    def dispatch(self, method, path, params, key):
        began = time.monotonic()
        if (method, path) == ("GET", "/v1/customers"):
            with self._lock:
                self.lists.append(began)
                if len(self.lists) >= PAYERS:
                    self._all_looked.set()
            return self._dispatch(method, path, params, key)
        if (method, path) != ("POST", "/v1/customers"):
            return self._dispatch(method, path, params, key)
        self._all_looked.wait(30)
        try:
            return self._dispatch(method, path, params, key)
        finally:
            with self._lock:
                self.creations.append((key, began, time.monotonic()))

    def restore(self) -> None:
        self._server.dispatch = self._dispatch


def test_parallel_first_payments_of_one_client_make_one_customer(database_url, demo_db,
                                                                 sandbox, tmp_path):
    assert Client.get(Client.email == DANA).stripe_customer_id is None  # a first payment
    before = {c.id for c in Checkout.select(Checkout.id)}
    requests = CustomerRequests(sandbox)
    pay = ["pay", "--client", DANA, "--invoice", "INV-1001=10.00",
           "--card", "4242424242424242", "--exp", "12/34", "--cvc", "123"]
    try:
        # Retries of a request whose key is in use (409) are waited for a little longer.
        results = paydesk_at_once([pay] * PAYERS, database_url, sandbox.url, tmp_path,
                                  extra_env={"PAYDESK_STRIPE_MAX_NETWORK_RETRIES": "6"})
    finally:
        requests.restore()

    assert [r.returncode for r in results] == [0] * PAYERS, [r.stderr for r in results]
    # The overlap happened: every payer looked for the client's customer before the
    # first creation had been answered, so each found none and went on to create one ...
    created = min(end for _, _, end in requests.creations)
    assert len(requests.lists) == PAYERS
    assert all(began < created for began in requests.lists), (requests.lists, created)
    assert len(requests.creations) >= 2, requests.creations
    # ... all under the one key the client claimed, so Stripe made exactly one customer.
    dana = Client.get(Client.email == DANA)
    assert {key for key, _, _ in requests.creations} == {dana.stripe_customer_key}
    customers = sandbox.objects("customer")
    assert len(customers) == 1, [c["id"] for c in customers]
    assert dana.stripe_customer_id == customers[0]["id"]
    checkouts = list(Checkout.select().where(Checkout.id.not_in(before)))
    assert len(checkouts) == PAYERS
    assert {c.stripe_customer_id for c in checkouts} == {dana.stripe_customer_id}
    assert {c.status for c in checkouts} == {"succeeded"}
    intents = sandbox.objects("payment_intent")
    assert len(intents) == PAYERS
    assert {pi["customer"] for pi in intents} == {dana.stripe_customer_id}
