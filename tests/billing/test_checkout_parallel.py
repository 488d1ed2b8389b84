"""A checkout of many invoices sends its authorizations together, then its captures together,
over one pool of threads; a 429 on the way is retried under the same idempotency key
(SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import threading
from collections import Counter

from billing.checkout import PARALLEL_CALLS
from billing.desk import Desk
from billing.values import Payer
from gateway import StripeGateway
from gateway.sandbox import Faults
from models import Case, Client, Firm, Invoice, InvoicePayment, InvoiceShare
from models.money import Money
from tests.billing.conftest import TODAY, keyed, make_gateway, settings_for

INVOICES = 20


def client_with_invoices(count: int) -> tuple[Payer, dict[int, Money]]:
    firm = Firm.create(name="Many Invoices LLP", currency="USD",
                       statement_descriptor_prefix="MANYINV")
    client = Client.create(firm=firm, name="Manny Voices", email="manny@example.com")
    case = Case.create(firm=firm, client=client, number="MNY-001", title="Many invoices")
    amounts = {}
    for n in range(count):
        inv = Invoice.create(firm=firm, case=case, client=client, number=f"MNY-{n:03d}",
                             issue_date=dt.date(2026, 9, 1), due_date=dt.date(2026, 10, 1),
                             status="issued", currency="USD", total_minor=5_000 + n * 100)
        InvoiceShare.create(invoice=inv, channel="email", recipient=client.email)
        amounts[inv.id] = Money(inv.total_minor, "USD")
    payer = Payer(kind="client", client_id=client.id, client_name=client.name,
                  email=client.email)
    return payer, amounts


class Overlapping:
    """The real gateway, but each authorize and each capture waits at a barrier until
    `parties` of its kind are in flight at once: fewer at a time and the barrier breaks
    (after its timeout), the call fails, and so does the checkout."""

    def __init__(self, gateway: StripeGateway, parties: int) -> None:
        self._gateway = gateway
        self._barriers = {kind: threading.Barrier(parties, timeout=20)
                          for kind in ("authorize", "capture")}
        self._lock = threading.Lock()
        self.in_flight: Counter[str] = Counter()
        self.most: Counter[str] = Counter()
        self.threads: dict[str, set[int]] = {"authorize": set(), "capture": set()}

    def __getattr__(self, name: str):
        return getattr(self._gateway, name)

    def _meet(self, kind: str) -> None:
        with self._lock:
            self.in_flight[kind] += 1
            self.most[kind] = max(self.most[kind], self.in_flight[kind])
            self.threads[kind].add(threading.get_ident())
        try:
            self._barriers[kind].wait()
        finally:
            with self._lock:
                self.in_flight[kind] -= 1

    def authorize(self, **request):
        self._meet("authorize")
        return self._gateway.authorize(**request)

    def capture(self, payment_intent_id: str, *, idempotency_key: str):
        self._meet("capture")
        return self._gateway.capture(payment_intent_id, idempotency_key=idempotency_key)


def test_twenty_invoices_are_authorized_all_at_once_then_captured_all_at_once(
        db, sandbox, tmp_path):
    assert PARALLEL_CALLS >= INVOICES
    payer, amounts = client_with_invoices(INVOICES)
    gateway = Overlapping(make_gateway(sandbox.url), parties=INVOICES)
    desk = Desk(settings_for("unused", tmp_path, sandbox.url), gateway, clock=lambda: TODAY)

    result = desk.pay(payer, amounts, keyed())

    assert result.succeeded, result.message
    assert len(result.transactions) == INVOICES
    assert gateway.most == Counter(authorize=INVOICES, capture=INVOICES)
    # One pool for the whole run: the captures ran on the threads that authorized.
    assert gateway.threads["capture"] <= gateway.threads["authorize"]
    assert len(gateway.threads["authorize"]) == INVOICES
    captured = [pi for pi in sandbox.objects("payment_intent") if pi["status"] == "succeeded"]
    assert len(captured) == INVOICES


def test_authorizations_refused_with_a_429_are_retried_under_their_own_keys(
        db, sandbox, tmp_path):
    payer, amounts = client_with_invoices(INVOICES)
    # Stripe allows less than this process believes (another process spends the rest):
    # some of the 20 authorizations sent at once are refused with a 429 and sent again.
    base = make_gateway(sandbox.url)
    gateway = StripeGateway(base._client, test_mode=True, rate_limit_retries=8)
    desk = Desk(settings_for("unused", tmp_path, sandbox.url), gateway, clock=lambda: TODAY)
    sandbox.faults = Faults(rate_limit=15)

    result = desk.pay(payer, amounts, keyed())

    assert result.succeeded, result.message
    assert sandbox.fault_counts["rate_limited"] > 0
    payments = list(InvoicePayment.select().where(
        InvoicePayment.checkout == result.checkout_id))
    assert {p.status for p in payments} == {"captured"}
    intents = sandbox.objects("payment_intent")
    # One PaymentIntent per payment, made by the key stored for it: no retry made another.
    assert len(intents) == INVOICES
    assert sorted(pi["metadata"]["paydesk_request"] for pi in intents) == sorted(
        p.authorize_key for p in payments)
    assert {pi["id"] for pi in intents} == {p.stripe_payment_intent_id for p in payments}
    assert {pi["status"] for pi in intents} == {"succeeded"}
