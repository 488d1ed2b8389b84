"""End to end over the offline sandbox: a refund made in the "Dashboard" and a dispute
reach the invoice through `read_events` (Stripe's event list, read with the SDK) and
through signed webhook deliveries; Paydesk's own refund is not counted twice."""

from __future__ import annotations

import pytest

from billing.event_sync import read_events
from billing.webhook_server import WebhookServer
from models import Dispute, Invoice, InvoicePayment, Refund, StripeEvent
from models.money import Money
from tests.billing.conftest import full_balances, keyed
from tests.billing.stripe_events import control

SECRET = "whsec_paydesk_sandbox_tests"  # noqa: S105 - a test endpoint's secret


def paid(desk, payer) -> InvoicePayment:
    result = desk.pay(payer, full_balances(["INV-1012"]), keyed())
    assert result.succeeded
    return InvoicePayment.get_by_id(result.transactions[0].invoice_payment_id)


def test_a_dashboard_refund_and_a_dispute_are_read_from_stripes_event_list(
        desk, dana, gateway, sandbox):
    payment = paid(desk, dana)
    invoice_paid = Invoice.get_by_id(payment.invoice_id).paid_minor
    staff = desk.sign_in_staff("Front Desk", "2468")
    desk.refund(staff, payment.id, Money(1000, "USD"), "Client overpaid")
    control(sandbox, "/_sandbox/refunds",
            {"payment_intent": payment.stripe_payment_intent_id, "amount": 2000})
    opened = control(sandbox, "/_sandbox/disputes",
                     {"payment_intent": payment.stripe_payment_intent_id, "amount": 5000})

    first = read_events(gateway)

    assert first.read >= 4 and first.applied == first.read
    refunds = {r.origin: r for r in Refund.select()}
    assert set(refunds) == {"paydesk", "stripe"}  # the desk's own refund counted once
    assert refunds["stripe"].amount_minor == 2000 and refunds["stripe"].staff_id is None
    after = InvoicePayment.get_by_id(payment.id)
    assert after.refunded_minor == 3000
    row = Dispute.get()
    assert (row.stripe_dispute_id, row.withdrawn_minor, row.is_open) == (opened["id"], 5000,
                                                                         True)
    assert Invoice.get_by_id(payment.invoice_id).paid_minor == invoice_paid - 3000 - 5000

    control(sandbox, f"/_sandbox/disputes/{opened['id']}/close", {"outcome": "won"})
    second = read_events(gateway)

    assert second.read >= 1 and StripeEvent.select().count() == first.read + second.read
    assert Dispute.get().status == "won"
    assert Invoice.get_by_id(payment.invoice_id).paid_minor == invoice_paid - 3000
    assert read_events(gateway).read == 0


def test_the_sandboxs_signed_deliveries_are_applied_and_the_poller_adds_nothing(
        desk, dana, gateway, sandbox):
    payment = paid(desk, dana)
    server = WebhookServer("127.0.0.1", 0, secret=SECRET).start()
    try:
        control(sandbox, "/_sandbox/webhooks",
                {"url": f"http://127.0.0.1:{server.port}/", "secret": SECRET})
        before = len(sandbox.events())
        control(sandbox, "/_sandbox/refunds",
                {"payment_intent": payment.stripe_payment_intent_id, "amount": 2000})
        sent = len(sandbox.events()) - before
        deliveries = sandbox.webhook_deliveries(sent, timeout=30)
    finally:
        server.stop()

    assert sent >= 1 and len(deliveries) == sent
    assert all(d.status == 200 for d in deliveries)
    assert StripeEvent.select().where(StripeEvent.source == "webhook").count() >= 1
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 2000
    report = read_events(gateway)
    assert report.applied < report.read  # the refund's event came by webhook first
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 2000


class PowerCut(BaseException):
    """The process stops right after the authorization, as a crash would leave it."""


def test_a_hold_that_lapses_in_the_sandbox_is_released_and_nothing_refunded(
        desk, dana, gateway, sandbox, monkeypatch):
    from billing import checkout as engine
    from gateway.sandbox.holds import HOLD_SECONDS

    def cut(step: str) -> None:
        if step == "authorized":
            raise PowerCut

    monkeypatch.setattr(engine, "crash_point", cut)
    with pytest.raises(PowerCut):
        desk.pay(dana, full_balances(["INV-1012"]), keyed())
    monkeypatch.undo()
    payment = InvoicePayment.select().order_by(InvoicePayment.id.desc()).get()
    # Other money paid the invoice meanwhile: a refund booked here would come off it.
    Invoice.update(paid_minor=payment.amount_minor).where(
        Invoice.id == payment.invoice_id).execute()
    sandbox.advance_clock(HOLD_SECONDS + 3600)

    read_events(gateway)

    assert "refund.created" in [e["type"] for e in sandbox.events()]
    assert InvoicePayment.get_by_id(payment.id).status == "cancelled"
    assert Refund.select().count() == 0
    assert Invoice.get_by_id(payment.invoice_id).paid_minor == payment.amount_minor
    assert StripeEvent.get(StripeEvent.type == "refund.created").outcome == "refund.uncaptured"


def test_an_inquiry_lost_in_the_sandbox_takes_the_money_once(desk, dana, gateway, sandbox):
    payment = paid(desk, dana)
    invoice_paid = Invoice.get_by_id(payment.invoice_id).paid_minor
    opened = control(sandbox, "/_sandbox/disputes",
                     {"payment_intent": payment.stripe_payment_intent_id, "amount": 5000,
                      "inquiry": "true"})
    read_events(gateway)
    assert Invoice.get_by_id(payment.invoice_id).paid_minor == invoice_paid

    control(sandbox, f"/_sandbox/disputes/{opened['id']}/close", {"outcome": "lost"})
    read_events(gateway)

    row = Dispute.get()
    assert (row.status, row.withdrawn_minor, row.is_open) == ("lost", 5000, False)
    assert Invoice.get_by_id(payment.invoice_id).paid_minor == invoice_paid - 5000
