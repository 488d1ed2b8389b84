"""Refund events in the cases where Stripe and Paydesk could disagree: a hold released
(no money taken, none given back), a desk refund that failed at the bank after it was
recorded, or that went through while Paydesk still waited, a charge's refund list with
another refund's request key, and a refund recorded meanwhile by another event (SQLite
and PostgreSQL)."""

from __future__ import annotations

import pytest

from billing import checkout as engine
from billing import event_refunds, refunds
from billing.events import apply_event
from models import AuditEntry, Checkout, Invoice, InvoicePayment, OutboundEmail, Refund
from models.money import Money
from tests.billing.conftest import full_balances, keyed
from tests.billing.stripe_events import event, example, refund


def paid(desk, payer) -> InvoicePayment:
    result = desk.pay(payer, full_balances(["INV-1012"]), keyed())
    assert result.succeeded
    return InvoicePayment.get_by_id(result.transactions[0].invoice_payment_id)


class PowerCut(BaseException):
    """The process stops right after the authorization, as a crash would leave it."""


def on_hold(desk, payer, monkeypatch) -> InvoicePayment:
    """A payment authorized and not captured, on an invoice other money has paid (the
    firm counts it paid, say by an earlier payment)."""
    def cut(step: str) -> None:
        if step == "authorized":
            raise PowerCut

    monkeypatch.setattr(engine, "crash_point", cut)
    with pytest.raises(PowerCut):
        desk.pay(payer, full_balances(["INV-1012"]), keyed())
    monkeypatch.undo()
    payment = InvoicePayment.select().order_by(InvoicePayment.id.desc()).get()
    assert payment.status == "authorized"
    Invoice.update(paid_minor=payment.amount_minor).where(
        Invoice.id == payment.invoice_id).execute()
    return payment


def review_entries() -> list[AuditEntry]:
    return list(AuditEntry.select().where((AuditEntry.action == "refund")
                                          & (AuditEntry.result == "needs_review")))


def test_the_refund_stripe_makes_when_a_hold_lapses_gives_nothing_back(desk, dana,
                                                                       monkeypatch):
    payment = on_hold(desk, dana, monkeypatch)
    emails = OutboundEmail.select().count()
    lapsed = refund(payment.stripe_payment_intent_id, payment.amount_minor,
                    reason="expired_uncaptured_charge")

    done = apply_event(event("refund.created", lapsed))

    assert done.outcome == "refund.uncaptured"
    assert Refund.select().count() == 0
    assert Invoice.get_by_id(payment.invoice_id).paid_minor == payment.amount_minor
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 0
    assert OutboundEmail.select().count() == emails


def test_a_refund_of_a_payment_never_captured_gives_nothing_back(desk, dana, monkeypatch):
    # Releasing a hold shows in Stripe as a refund of the uncaptured charge, without
    # Stripe's lapse reason.
    payment = on_hold(desk, dana, monkeypatch)
    released = refund(payment.stripe_payment_intent_id, payment.amount_minor, reason=None)

    assert apply_event(event("refund.created", released)).outcome == "refund.uncaptured"
    assert Refund.select().count() == 0
    assert Invoice.get_by_id(payment.invoice_id).paid_minor == payment.amount_minor


def test_a_lapse_refund_on_a_captured_payment_is_not_booked(desk, dana):
    payment = paid(desk, dana)
    odd = refund(payment.stripe_payment_intent_id, 1000, reason="expired_uncaptured_charge")

    assert apply_event(event("charge.refunded", example(
        "charge", id="ch_odd", payment_intent=payment.stripe_payment_intent_id,
        refunds={"object": "list", "data": [odd], "has_more": False}))).outcome \
        == "refund.uncaptured"
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 0


def test_a_desk_refund_that_fails_at_the_bank_after_it_was_recorded_is_flagged_once(
        desk, dana):
    payment = paid(desk, dana)
    staff = desk.sign_in_staff("Front Desk", "2468")
    ours = Refund.get_by_id(desk.refund(staff, payment.id, Money(5000, "USD"),
                                        "Client overpaid").refund_id)
    assert ours.status == "succeeded" and ours.origin == "paydesk"
    failed = refund(payment.stripe_payment_intent_id, 5000, status="failed",
                    refund_id=ours.stripe_refund_id, failure_reason="expired_or_canceled_card")

    first = apply_event(event("refund.updated", failed))
    second = apply_event(event("refund.failed", failed))

    assert (first.outcome, second.outcome) == ("refund.review", "refund.review")
    [entry] = review_entries()
    assert entry.actor == "stripe" and f"refund:{ours.id} " in entry.details
    assert "failed at the bank" in entry.details
    # Nothing reversed on its own: a person decides what the client is owed.
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 5000


def test_a_desk_refund_stripe_made_while_paydesk_waited_is_recorded(desk, dana):
    payment = paid(desk, dana)
    staff = desk.sign_in_staff("Front Desk", "2468")
    refund_id = refunds.reserve_refund(staff, payment.id, Money(4000, "USD"), "Overpaid",
                                       terminal="desk-1")
    ours = Refund.get_by_id(refund_id)
    assert ours.status == "pending"
    made = refund(payment.stripe_payment_intent_id, 4000, refund_id="re_sent_before_crash")

    done = apply_event(event("refund.created", made, request_key=ours.idempotency_key))

    assert done.outcome == "refund.recorded"
    after = Refund.get_by_id(refund_id)
    assert (after.status, after.stripe_refund_id) == ("succeeded", "re_sent_before_crash")
    assert after.receipt_number
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 4000
    assert Refund.select().count() == 1


def test_a_desk_refund_closed_as_failed_that_stripe_says_succeeded_is_flagged(desk, dana):
    payment = paid(desk, dana)
    staff = desk.sign_in_staff("Front Desk", "2468")
    refund_id = refunds.reserve_refund(staff, payment.id, Money(4000, "USD"), "Overpaid",
                                       terminal="desk-1")
    refunds._fail(refund_id, "no answer from the card processor", terminal="desk-1")
    made = refund(payment.stripe_payment_intent_id, 4000,
                  metadata={"paydesk_refund": str(refund_id)})

    assert apply_event(event("refund.updated", made)).outcome == "refund.review"
    [entry] = review_entries()
    assert "closed here as not refunded" in entry.details
    assert Refund.get_by_id(refund_id).status == "failed"
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 0


def test_a_charges_refund_list_is_not_matched_by_another_refunds_request_key(desk, dana):
    payment = paid(desk, dana)
    staff = desk.sign_in_staff("Front Desk", "2468")
    ours = Refund.get_by_id(desk.refund(staff, payment.id, Money(5000, "USD"),
                                        "Client overpaid").refund_id)
    dashboard = refund(payment.stripe_payment_intent_id, 3000, refund_id="re_dashboard_9")
    desk_one = refund(payment.stripe_payment_intent_id, 5000, refund_id=ours.stripe_refund_id)
    charge = example("charge", id="ch_both", payment_intent=payment.stripe_payment_intent_id,
                     refunds={"object": "list", "data": [dashboard, desk_one],
                              "has_more": False})

    # The desk refund's request caused this charge.refunded: its key is the desk's.
    done = apply_event(event("charge.refunded", charge, request_key=ours.idempotency_key))

    assert done.outcome == "refund"
    made_in_stripe = Refund.get(Refund.stripe_refund_id == "re_dashboard_9")
    assert made_in_stripe.origin == "stripe" and made_in_stripe.amount_minor == 3000
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 8000


def test_a_refund_recorded_meanwhile_by_another_event_is_known_not_an_error(
        desk, dana, monkeypatch):
    """Two events about one refund at once (refund.created by webhook, charge.refunded by
    the poller): the second finds it again once it holds the payment's lock."""
    payment = paid(desk, dana)
    stripe_refund = refund(payment.stripe_payment_intent_id, 2500, refund_id="re_twice")
    real = event_refunds.payment_of

    def the_other_event_first(obj, *, lock=False):
        found = real(obj, lock=lock)
        if lock and not Refund.select().where(Refund.stripe_refund_id == "re_twice").exists():
            # What the other transaction committed while this one waited for the lock.
            row = Refund.create(invoice_payment=found.id, amount_minor=2500,
                                reason="Refunded in Stripe", staff=None,
                                idempotency_key="stripe:re_twice", stripe_refund_id="re_twice",
                                terminal="stripe-events", origin="stripe")
            refunds.record_refund(row.id, "re_twice", terminal="stripe-events")
        return found

    monkeypatch.setattr(event_refunds, "payment_of", the_other_event_first)
    done = apply_event(event("refund.created", stripe_refund))

    assert done.applied and done.outcome == "refund.known"
    assert Refund.select().count() == 1
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 2500


def test_paydesks_own_cancel_seen_before_it_is_recorded_is_not_called_a_lapse(
        desk, dana, monkeypatch):
    payment = on_hold(desk, dana, monkeypatch)
    canceled = example("payment_intent", id=payment.stripe_payment_intent_id,
                       status="canceled", cancellation_reason="requested_by_customer",
                       amount=payment.amount_minor)
    # The checkout releasing its holds: cancelled at Stripe, not yet recorded here.
    Checkout.update(status="cancelling").where(Checkout.id == payment.checkout_id).execute()

    assert apply_event(event("payment_intent.canceled", canceled)).outcome == "ignored"

    Checkout.update(status="authorizing").where(Checkout.id == payment.checkout_id).execute()
    InvoicePayment.update(cancel_key="cancel-key-1").where(
        InvoicePayment.id == payment.id).execute()
    assert apply_event(event("payment_intent.canceled", canceled,
                             request_key="cancel-key-1")).outcome == "ignored"
    assert InvoicePayment.get_by_id(payment.id).status == "authorized"
    assert not AuditEntry.select().where(AuditEntry.action == "payment.release").exists()
