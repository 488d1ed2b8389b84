"""Unknown outcomes: never shown as paid or declined; reconciliation settles them with
the stored keys, and nothing is charged or refunded twice."""

from __future__ import annotations

import pytest

from billing.desk import Desk
from gateway.sandbox import Faults
from models import AuditEntry, Checkout, InvoicePayment, OutboundEmail, Refund
from models.money import Money
from tests.billing.conftest import (
    TODAY,
    balances,
    full_balances,
    invoice,
    keyed,
    make_gateway,
    settings_for,
)


class LosesAnswers:
    """The real gateway, but from the first call of `operation` on, every answer is lost
    (the sandbox does the work and drops the connection)."""

    def __init__(self, gateway, sandbox, operation: str) -> None:
        self._gateway, self._sandbox, self._operation = gateway, sandbox, operation

    def __getattr__(self, name):
        method = getattr(self._gateway, name)
        if name != self._operation:
            return method

        def lossy(*args, **kwargs):
            self._sandbox.faults = Faults(drop_rate=1.0)
            return method(*args, **kwargs)
        return lossy


@pytest.fixture
def lossy_desk(demo_db, sandbox, tmp_path, request):
    gateway = LosesAnswers(make_gateway(sandbox.url, retries=0), sandbox, request.param)
    return Desk(settings_for("unused", tmp_path, sandbox.url), gateway, clock=lambda: TODAY)


def _settle(sandbox, tmp_path) -> None:
    sandbox.faults = Faults()
    desk = Desk(settings_for("unused", tmp_path, sandbox.url), make_gateway(sandbox.url))
    report = desk.reconcile()
    assert report.still_unknown == 0, report
    assert desk.reconcile().checkouts_settled + desk.reconcile().refunds_settled == 0


@pytest.mark.parametrize("lossy_desk", ["capture"], indirect=True)
def test_a_lost_capture_answer_shows_verifying_then_reconciliation_records_it(
        lossy_desk, sandbox, tmp_path):
    dana = lossy_desk.sign_in_client("dana.whitfield@example.com", "demo-dana")
    numbers = ("INV-1001", "INV-1012")
    result = lossy_desk.pay(dana, full_balances(numbers), keyed())
    assert result.status == "verifying"
    assert "Do not pay again" in result.message
    assert all(invoice(n).paid_minor == 0 for n in numbers)
    assert OutboundEmail.select().count() == 0
    # The sandbox did capture: the database catches up, once.
    assert sum(pi["status"] == "succeeded" for pi in sandbox.objects("payment_intent")) == 2
    _settle(sandbox, tmp_path)
    assert balances(numbers) == dict.fromkeys(numbers, 0)
    assert Checkout.get_by_id(result.checkout_id).status == "succeeded"
    assert OutboundEmail.select().count() == 1
    assert AuditEntry.select().where(AuditEntry.action == "payment.capture").count() == 2


@pytest.mark.parametrize("lossy_desk", ["authorize"], indirect=True)
def test_a_lost_authorization_answer_is_released_by_reconciliation(lossy_desk, sandbox,
                                                                   tmp_path):
    dana = lossy_desk.sign_in_client("dana.whitfield@example.com", "demo-dana")
    before = balances()
    result = lossy_desk.pay(dana, full_balances(("INV-1001", "INV-1012")), keyed())
    assert result.status == "verifying"
    assert {t.status for t in result.transactions} == {"verifying"}
    _settle(sandbox, tmp_path)
    assert {pi["status"] for pi in sandbox.objects("payment_intent")} == {"canceled"}
    assert balances() == before
    assert Checkout.get_by_id(result.checkout_id).status == "failed"
    assert not InvoicePayment.select().where(InvoicePayment.status == "captured",
                                             InvoicePayment.checkout == result.checkout_id
                                             ).exists()


@pytest.mark.parametrize("lossy_desk", ["refund"], indirect=True)
def test_a_lost_refund_answer_is_recorded_once_by_reconciliation(lossy_desk, sandbox,
                                                                 tmp_path):
    dana = lossy_desk.sign_in_client("dana.whitfield@example.com", "demo-dana")
    staff = lossy_desk.sign_in_staff("Front Desk", "2468")
    paid = lossy_desk.pay(dana, full_balances(("INV-1001",)), keyed())
    assert paid.succeeded
    result = lossy_desk.refund(staff, paid.transactions[0].invoice_payment_id,
                               Money(50000, "USD"), "goodwill")
    assert result.status == "verifying"
    assert invoice("INV-1001").paid_minor == 125000
    # While it is verifying, its amount is held: no second refund above the rest.
    with pytest.raises(Exception, match="more than what is left"):
        lossy_desk.refund(staff, paid.transactions[0].invoice_payment_id,
                          Money(75001, "USD"), "too much")
    _settle(sandbox, tmp_path)
    assert sandbox.count("refund") == 1
    assert Refund.get_by_id(result.refund_id).status == "succeeded"
    assert invoice("INV-1001").paid_minor == 75000
