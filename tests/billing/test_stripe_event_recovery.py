"""Reading events keeps going: a cursor Stripe no longer keeps, another account's cursor,
an event that keeps failing; the poller started for a long-running process; only the
handled types asked for (SQLite and PostgreSQL)."""

from __future__ import annotations

import socket
import threading
import time
from types import SimpleNamespace

import peewee as pw
import pytest

from billing import events, webhook_server
from billing.event_sync import handled_types, read_events, start_event_poller
from billing.events import MAX_TRIES, CursorKey, apply_event, stored_cursor
from models import AuditEntry, InvoicePayment, StripeEvent, StripeEventFailure
from tests.billing.conftest import full_balances, keyed
from tests.billing.stripe_events import FakeEventList, event, example, refund

WAIT = 30.0


def paid(desk, payer) -> InvoicePayment:
    result = desk.pay(payer, full_balances(["INV-1012"]), keyed())
    assert result.succeeded
    return InvoicePayment.get_by_id(result.transactions[0].invoice_payment_id)


def refund_event(payment: InvoicePayment, amount: int, created: int | None = None) -> dict:
    return event("refund.created", refund(payment.stripe_payment_intent_id, amount),
                 created=created)


class Account(FakeEventList):
    def __init__(self, account: str, events=None) -> None:
        super().__init__(events)
        self.account = account

    def account_id(self) -> str:
        return self.account


def reviews(action: str) -> list[AuditEntry]:
    return list(AuditEntry.select().where((AuditEntry.action == action)
                                          & (AuditEntry.result == "needs_review")))


# --- a cursor Stripe no longer keeps ------------------------------------------------------

def test_a_cursor_stripe_no_longer_keeps_reads_again_from_its_time(desk, dana):
    payment = paid(desk, dana)
    now = int(time.time())
    stripe = FakeEventList([refund_event(payment, 1000, created=now - 100)])
    read_events(stripe)
    stripe.events = [refund_event(payment, 200, created=now - 200),  # before: not read
                     refund_event(payment, 300, created=now - 50),
                     refund_event(payment, 400, created=now - 40)]  # the cursor's is gone

    report = read_events(stripe)
    again = read_events(stripe)

    assert report.cursor_lost and (report.read, report.applied) == (2, 2)
    # Read again from the lost cursor's own time (kept with the event it applied).
    assert {c["created_gte"] for c in stripe.calls if c["created_gte"]} == {now - 100}
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 1700
    assert stored_cursor(CursorKey()) == stripe.events[-1]["id"]
    [entry] = reviews("events.sync")
    assert "may have been missed" in entry.details
    assert (again.read, again.cursor_lost) == (0, False)


def test_a_lost_cursor_with_nothing_newer_is_not_reported_every_round(desk, dana):
    payment = paid(desk, dana)
    stripe = FakeEventList([refund_event(payment, 1000)])
    read_events(stripe)
    stripe.events = []

    first = read_events(stripe)
    second = read_events(stripe)

    assert first.cursor_lost and not second.cursor_lost
    assert stored_cursor(CursorKey()) is None
    assert len(reviews("events.sync")) == 1


def test_each_account_reads_from_its_own_cursor(desk, dana):
    payment = paid(desk, dana)
    first = Account("acct_firm_a", [refund_event(payment, 1000)])
    other = Account("acct_firm_b", [event("charge.refunded", example("charge"))])

    read_events(first)
    report = read_events(other)

    assert report.read == 1  # from its start, not after the other account's last event
    assert stored_cursor(CursorKey("acct_firm_a")) == first.events[-1]["id"]
    assert stored_cursor(CursorKey("acct_firm_b")) == other.events[-1]["id"]
    assert other.calls[0]["ending_before"] is None


def test_only_the_types_paydesk_handles_are_asked_for(desk, dana):
    payment = paid(desk, dana)
    stripe = FakeEventList([event("customer.created", example("customer")),
                            refund_event(payment, 1000)])

    report = read_events(stripe)

    kinds = handled_types()
    assert kinds and len(kinds) <= 20 and "refund.created" in kinds
    assert all(call["types"] == kinds for call in stripe.calls)
    assert report.read == 1 and StripeEvent.select().count() == 1


# --- an event that keeps failing ---------------------------------------------------------

def _broken(obj, ctx):
    raise RuntimeError("a handler fault")


def test_an_event_that_keeps_failing_is_set_aside_after_a_few_tries(desk, dana, monkeypatch):
    payment = paid(desk, dana)
    monkeypatch.setitem(events.HANDLERS, "charge.dispute.created", _broken)
    bad = event("charge.dispute.created", example("dispute"))

    for _ in range(MAX_TRIES - 1):
        with pytest.raises(RuntimeError):
            apply_event(bad)
        assert StripeEvent.select().count() == 0
    done = apply_event(bad)
    later = apply_event(bad)

    assert (done.applied, done.outcome) == (True, "failed")
    assert later.outcome == "duplicate"
    assert StripeEvent.get().outcome == "failed"
    assert StripeEventFailure.get().tries == MAX_TRIES
    [entry] = reviews("event")
    assert bad["id"] in entry.subject and "charge.dispute.created" in entry.details
    assert apply_event(refund_event(payment, 500)).outcome == "refund"


def test_a_sync_moves_past_an_event_that_keeps_failing(desk, dana, monkeypatch):
    payment = paid(desk, dana)
    monkeypatch.setitem(events.HANDLERS, "charge.dispute.created", _broken)
    stripe = FakeEventList([refund_event(payment, 1000),
                            event("charge.dispute.created", example("dispute")),
                            refund_event(payment, 2000)])

    for _ in range(MAX_TRIES - 1):
        with pytest.raises(RuntimeError):
            read_events(stripe)
    report = read_events(stripe)

    assert report.cursor == stripe.events[-1]["id"]
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 3000


def test_a_database_failure_is_not_counted_against_the_event(desk, dana, monkeypatch):
    def locked(obj, ctx):
        raise pw.OperationalError("database is locked")

    monkeypatch.setitem(events.HANDLERS, "charge.dispute.created", locked)
    bad = event("charge.dispute.created", example("dispute"))
    for _ in range(MAX_TRIES + 1):
        with pytest.raises(pw.OperationalError):
            apply_event(bad)
    assert StripeEventFailure.select().count() == 0 and StripeEvent.select().count() == 0


# --- the poller in a long-running process -------------------------------------------------

def _services(seconds: float, gateway=None) -> SimpleNamespace:
    return SimpleNamespace(gateway=gateway, settings=SimpleNamespace(
        terminal="desk-1", stripe=SimpleNamespace(events_poll_seconds=seconds)))


def test_the_poller_starts_for_a_process_and_waits_for_its_gateway(desk, dana):
    payment = paid(desk, dana)
    services = _services(0.01)
    applied = threading.Event()
    rounds: list = []

    def on_round(report, error):
        rounds.append((report, error))
        if len(rounds) == 1:  # the gateway is set up after the first round
            services.gateway = FakeEventList([refund_event(payment, 1500)])
        if report is not None and report.applied:
            applied.set()

    poller = start_event_poller(services, on_round=on_round)
    try:
        assert poller is not None and poller.running
        assert applied.wait(WAIT)
    finally:
        poller.stop()
    assert rounds[0][1] is None and rounds[0][0].read == 0
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 1500
    assert not poller.running


def test_no_poller_when_polling_is_turned_off(sqlite_db):
    assert start_event_poller(_services(0, FakeEventList())) is None


# --- the webhook server -------------------------------------------------------------------

def test_the_webhook_server_closes_a_connection_that_sends_nothing(demo_db, monkeypatch):
    assert webhook_server._Handler.timeout == webhook_server.SOCKET_TIMEOUT_SECONDS == 30
    monkeypatch.setattr(webhook_server._Handler, "timeout", 0.2)  # not 30 s in a test
    server = webhook_server.WebhookServer("127.0.0.1", 0, secret="whsec_test").start()
    try:
        with socket.create_connection(("127.0.0.1", server.port), timeout=WAIT) as conn:
            conn.sendall(b"POST / HTTP/1.1\r\n")  # and then nothing
            assert conn.recv(1024) == b""  # closed by the server, not by this timeout
    finally:
        server.stop()
