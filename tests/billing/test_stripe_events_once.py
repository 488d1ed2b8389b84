"""One Stripe event is applied once, even when the poller and a webhook apply it at the
same moment (SQLite and PostgreSQL), and an event whose effects fail leaves no trace."""

from __future__ import annotations

import threading

import pytest

from billing import event_refunds, events
from billing.events import apply_event
from models import AuditEntry, InvoicePayment, Refund, StripeEvent, database, is_postgres
from tests.billing.conftest import full_balances, keyed
from tests.billing.stripe_events import event, refund

WAIT = 30.0


def paid(desk, payer) -> InvoicePayment:
    result = desk.pay(payer, full_balances(["INV-1012"]), keyed())
    assert result.succeeded
    return InvoicePayment.get_by_id(result.transactions[0].invoice_payment_id)


def _second_is_waiting() -> bool:
    """PostgreSQL: whether another transaction waits on a lock (the second insert of the
    same event id waits for the first transaction to end). Asked inside the first one's
    transaction, whose view of the server's activity is kept until cleared."""
    database.execute_sql("SELECT pg_stat_clear_snapshot()")
    return bool(database.execute_sql(
        "SELECT COUNT(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
        "AND query LIKE 'INSERT INTO \"stripe_event\"%%'").fetchone()[0])


def test_two_applies_of_one_event_at_once_apply_it_once(desk, dana, monkeypatch):
    payment = paid(desk, dana)
    same = event("refund.created", refund(payment.stripe_payment_intent_id, 5000))
    first_inside = threading.Event()
    second_started = threading.Event()
    real = event_refunds.apply_refund

    def held_open(obj, ctx):
        # The first apply holds its transaction open (its event id inserted) until the
        # second has started and, on PostgreSQL, is seen waiting on that id.
        first_inside.set()
        assert second_started.wait(WAIT)
        if is_postgres():
            for _ in range(3000):
                if _second_is_waiting():
                    break
                threading.Event().wait(0.01)
            else:
                pytest.fail("the second apply never waited on the first")
        return real(obj, ctx)

    monkeypatch.setitem(events.HANDLERS, "refund.created", held_open)
    results: dict[str, object] = {}

    def run(name: str, source: str, before: threading.Event | None) -> None:
        if before is not None:
            assert before.wait(WAIT)
            second_started.set()
        try:
            with database.connection_context():
                results[name] = apply_event(same, source=source)
        except BaseException as exc:  # noqa: BLE001 - reported below
            results[name] = exc

    threads = [threading.Thread(target=run, args=("poll", "poll", None)),
               threading.Thread(target=run, args=("webhook", "webhook", first_inside))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(WAIT * 2)
    assert not any(t.is_alive() for t in threads)

    for outcome in results.values():
        if isinstance(outcome, BaseException):
            raise outcome
    applied = [r.applied for r in results.values()]
    assert sorted(applied) == [False, True]
    assert results["poll"].applied and results["webhook"].outcome == "duplicate"
    assert StripeEvent.select().count() == 1 and StripeEvent.get().source == "poll"
    assert Refund.select().count() == 1
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 5000
    assert AuditEntry.select().where(AuditEntry.action == "refund").count() == 1


def test_an_event_whose_effects_fail_is_rolled_back_and_applied_next_time(desk, dana,
                                                                          monkeypatch):
    payment = paid(desk, dana)
    same = event("refund.created", refund(payment.stripe_payment_intent_id, 5000))

    def broken(obj, ctx):
        event_refunds.apply_refund(obj, ctx)
        raise RuntimeError("disk full")

    monkeypatch.setitem(events.HANDLERS, "refund.created", broken)
    with pytest.raises(RuntimeError, match="disk full"):
        apply_event(same)
    assert StripeEvent.select().count() == 0 and Refund.select().count() == 0
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 0

    monkeypatch.undo()
    assert apply_event(same).applied
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 5000
