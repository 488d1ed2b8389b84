"""Replays stay safe once Stripe no longer keeps the idempotency key (24 hours).

Each test loses an answer (the sandbox does the work and drops the connection, or fails
with a 500 before doing anything), then moves the sandbox's clock 25 hours (its keys are
pruned: the same key now runs a new request) and reconciles with a clock 25 hours ahead.
Reconciliation reads Stripe back first: nothing is authorized, captured or refunded twice,
a hold that is found is captured or cancelled as its checkout decided, and a request found
nowhere is not sent again blind. Inside the window, the stored request is still replayed.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest

from billing.desk import Desk
from billing.reconcile import NO_TAP, NOT_MADE
from billing.refunds import NEEDS_REVIEW, result_of
from billing.replay import REPLAY_WINDOW
from billing.reserve import reserve
from billing.stripe_requests import authorize_request
from billing.values import ReconcileReport
from gateway import KeyedCard
from gateway.sandbox import Faults
from models import (
    AuditEntry,
    Case,
    Checkout,
    Client,
    Invoice,
    InvoicePayment,
    InvoiceShare,
    Refund,
)
from models.firm import utcnow
from models.money import Money
from tests.billing.conftest import (
    TODAY,
    VISA,
    balances,
    full_balances,
    invoice,
    keyed,
    make_gateway,
    settings_for,
)

DANA = ("dana.whitfield@example.com", "demo-dana")
LATER = dt.timedelta(hours=25)
SOON = dt.timedelta(hours=1)
NUMBERS = ("INV-1001", "INV-1012")
DROP = Faults(drop_rate=1.0)  # the work is done, the answer is lost
FAIL = Faults(error_rate=1.0)  # a 500 before anything is done: the answer is as lost


class LosesAnswers:
    """The real gateway, but from the first call of `operation` on, the sandbox answers
    with `faults` (every call after it as well, until the test clears them)."""

    def __init__(self, gateway, sandbox, operation: str, faults: Faults) -> None:
        self._gateway, self._sandbox = gateway, sandbox
        self._operation, self._faults = operation, faults

    def __getattr__(self, name):
        method = getattr(self._gateway, name)
        if name != self._operation:
            return method

        def lossy(*args, **kwargs):
            self._sandbox.faults = Faults(**vars(self._faults))
            return method(*args, **kwargs)
        return lossy


def lossy_desk(sandbox, tmp_path, operation: str, faults: Faults) -> Desk:
    gateway = LosesAnswers(make_gateway(sandbox.url, retries=0), sandbox, operation, faults)
    return Desk(settings_for("unused", tmp_path, sandbox.url), gateway, clock=lambda: TODAY)


def later(sandbox, tmp_path, by: dt.timedelta) -> Desk:
    """Faults cleared, the sandbox's clock moved `by`, and a desk whose clock is as far
    ahead, to reconcile with."""
    sandbox.faults = Faults()
    sandbox.advance_clock(int(by.total_seconds()))
    return Desk(settings_for("unused", tmp_path, sandbox.url), make_gateway(sandbox.url),
                clock=lambda: utcnow() + by)


def reconcile_fully(desk: Desk) -> ReconcileReport:
    report = desk.reconcile()
    assert report.still_unknown == 0, report
    again = desk.reconcile()
    assert (again.checkouts_settled, again.refunds_settled, again.still_unknown) == (0, 0, 0)
    return report


def intents_per_payment(sandbox) -> Counter:
    return Counter(pi["metadata"]["paydesk_invoice_payment"]
                   for pi in sandbox.objects("payment_intent"))


def payment_ids(checkout_id: int) -> list[str]:
    return [str(p.id) for p in
            InvoicePayment.select().where(InvoicePayment.checkout == checkout_id)]


def charges_by_intent(sandbox) -> dict[str, dict]:
    return {c["payment_intent"]: c for c in sandbox.objects("charge")}


def pay_verifying(desk: Desk):
    result = desk.pay(desk.sign_in_client(*DANA), full_balances(NUMBERS), keyed())
    assert result.status == "verifying", result
    return result


def test_the_window_is_inside_stripes_24_hours():
    assert dt.timedelta(hours=20) <= REPLAY_WINDOW < dt.timedelta(hours=24)
    assert LATER > dt.timedelta(hours=24) and SOON < REPLAY_WINDOW


# -- a lost authorization answer ----------------------------------------------------------
def test_a_hold_whose_answer_was_lost_is_found_after_25_hours_and_released_not_made_again(
        demo_db, sandbox, tmp_path):
    before = balances()
    result = pay_verifying(lossy_desk(sandbox, tmp_path, "authorize", DROP))
    assert sandbox.fault_counts["dropped"] >= 2  # both authorizations' answers were lost
    mine = payment_ids(result.checkout_id)
    assert intents_per_payment(sandbox) == Counter(mine)  # the holds exist at Stripe

    reconcile_fully(later(sandbox, tmp_path, LATER))

    # No second authorization: still exactly one PaymentIntent per invoice payment, and the
    # checkout never decided to capture, so the holds it found were released.
    assert intents_per_payment(sandbox) == Counter(mine)
    intents = sandbox.objects("payment_intent")
    assert {pi["status"] for pi in intents} == {"canceled"}
    assert {pi["cancellation_reason"] for pi in intents} == {None}  # released by Paydesk, not lapsed
    assert all(c["amount_captured"] == 0 for c in sandbox.objects("charge"))
    assert balances() == before
    assert Checkout.get_by_id(result.checkout_id).status == "failed"
    assert {p.stripe_payment_intent_id for p in InvoicePayment.select().where(
        InvoicePayment.checkout == result.checkout_id)} == {pi["id"] for pi in intents}
    # The test is honest: Stripe no longer keeps the key, so replaying the stored request
    # (what reconciliation did before it read back) makes a second PaymentIntent.
    checkout = Checkout.get_by_id(result.checkout_id)
    replayed = make_gateway(sandbox.url).authorize(
        **authorize_request(checkout, InvoicePayment.get_by_id(int(mine[0]))))
    assert replayed.id not in {pi["id"] for pi in intents}


def test_an_authorization_never_made_is_settled_as_not_made_after_25_hours(
        demo_db, sandbox, tmp_path):
    before = balances()
    result = pay_verifying(lossy_desk(sandbox, tmp_path, "authorize", FAIL))
    assert sandbox.fault_counts["server_error"] >= 2
    assert sandbox.count("payment_intent") == 0

    reconcile_fully(later(sandbox, tmp_path, LATER))

    assert sandbox.count("payment_intent") == 0  # never sent again
    payments = list(InvoicePayment.select().where(
        InvoicePayment.checkout == result.checkout_id))
    assert {p.status for p in payments} == {"cancelled"}
    assert {p.failure_message for p in payments} == {NOT_MADE}
    checkout = Checkout.get_by_id(result.checkout_id)
    assert checkout.status == "failed"
    assert "Nothing was charged" in checkout.failure_message
    assert balances() == before
    assert AuditEntry.select().where(AuditEntry.action == "checkout.fail",
                                     AuditEntry.subject == f"checkout:{checkout.id}").exists()


def test_an_authorization_never_made_is_closed_as_not_made_without_a_new_hold(
        demo_db, sandbox, tmp_path):
    """Inside the key window too: the customer's PaymentIntents are listed at once, so
    nothing there means Stripe never made it. Sending it now would only put a hold on the
    payer's card that reconciliation then releases."""
    before = balances()
    result = pay_verifying(lossy_desk(sandbox, tmp_path, "authorize", FAIL))
    assert sandbox.fault_counts["server_error"] >= 2
    assert sandbox.count("payment_intent") == 0

    reconcile_fully(later(sandbox, tmp_path, SOON))

    assert sandbox.count("payment_intent") == 0
    payments = list(InvoicePayment.select().where(
        InvoicePayment.checkout == result.checkout_id))
    assert {(p.status, p.failure_message) for p in payments} == {("cancelled", NOT_MADE)}
    assert balances() == before


def test_a_second_hold_found_for_one_invoice_payment_is_released(demo_db, sandbox, tmp_path):
    """Should Stripe hold two authorizations for one invoice payment, the first is settled
    as its checkout decided and every other hold is released, not left on the card."""
    result = pay_verifying(lossy_desk(sandbox, tmp_path, "authorize", DROP))
    assert sandbox.fault_counts["dropped"] >= 1
    sandbox.faults = Faults()
    desk = later(sandbox, tmp_path, SOON)
    [first, *_] = sorted(payment_ids(result.checkout_id))
    payment = InvoicePayment.get_by_id(first)
    original = next(pi for pi in sandbox.objects("payment_intent")
                    if pi["metadata"].get("paydesk_invoice_payment") == str(first))
    # A second hold for the same invoice payment, made with its own key.
    desk.gateway.authorize(**{**authorize_request(Checkout.get_by_id(result.checkout_id),
                                                  payment), "idempotency_key": "second-hold"})
    assert sum(pi["metadata"].get("paydesk_invoice_payment") == str(first)
               for pi in sandbox.objects("payment_intent")) == 2

    reconcile_fully(desk)

    mine = [pi for pi in sandbox.objects("payment_intent")
            if pi["metadata"].get("paydesk_invoice_payment") == str(first)]
    assert {pi["status"] for pi in mine} == {"canceled"}
    assert original["id"] in {pi["id"] for pi in mine}


def test_a_reader_tap_found_nowhere_is_not_sent_again_even_inside_the_window(
        demo_db, sandbox, gateway, tmp_path):
    """A payment tapped on the reader (no reusable card) whose PaymentIntent Stripe does
    not have: nothing can be sent again without the card, so it was not made."""
    desk = Desk(settings_for("unused", tmp_path, sandbox.url), gateway, clock=lambda: TODAY)
    dana = desk.sign_in_client(*DANA)
    checkout_id = reserve(dana, full_balances(NUMBERS), method="card_reader",
                                 terminal="test-terminal", today=TODAY.date())
    customer = gateway.find_or_create_customer(client_ref="client-tap", email=DANA[0],
                                               name="Dana", idempotency_key="tap-customer")
    # As the engine leaves it when the process stops while the first tap is awaited (its
    # lease then held by no one).
    Checkout.update(stripe_customer_id=customer, status="authorizing", lease_owner=None,
                    lease_until=None).where(Checkout.id == checkout_id).execute()
    InvoicePayment.update(status="authorizing").where(
        InvoicePayment.checkout == checkout_id).execute()

    reconcile_fully(later(sandbox, tmp_path, dt.timedelta(0)))

    assert sandbox.count("payment_intent") == 0
    payments = list(InvoicePayment.select().where(InvoicePayment.checkout == checkout_id))
    assert {(p.status, p.failure_message) for p in payments} == {("cancelled", NO_TAP)}
    assert Checkout.get_by_id(checkout_id).status == "failed"


# -- a lost capture answer ----------------------------------------------------------------
def test_a_capture_whose_answer_was_lost_is_recorded_after_25_hours_not_captured_again(
        demo_db, sandbox, tmp_path):
    result = pay_verifying(lossy_desk(sandbox, tmp_path, "capture", DROP))
    assert sandbox.fault_counts["dropped"] >= 2
    assert {pi["status"] for pi in sandbox.objects("payment_intent")} == {"succeeded"}
    assert all(invoice(n).paid_minor == 0 for n in NUMBERS)

    reconcile_fully(later(sandbox, tmp_path, LATER))

    mine = payment_ids(result.checkout_id)
    assert intents_per_payment(sandbox) == Counter(mine)
    charges = charges_by_intent(sandbox)
    assert len(charges) == len(mine) == sandbox.count("charge")
    for p in InvoicePayment.select().where(InvoicePayment.checkout == result.checkout_id):
        # Captured once, for its amount, and recorded once.
        assert p.status == "captured"
        assert charges[p.stripe_payment_intent_id]["amount_captured"] == p.amount_minor
        assert p.stripe_charge_id == charges[p.stripe_payment_intent_id]["id"]
    assert balances(NUMBERS) == dict.fromkeys(NUMBERS, 0)
    assert Checkout.get_by_id(result.checkout_id).status == "succeeded"
    assert AuditEntry.select().where(AuditEntry.action == "payment.capture").count() == 2


def test_a_hold_decided_for_capture_is_captured_after_25_hours(demo_db, sandbox, tmp_path):
    result = pay_verifying(lossy_desk(sandbox, tmp_path, "capture", FAIL))
    assert sandbox.fault_counts["server_error"] >= 2
    assert {pi["status"] for pi in sandbox.objects("payment_intent")} == {"requires_capture"}

    reconcile_fully(later(sandbox, tmp_path, LATER))

    # The checkout had decided to capture: the holds found (within their 7 days) are
    # captured, once each, and recorded.
    mine = payment_ids(result.checkout_id)
    assert intents_per_payment(sandbox) == Counter(mine)
    assert {pi["status"] for pi in sandbox.objects("payment_intent")} == {"succeeded"}
    charges = charges_by_intent(sandbox)
    for p in InvoicePayment.select().where(InvoicePayment.checkout == result.checkout_id):
        assert p.status == "captured"
        assert charges[p.stripe_payment_intent_id]["amount_captured"] == p.amount_minor
    assert balances(NUMBERS) == dict.fromkeys(NUMBERS, 0)
    assert Checkout.get_by_id(result.checkout_id).status == "succeeded"


def test_a_hold_that_lapsed_before_its_capture_is_not_charged(demo_db, sandbox, tmp_path):
    before = balances()
    result = pay_verifying(lossy_desk(sandbox, tmp_path, "capture", FAIL))
    assert sandbox.fault_counts["server_error"] >= 2

    reconcile_fully(later(sandbox, tmp_path, dt.timedelta(days=8)))

    intents = sandbox.objects("payment_intent")
    assert intents_per_payment(sandbox) == Counter(payment_ids(result.checkout_id))
    assert {(pi["status"], pi["cancellation_reason"]) for pi in intents} == {
        ("canceled", "automatic")}
    assert all(c["amount_captured"] == 0 for c in sandbox.objects("charge"))
    assert {p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout == result.checkout_id)} == {"failed"}
    assert Checkout.get_by_id(result.checkout_id).status == "failed"
    assert balances() == before


def test_a_release_whose_answer_was_lost_is_read_back_after_25_hours(demo_db, sandbox,
                                                                      tmp_path):
    """One authorization fails, so the others are cancelled; those answers are lost. After
    25 hours the cancels run anew at Stripe, are refused (already cancelled), and the
    PaymentIntents are read back: released, nothing charged."""
    dana = Client.get(Client.email == DANA[0])
    huge = Invoice.create(firm=dana.firm, case=Case.get(Case.number == "WHI-2025-021"),
                          client=dana, number="INV-1099", issue_date=dt.date(2026, 9, 20),
                          due_date=dt.date(2026, 10, 20), status="issued", currency="USD",
                          total_minor=150_000_000)  # above what Stripe takes in one charge
    InvoiceShare.create(invoice=huge, channel="email", recipient=dana.email)
    before = balances()
    desk = lossy_desk(sandbox, tmp_path, "cancel", DROP)
    result = desk.pay(desk.sign_in_client(*DANA), full_balances((*NUMBERS, "INV-1099")),
                      keyed())
    assert result.status == "verifying", result
    assert sandbox.fault_counts["dropped"] >= 2
    holds = sandbox.objects("payment_intent")
    assert len(holds) == 2 and {pi["status"] for pi in holds} == {"canceled"}

    reconcile_fully(later(sandbox, tmp_path, LATER))

    assert [pi["id"] for pi in sandbox.objects("payment_intent")] == [pi["id"] for pi in holds]
    assert {pi["status"] for pi in sandbox.objects("payment_intent")} == {"canceled"}
    assert all(c["amount_captured"] == 0 for c in sandbox.objects("charge"))
    statuses = {p.invoice.number: p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout == result.checkout_id)}
    assert statuses == {"INV-1001": "cancelled", "INV-1012": "cancelled", "INV-1099": "failed"}
    assert Checkout.get_by_id(result.checkout_id).status == "failed"
    assert balances() == before


# -- a lost refund answer -----------------------------------------------------------------
def _refund_verifying(sandbox, tmp_path, faults: Faults):
    desk = lossy_desk(sandbox, tmp_path, "refund", faults)
    paid = desk.pay(desk.sign_in_client(*DANA), full_balances(("INV-1001",)), keyed())
    assert paid.succeeded, paid
    staff = desk.sign_in_staff("Front Desk", "2468")
    result = desk.refund(staff, paid.transactions[0].invoice_payment_id, Money(50000, "USD"),
                         "goodwill")
    assert result.status == "verifying", result
    return desk, staff, paid, result


def test_a_refund_whose_answer_was_lost_is_recorded_after_25_hours_not_made_again(
        demo_db, sandbox, tmp_path):
    _, _, paid, result = _refund_verifying(sandbox, tmp_path, DROP)
    assert sandbox.fault_counts["dropped"] >= 1
    assert sandbox.count("refund") == 1
    assert invoice("INV-1001").paid_minor == 125000

    reconcile_fully(later(sandbox, tmp_path, LATER))

    assert sandbox.count("refund") == 1  # no second refund
    [stripe_refund] = sandbox.objects("refund")
    assert stripe_refund["metadata"]["paydesk_refund"] == str(result.refund_id)
    refund = Refund.get_by_id(result.refund_id)
    assert (refund.status, refund.stripe_refund_id) == ("succeeded", stripe_refund["id"])
    [charge] = sandbox.objects("charge")
    assert charge["amount_refunded"] == 50000
    assert invoice("INV-1001").paid_minor == 75000
    assert InvoicePayment.get_by_id(paid.transactions[0].invoice_payment_id
                                    ).refunded_minor == 50000


def test_a_refund_never_made_is_marked_for_review_after_25_hours(demo_db, sandbox, tmp_path):
    desk, staff, paid, result = _refund_verifying(sandbox, tmp_path, FAIL)
    assert sandbox.fault_counts["server_error"] >= 1
    assert sandbox.count("refund") == 0

    report = reconcile_fully(later(sandbox, tmp_path, LATER))

    assert sandbox.count("refund") == 0  # never sent again
    assert report.notes == (f"refund {result.refund_id}: {NEEDS_REVIEW}",)
    refund = Refund.get_by_id(result.refund_id)
    assert (refund.status, refund.failure_message) == ("failed", NEEDS_REVIEW)
    assert result_of(result.refund_id).message == NEEDS_REVIEW  # what the staff member sees
    entry = AuditEntry.select().where(AuditEntry.action == "refund",
                                      AuditEntry.result == "needs_review").get()
    assert entry.subject == "invoice:INV-1001" and f"refund:{refund.id}" in entry.details
    assert invoice("INV-1001").paid_minor == 125000
    # Reviewed, the refund is still due: a staff member refunds it again, once.
    sandbox.faults = Faults()
    again = Desk(settings_for("unused", tmp_path, sandbox.url), make_gateway(sandbox.url)
                 ).refund(staff, paid.transactions[0].invoice_payment_id, Money(50000, "USD"),
                          "goodwill, after review")
    assert again.status == "succeeded"
    assert sandbox.count("refund") == 1
    assert invoice("INV-1001").paid_minor == 75000


def test_a_refund_never_made_is_still_replayed_inside_the_window(demo_db, sandbox, tmp_path):
    _, _, _, result = _refund_verifying(sandbox, tmp_path, FAIL)
    assert sandbox.fault_counts["server_error"] >= 1
    assert sandbox.count("refund") == 0

    reconcile_fully(later(sandbox, tmp_path, SOON))

    assert sandbox.count("refund") == 1
    assert Refund.get_by_id(result.refund_id).status == "succeeded"
    assert invoice("INV-1001").paid_minor == 75000


@pytest.mark.parametrize(("hours", "inside"), [(22, True), (24, False)])
def test_the_window_is_measured_from_when_the_refund_was_first_sent(
        demo_db, sandbox, tmp_path, hours, inside):
    _, _, _, result = _refund_verifying(sandbox, tmp_path, FAIL)
    reconcile_fully(later(sandbox, tmp_path, dt.timedelta(hours=hours)))
    assert sandbox.count("refund") == (1 if inside else 0)
    assert Refund.get_by_id(result.refund_id).status == ("succeeded" if inside else "failed")


# -- the gateway's read-back ---------------------------------------------------------------
def test_reading_back_pages_through_every_match_and_only_matches(gateway, sandbox):
    customer = gateway.find_or_create_customer(client_ref="read-back", email="rb@example.com",
                                               name="Read Back", idempotency_key="rb-customer")
    card = gateway.card_from_keyed_entry(KeyedCard(VISA, 12, 2034, "123"),
                                         customer_id=customer, idempotency_key="rb-card")
    since = sandbox.now() - 60

    def hold(n: int, batch: str, amount: int = 500):
        return gateway.authorize(
            amount=amount, currency="usd", payment_method_id=card.payment_method_id,
            customer_id=customer, metadata={"batch": batch, "n": str(n)},
            statement_descriptor_suffix="READ BACK", description="read back",
            idempotency_key=f"rb-{batch}-{n}")

    mine = {hold(n, "mine").id for n in range(103)}  # more than one page of 100
    other = hold(0, "other")
    found = gateway.payment_intents_of_customer(customer, created_since=since,
                                                metadata={"batch": "mine"})
    assert {pi.id for pi in found} == mine and len(found) == 103
    assert [pi.id for pi in gateway.payment_intents_of_customer(
        customer, created_since=since, metadata={"batch": "other", "n": "0"})] == [other.id]
    assert gateway.payment_intents_of_customer(customer, created_since=sandbox.now() + 3600,
                                               metadata={"batch": "mine"}) == []

    big = hold(0, "refunded", amount=20_000)
    gateway.capture(big.id, idempotency_key="rb-capture")
    made = {gateway.refund(big.id, amount=100, idempotency_key=f"rb-refund-{n}",
                           metadata={"paydesk_refund": str(n % 2)}).id for n in range(103)}
    refunds = gateway.refunds_of_payment_intent(big.id, metadata={"paydesk_refund": "1"})
    assert len(refunds) == 51 and {r.id for r in refunds} < made
    assert all(r.metadata["paydesk_refund"] == "1" for r in refunds)
    assert len(gateway.refunds_of_payment_intent(big.id, metadata={})) == 103
    assert gateway.refunds_of_payment_intent(other.id, metadata={}) == []
