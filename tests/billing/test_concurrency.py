"""Promises 2 and 3 with real processes, on SQLite and PostgreSQL: 8 processes paying the
same invoice at once never overpay it; 2 staff refunding the same payment at once never
refund above what was captured."""

from __future__ import annotations

import pytest

from models import Invoice, InvoicePayment, Refund
from tests.billing.conftest import full_balances, invoice, keyed
from tests.billing.procs import paydesk_at_once

pytestmark = pytest.mark.slow
DANA = "dana.whitfield@example.com"


@pytest.fixture
def shared_demo(database_url, demo_db):
    """The demo firm in a database the child processes open by URL."""
    return database_url


def test_eight_processes_paying_one_invoice_at_once_never_overpay_it(shared_demo, sandbox,
                                                                    tmp_path):
    pay = ["pay", "--client", DANA, "--invoice", "INV-1001=500.00", "--card", "4242424242424242",
           "--exp", "12/34", "--cvc", "123"]
    results = paydesk_at_once([pay] * 8, shared_demo, sandbox.url, tmp_path)

    ok = [r for r in results if r.returncode == 0]
    refused = [r for r in results if r.returncode == 2]
    assert len(ok) == 2, [(r.returncode, r.stderr) for r in results]
    assert len(refused) == 6
    assert all("INV-1001" in r.stderr for r in refused), [r.stderr for r in refused]
    inv = invoice("INV-1001")
    assert inv.paid_minor == 100000 <= inv.total_minor
    captured = [pi for pi in sandbox.objects("payment_intent") if pi["status"] == "succeeded"]
    assert sum(pi["amount_received"] for pi in captured) == 100000
    assert not [pi for pi in sandbox.objects("payment_intent")
                if pi["status"] == "requires_capture"]


@pytest.mark.parametrize("amount", ["800.00", None])
def test_two_staff_refunding_one_payment_at_once_never_refund_above_the_capture(
        shared_demo, sandbox, tmp_path, amount, desk, dana):
    paid = desk.pay(dana, full_balances(["INV-1001"]), keyed())
    assert paid.succeeded
    payment_id = paid.transactions[0].invoice_payment_id
    refund = ["refund", "--invoice-payment", str(payment_id), "--reason", "double billed",
              "--staff", "Front Desk"] + (["--amount", amount] if amount else [])
    results = paydesk_at_once([refund, refund], shared_demo, sandbox.url, tmp_path,
                              extra_env={"PAYDESK_STAFF_PIN": "2468"})

    assert sorted(r.returncode for r in results) == [0, 2], [r.stderr for r in results]
    payment = InvoicePayment.get_by_id(payment_id)
    refunded = 80000 if amount else 125000
    assert payment.refunded_minor == refunded <= payment.amount_minor
    assert Invoice.get_by_id(payment.invoice_id).paid_minor == 125000 - refunded
    stripe_refunds = sandbox.objects("refund")
    assert sum(r["amount"] for r in stripe_refunds) == refunded
    assert Refund.select().where(Refund.status == "succeeded").count() == 1
