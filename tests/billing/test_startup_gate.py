"""Start-up after the first screen: the app's services open only the database at once; the
Stripe gateway, the embedded sandbox and start-up reconciliation come later
(`Services.finish_start`), and a payment started meanwhile waits for reconciliation to finish
before anything is reserved or sent."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from billing import reserve
from billing.config import Settings, StripeSettings
from billing.errors import StripeUnavailable
from billing.services import build_services
from models import Checkout, bind, open_database
from models.demo import DANA_EMAIL, DANA_PASSWORD, seed_demo
from models.money import Money
from models.schema import upgrade
from tests.billing.conftest import keyed

WAIT = 30  # seconds: a bound on waiting for another thread, never a pause


def _demo_settings(tmp_path: Path, **stripe) -> Settings:
    db = tmp_path / "demo.db"
    bound = bind(open_database(str(db)))
    upgrade(bound)
    with bound.connection_context():
        seed_demo()
    bound.close()
    return Settings(database_url=str(db), outbox_dir=str(tmp_path / "outbox"), terminal="t",
                    stripe=StripeSettings(**{"api_key": None, **stripe}))


def test_a_payment_started_before_start_up_reconciliation_waits_for_it(tmp_path, monkeypatch):
    services = build_services(_demo_settings(tmp_path), start_later=True)
    desk = services.desk
    try:
        # Nothing of Stripe yet: the first screen only needs the database.
        assert services.gateway is None and services.sandbox is None
        assert not desk.startup.is_open
        payer = desk.sign_in_client(DANA_EMAIL, DANA_PASSWORD)
        invoice = next(i for i in desk.payable_invoices(payer) if i.number == "INV-1012")

        order: list[str] = []
        reconciling, release = threading.Event(), threading.Event()
        real_reconcile = desk.reconcile_at_start

        def held_reconcile(gateway, **kwargs):
            order.append("reconciliation started")
            reconciling.set()
            assert release.wait(WAIT)
            report = real_reconcile(gateway, **kwargs)
            order.append("reconciliation finished")
            return report

        monkeypatch.setattr(desk, "reconcile_at_start", held_reconcile)
        real_reserve = reserve.reserve

        def recorded_reserve(*args, **kwargs):
            order.append("payment reserved")
            return real_reserve(*args, **kwargs)

        monkeypatch.setattr(reserve, "reserve", recorded_reserve)
        checkouts = Checkout.select().count()
        paying = threading.Event()
        real_wait = desk.startup.wait

        def noted_wait(*args, **kwargs):
            paying.set()  # the payment has reached the gate
            return real_wait(*args, **kwargs)

        monkeypatch.setattr(desk.startup, "wait", noted_wait)

        starting = threading.Thread(target=services.finish_start)
        starting.start()
        assert reconciling.wait(WAIT)
        results = []
        payment = threading.Thread(target=lambda: results.append(
            desk.pay(payer, {invoice.invoice_id: Money(10000, "USD")}, keyed())))
        payment.start()
        assert paying.wait(WAIT)
        # At the gate while reconciliation runs: nothing reserved, no checkout row.
        assert payment.is_alive()
        assert order == ["reconciliation started"]
        assert Checkout.select().count() == checkouts
        release.set()
        starting.join(WAIT)
        payment.join(WAIT)
        assert not payment.is_alive()
        assert order == ["reconciliation started", "reconciliation finished",
                         "payment reserved"]
        assert results and results[0].succeeded, results
        assert services.sandbox is not None and desk.startup.is_open
    finally:
        release.set()
        services.close()


def test_stripe_that_cannot_be_set_up_refuses_payments_in_words(tmp_path, monkeypatch):
    services = build_services(_demo_settings(tmp_path), start_later=True)
    desk = services.desk
    try:
        def no_sandbox(*args, **kwargs):
            raise OSError("no port")

        monkeypatch.setattr("gateway.sandbox.start_sandbox", no_sandbox)
        services.finish_start()
        assert desk.startup.is_open
        payer = desk.sign_in_client(DANA_EMAIL, DANA_PASSWORD)
        invoice = next(i for i in desk.payable_invoices(payer) if i.number == "INV-1012")
        before = Checkout.select().count()
        with pytest.raises(StripeUnavailable, match="Nothing was charged"):
            desk.pay(payer, {invoice.invoice_id: Money(10000, "USD")}, keyed())
        assert Checkout.select().count() == before  # nothing reserved
    finally:
        services.close()


def test_built_at_once_nothing_waits(tmp_path):
    """The command line and the tests build services the old way: ready on return."""
    services = build_services(_demo_settings(tmp_path), reconcile_at_start=False)
    try:
        assert services.desk.startup is None
        assert services.gateway is not None and services.desk.gateway is services.gateway
    finally:
        services.close()
