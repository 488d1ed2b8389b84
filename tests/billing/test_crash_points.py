"""Promise 1 of DESIGN.md section 5: the paying process is killed (os._exit, no clean-up)
at each step boundary of the engine; reconciliation then makes Stripe (the sandbox, in its
own process) and the database agree: nothing charged twice, nothing captured unrecorded."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from billing.crash_points import STEPS
from billing.desk import Desk
from models import Case, Checkout, Client, Invoice, InvoicePayment, InvoiceShare
from tests.billing.conftest import DANA_PAYABLE, balances, make_gateway, settings_for
from tests.billing.procs import paydesk, sandbox_objects, sandbox_process

pytestmark = pytest.mark.slow
SUCCESS_STEPS = ("reserved", "customer", "card", "authorizing", "authorize-returned",
                 "authorized", "capturing", "capture-returned", "recorded")
FAILURE_STEPS = ("authorize-returned", "authorized", "cancelling", "cancel-returned")
DANA = "dana.whitfield@example.com"


def test_every_step_of_the_engine_has_a_crash_test():
    assert set(SUCCESS_STEPS) | set(FAILURE_STEPS) == set(STEPS)


class Stripe:
    """The sandbox process shared by this module's tests (one start instead of one per
    test); each test looks only at the PaymentIntents made since it began."""

    def __init__(self, state, url: str) -> None:
        self.state, self.url = state, url
        self.before = {pi["id"] for pi in self.all_intents()}

    def all_intents(self) -> list[dict]:
        return sandbox_objects(self.state, "payment_intent") if self.state.exists() else []

    def intents(self) -> list[dict]:
        return [pi for pi in self.all_intents() if pi["id"] not in self.before]


@pytest.fixture(scope="module")
def sandbox_proc(tmp_path_factory):
    state = tmp_path_factory.mktemp("crash-sandbox") / "sandbox.json"
    with sandbox_process(state) as url:
        yield state, url


@pytest.fixture
def stripe(sandbox_proc) -> Stripe:
    return Stripe(*sandbox_proc)


def assert_stripe_and_database_agree(stripe: Stripe) -> None:
    pis = stripe.intents()
    captured_in_stripe = {pi["id"]: pi for pi in pis if pi["status"] == "succeeded"}
    # Nothing is left holding money at Stripe or in the database.
    assert not [pi["id"] for pi in pis if pi["status"] == "requires_capture"]
    open_payments = InvoicePayment.select().where(
        InvoicePayment.status.not_in(("captured", "recorded", "declined", "cancelled", "failed")))
    assert not list(open_payments)
    assert not Checkout.select().where(
        Checkout.status.not_in(("succeeded", "failed", "cancelled"))).exists()
    recorded = {p.stripe_payment_intent_id: p for p in InvoicePayment.select().where(
        InvoicePayment.status == "captured")}
    assert set(captured_in_stripe) == set(recorded)
    for pi_id, payment in recorded.items():
        assert captured_in_stripe[pi_id]["amount_received"] == payment.amount_minor
    # No invoice payment was charged twice.
    per_payment = Counter(pi["metadata"]["paydesk_invoice_payment"]
                          for pi in captured_in_stripe.values())
    assert all(n == 1 for n in per_payment.values())


def _add_huge_invoice() -> None:
    dana = Client.get(Client.email == DANA)
    inv = Invoice.create(firm=dana.firm, case=Case.get(Case.number == "WHI-2025-021"),
                         client=dana, number="INV-1099", issue_date=dt.date(2026, 9, 20),
                         due_date=dt.date(2026, 10, 20), status="issued", currency="USD",
                         total_minor=150_000_000)
    InvoiceShare.create(invoice=inv, channel="email", recipient=dana.email)


def _crash_then_reconcile(stripe, tmp_path, sqlite_url, step, invoices) -> dict:
    before = balances()
    url = stripe.url
    args = ["pay", "--client", DANA, "--card", "4242424242424242", "--exp", "12/34",
            "--cvc", "123"]
    for number in invoices:
        args += ["--invoice", number]
    crashed = paydesk(sqlite_url, url, tmp_path, *args, crash_at=step)
    assert crashed.returncode == 70, (crashed.stdout, crashed.stderr)
    report = _desk(url, tmp_path).reconcile()
    assert report.still_unknown == 0 and report.checkouts_settled == (step != "recorded"), report
    assert_stripe_and_database_agree(stripe)
    assert _desk(url, tmp_path).reconcile().checkouts_settled == 0
    return before


def _desk(url, tmp_path) -> Desk:
    """Reconciliation runs in this process, on the database the crashed process used."""
    return Desk(settings_for("unused", tmp_path, url), make_gateway(url))


@pytest.mark.parametrize("step", SUCCESS_STEPS)
def test_a_crash_while_paying_is_settled_by_reconciliation(demo_sqlite, sqlite_url, tmp_path,
                                                            step, stripe):
    numbers = DANA_PAYABLE[:3]
    before = _crash_then_reconcile(stripe, tmp_path, sqlite_url, step, numbers)
    after = balances()
    captured = [pi for pi in stripe.intents() if pi["status"] == "succeeded"]
    if SUCCESS_STEPS.index(step) >= SUCCESS_STEPS.index("capturing"):
        # The decision to capture was stored: every invoice is captured and recorded.
        assert len(captured) == 3
        assert all(after[n] == 0 for n in numbers)
    else:
        # No decision was made: every authorization is released, nothing charged.
        assert captured == []
        assert after == before
    assert {n: after[n] for n in DANA_PAYABLE[3:]} == {n: before[n] for n in DANA_PAYABLE[3:]}


@pytest.mark.parametrize("step", FAILURE_STEPS)
def test_a_crash_while_cancelling_after_a_failed_authorization_charges_nothing(
        demo_sqlite, sqlite_url, tmp_path, step, stripe):
    _add_huge_invoice()
    before = _crash_then_reconcile(
        stripe, tmp_path, sqlite_url, step, (*DANA_PAYABLE[:3], "INV-1099"))
    intents = stripe.intents()
    assert intents  # the authorizations were made, then released
    assert not [pi for pi in intents if pi["status"] == "succeeded"]
    assert balances() == before


def test_after_a_crash_and_reconciliation_the_invoices_can_be_paid(demo_sqlite, sqlite_url,
                                                                   tmp_path, stripe):
    url = stripe.url
    args = ["pay", "--client", DANA, "--card", "4242424242424242", "--exp", "12/34",
            "--cvc", "123", "--invoice", "INV-1001", "--invoice", "INV-1012"]
    assert paydesk(sqlite_url, url, tmp_path, *args, crash_at="authorized").returncode == 70
    assert paydesk(sqlite_url, url, tmp_path, "reconcile").returncode == 0  # the CLI
    paid = paydesk(sqlite_url, url, tmp_path, *args)
    assert paid.returncode == 0, paid.stderr
    assert_stripe_and_database_agree(stripe)
    assert balances()["INV-1001"] == 0 and balances()["INV-1012"] == 0
