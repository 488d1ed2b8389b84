"""The factory: with no Stripe key it embeds the sandbox, whose state lives beside the
SQLite database, so a second run (the demo started again) still knows the first run's
customers and payments."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from billing.config import Settings, StripeSettings
from billing.services import build_services, embedded_sandbox_state
from models import Client, InvoicePayment, bind, open_database
from models.demo import DANA_EMAIL, seed_demo
from models.money import Money
from models.schema import upgrade
from tests.billing.conftest import keyed


def _embedded(tmp_path: Path) -> Settings:
    db = tmp_path / "demo.db"
    bound = bind(open_database(str(db)))
    upgrade(bound)
    with bound.connection_context():
        seed_demo()
    return Settings(database_url=str(db), outbox_dir=str(tmp_path / "outbox"), terminal="t",
                    stripe=StripeSettings(api_key=None))


def _pay_inv_1012(services) -> int:
    desk = services.desk
    payer = desk.sign_in_client(DANA_EMAIL, "demo-dana")
    invoice = next(i for i in desk.payable_invoices(payer) if i.number == "INV-1012")
    result = desk.pay(payer, {invoice.invoice_id: Money(10000, "USD")}, keyed())
    assert result.succeeded, result
    return result.transactions[0].invoice_payment_id


def test_the_embedded_sandbox_keeps_its_state_beside_the_database(tmp_path):
    settings = _embedded(tmp_path)
    state = Path(embedded_sandbox_state(settings))
    assert state == tmp_path / "demo.db.stripe-sandbox.json"

    first = build_services(settings)
    try:
        payment_id = _pay_inv_1012(first)
        customer = Client.get(Client.email == DANA_EMAIL).stripe_customer_id
        assert customer and state.exists()
    finally:
        first.close()

    second = build_services(settings)  # a new process would see the same
    try:
        front = second.desk.sign_in_staff("Front Desk", "2468")
        refund = second.desk.refund(front, payment_id, Money(2500, "USD"), "overpaid")
        assert refund.status == "succeeded", refund
        assert InvoicePayment.get_by_id(payment_id).refunded_minor == 2500
        # The saved customer is still known: the same client pays again.
        _pay_inv_1012(second)
        assert Client.get(Client.email == DANA_EMAIL).stripe_customer_id == customer
    finally:
        second.close()


def test_postgresql_or_a_real_stripe_key_keeps_no_sandbox_file(tmp_path):
    settings = _embedded(tmp_path)
    assert embedded_sandbox_state(
        replace(settings, database_url="postgresql://u@h/db")) is None
    real = replace(settings, stripe=StripeSettings(api_key="sk_test_x",
                                                   api_base="http://127.0.0.1:9"))
    services = build_services(real, reconcile_at_start=False)
    try:
        assert services.sandbox is None
    finally:
        services.close()
