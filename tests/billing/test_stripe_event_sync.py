"""Reading Stripe's events forward from the stored cursor: in order, each event with its
cursor in one transaction, resuming after a stop where it stopped; and the poller."""

from __future__ import annotations

import threading

import pytest

from billing import event_refunds, events
from billing.event_sync import EventPoller, cursor_key, read_events
from billing.events import apply_event, stored_cursor
from models import InvoicePayment, Refund, StripeEvent
from tests.billing.conftest import full_balances, keyed
from tests.billing.stripe_events import FakeEventList, event, example, refund

WAIT = 30.0


def paid(desk, payer) -> InvoicePayment:
    result = desk.pay(payer, full_balances(["INV-1012"]), keyed())
    assert result.succeeded
    return InvoicePayment.get_by_id(result.transactions[0].invoice_payment_id)


def refunds_of(payment: InvoicePayment, *amounts: int) -> list[dict]:
    return [event("refund.created", refund(payment.stripe_payment_intent_id, amount))
            for amount in amounts]


def noise(count: int) -> list[dict]:
    """Events of a type Paydesk reads, about another integration's payments."""
    return [event("payment_intent.succeeded", example("payment_intent"))
            for _ in range(count)]


def test_the_first_sync_reads_every_event_oldest_first_over_pages(desk, dana, monkeypatch):
    monkeypatch.setattr("billing.event_sync.PAGE_SIZE", 2)
    payment = paid(desk, dana)
    stripe = FakeEventList([*noise(2), *refunds_of(payment, 1000, 2000), *noise(1)])
    order: list[str] = []
    real = events.HANDLERS["refund.created"]
    monkeypatch.setitem(events.HANDLERS, "refund.created",
                        lambda obj, ctx: order.append(ctx.event_id) or real(obj, ctx))

    report = read_events(stripe)

    assert (report.read, report.applied) == (5, 5)
    assert order == [e["id"] for e in stripe.events[2:4]]  # oldest first
    assert report.cursor == stripe.events[-1]["id"] == stored_cursor(cursor_key(stripe))
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 3000
    assert StripeEvent.select().count() == 5


def test_a_sync_reads_forward_from_the_cursor_with_ending_before(desk, dana, monkeypatch):
    monkeypatch.setattr("billing.event_sync.PAGE_SIZE", 2)
    payment = paid(desk, dana)
    stripe = FakeEventList(noise(3))
    read_events(stripe)
    stripe.events += [*refunds_of(payment, 1000), *noise(2), *refunds_of(payment, 500)]
    stripe.calls.clear()

    report = read_events(stripe)

    assert (report.read, report.applied) == (4, 4)
    assert stripe.calls[0]["ending_before"] == stripe.events[2]["id"]
    assert all(call["starting_after"] is None for call in stripe.calls)
    assert stored_cursor(cursor_key(stripe)) == stripe.events[-1]["id"]
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 1500
    assert read_events(stripe).read == 0  # nothing new: nothing read


def test_a_sync_stopped_midway_resumes_where_it_stopped(desk, dana, monkeypatch):
    payment = paid(desk, dana)
    stripe = FakeEventList([*noise(1), *refunds_of(payment, 1000, 2000, 4000)])
    failing = stripe.events[2]["id"]  # the refund of 2000
    real = event_refunds.apply_refund

    def fails_once(obj, ctx):
        if ctx.event_id == failing:
            raise ConnectionError("the database went away")
        return real(obj, ctx)

    monkeypatch.setitem(events.HANDLERS, "refund.created", fails_once)
    with pytest.raises(ConnectionError):
        read_events(stripe)
    assert stored_cursor(cursor_key(stripe)) == stripe.events[1]["id"]
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 1000

    monkeypatch.setitem(events.HANDLERS, "refund.created", real)  # a restart
    report = read_events(stripe)

    assert (report.read, report.applied) == (2, 2)
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 7000
    assert Refund.select().count() == 3


def test_events_a_webhook_applied_first_still_move_the_cursor(desk, dana):
    payment = paid(desk, dana)
    stripe = FakeEventList(refunds_of(payment, 1000, 2000))
    apply_event(stripe.events[0], source="webhook")

    report = read_events(stripe)

    assert (report.read, report.applied) == (2, 1)
    assert stored_cursor(cursor_key(stripe)) == stripe.events[1]["id"]
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 3000


def test_the_poller_reads_events_on_its_own_thread_until_stopped(desk, dana):
    payment = paid(desk, dana)
    stripe = FakeEventList(refunds_of(payment, 1000))
    rounds: list[tuple] = []
    second_round = threading.Event()

    def on_round(report, error):
        rounds.append((report, error))
        if len(rounds) == 1:
            stripe.events += refunds_of(payment, 2000)  # arrives between two rounds
        else:
            second_round.set()

    poller = EventPoller(stripe, interval=0.01, on_round=on_round).start()
    try:
        assert second_round.wait(WAIT)
    finally:
        poller.stop()

    assert not poller.running
    assert rounds[0][1] is None and rounds[0][0].applied == 1
    assert rounds[1][0].applied == 1
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 3000


def test_a_failed_poll_round_is_reported_and_the_next_one_tries_again(sqlite_db):
    class Down(FakeEventList):
        def events_page(self, **kwargs):
            raise ConnectionError("Stripe is unreachable")

    errors: list[BaseException | None] = []
    two = threading.Event()

    def on_round(report, error):
        errors.append(error)
        if len(errors) == 2:
            two.set()

    poller = EventPoller(Down(), interval=0.01, on_round=on_round).start()
    try:
        assert two.wait(WAIT)
    finally:
        poller.stop()
    assert all(isinstance(e, ConnectionError) for e in errors[:2])
