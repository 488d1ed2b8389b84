"""Migration 0008 (Stripe events, disputes, refunds made in Stripe): up, down and up again
on SQLite and PostgreSQL, with the guards the database keeps."""

from __future__ import annotations

import datetime as dt

import peewee
import pytest

from models import Dispute, InvoicePayment, Refund, StripeEvent, bind, database, open_database
from models.schema import _runner, upgrade

NAME = "0008_stripe_events"


def _columns(table: str) -> set[str]:
    return {c.name for c in database.get_columns(table)}


def test_up_down_up(database_url):
    db = bind(open_database(database_url))
    assert NAME in upgrade(db)
    with db.connection_context():
        assert {"stripe_event", "stripe_event_cursor", "stripe_event_failure",
                "dispute"} <= set(db.get_tables())
        assert "reinstated_minor" in _columns("dispute")
        assert "origin" in _columns("refund")
        runner = _runner(db)
        while NAME in {m.name for m in runner.status() if m.applied}:
            runner.down()
        assert not {"stripe_event", "stripe_event_cursor", "stripe_event_failure",
                    "dispute"} & set(db.get_tables())
        assert "origin" not in _columns("refund")
    assert NAME in upgrade(db)
    with db.connection_context():
        assert "origin" in _columns("refund")


def _refund_made_in_stripe() -> Refund:
    payment = InvoicePayment.select().where(InvoicePayment.status == "recorded").first()
    return Refund.create(invoice_payment=payment, amount_minor=100, reason="Refunded in Stripe",
                         staff=None, idempotency_key="stripe:re_1", stripe_refund_id="re_1",
                         terminal="t", origin="stripe")


def test_down_refuses_while_refunds_made_in_stripe_exist(demo_db):
    _refund_made_in_stripe()
    runner = _runner(demo_db)
    while [m.name for m in runner.status() if m.applied][-1] != NAME:
        runner.down()  # the migrations after 0008 first
    with pytest.raises(RuntimeError, match="refunds made in Stripe"):
        runner.down()
    assert "origin" in _columns("refund")


def test_one_event_id_once_and_dispute_amounts_guarded(demo_db):
    at = dt.datetime(2026, 11, 1)
    StripeEvent.create(stripe_event_id="evt_1", type="x", created=at, source="poll",
                       outcome="ignored")
    with pytest.raises(peewee.IntegrityError), database.atomic():
        StripeEvent.create(stripe_event_id="evt_1", type="x", created=at, source="webhook",
                           outcome="ignored")
    with pytest.raises(peewee.IntegrityError), database.atomic():
        StripeEvent.create(stripe_event_id="evt_2", type="x", created=at, source="email",
                           outcome="ignored")
    payment = InvoicePayment.select().first()
    with pytest.raises(peewee.IntegrityError), database.atomic():
        Dispute.create(invoice_payment=payment, stripe_dispute_id="dp_1", amount_minor=100,
                       withdrawn_minor=101, status="needs_response", reason="general")
    with pytest.raises(peewee.IntegrityError), database.atomic():
        Dispute.create(invoice_payment=payment, stripe_dispute_id="dp_2", amount_minor=100,
                       withdrawn_minor=50, reinstated_minor=51, status="won", reason="general")
    with pytest.raises(peewee.IntegrityError), database.atomic():
        Refund.create(invoice_payment=payment, amount_minor=100, reason="r", staff=None,
                      idempotency_key="k", terminal="t", origin="elsewhere")


def test_sqlite_still_refuses_a_fractional_refund_amount(demo_sqlite):
    payment = InvoicePayment.select().first()
    with pytest.raises(peewee.IntegrityError, match="whole minor units"), database.atomic():
        database.execute_sql(
            "INSERT INTO refund (invoice_payment_id, amount_minor, reason, status, "
            "idempotency_key, terminal, created_at, origin) "
            "VALUES (?, 1.5, 'r', 'pending', 'k', 't', '2026-11-01', 'stripe')", (payment.id,))
