"""`paydesk events sync` reads Stripe's events and says how many it applied; a second run
reads none; `paydesk serve-webhooks` will not start without the endpoint's secret."""

from __future__ import annotations

import os
import subprocess
import sys
import time

import pytest

from models import InvoicePayment, Refund, database
from tests.billing.conftest import full_balances, keyed
from tests.billing.stripe_events import control

KEY = "sk_test_paydesk_tests"


def paydesk(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "tui.cli", *args], capture_output=True,
                          text=True, timeout=120, stdin=subprocess.DEVNULL,
                          env={**os.environ, **(env or {})})


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_events_sync_applies_a_dashboard_refund_once(desk, dana, sandbox, tmp_path):
    result = desk.pay(dana, full_balances(["INV-1012"]), keyed())
    payment = InvoicePayment.get_by_id(result.transactions[0].invoice_payment_id)
    made = control(sandbox, "/_sandbox/refunds",
                   {"payment_intent": payment.stripe_payment_intent_id, "amount": 1500})
    assert made["status"] == "succeeded"
    path = database.obj.database
    database.close()  # the command opens the file itself
    args = ("--db", path, "--stripe-api-base", sandbox.url, "events", "sync")
    env = {"STRIPE_API_KEY": KEY, "PAYDESK_OUTBOX_DIR": str(tmp_path / "outbox")}

    first = paydesk(*args, env=env)
    second = paydesk(*args, env=env)

    assert first.returncode == 0, first.stderr
    read = int(first.stdout.split()[1])
    assert read >= 2 and f"applied {read} (0 were applied before)" in first.stdout
    assert second.returncode == 0 and second.stdout.startswith("read 0 events")
    database.connect(reuse_if_open=True)
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 1500
    assert Refund.get().origin == "stripe"


def test_serve_webhooks_needs_the_signing_secret(tmp_path):
    result = paydesk("--db", str(tmp_path / "p.db"), "serve-webhooks",
                     env={"STRIPE_WEBHOOK_SECRET": ""})
    assert result.returncode == 2
    assert "stripe.webhook_secret" in result.stderr and "Traceback" not in result.stderr


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_serve_webhooks_also_reads_stripes_events(desk, dana, sandbox, tmp_path):
    result = desk.pay(dana, full_balances(["INV-1012"]), keyed())
    payment = InvoicePayment.get_by_id(result.transactions[0].invoice_payment_id)
    control(sandbox, "/_sandbox/refunds",
            {"payment_intent": payment.stripe_payment_intent_id, "amount": 1500})
    path = database.obj.database
    database.close()
    env = {**os.environ, "STRIPE_API_KEY": KEY, "STRIPE_WEBHOOK_SECRET": "whsec_test",
           "PAYDESK_OUTBOX_DIR": str(tmp_path / "outbox")}
    server = subprocess.Popen(
        [sys.executable, "-m", "tui.cli", "--db", path, "--stripe-api-base", sandbox.url,
         "serve-webhooks", "--port", "0"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        stdin=subprocess.DEVNULL)
    try:
        first_line = server.stdout.readline()
        assert "reading Stripe's events every 60 s" in first_line, server.stderr.read()
        # The poller's first round runs at start: wait (bounded) for the refund it applies.
        deadline = time.monotonic() + 60
        refunded = 0
        while time.monotonic() < deadline and not refunded:
            with database.connection_context():
                refunded = InvoicePayment.get_by_id(payment.id).refunded_minor
            if not refunded:
                time.sleep(0.1)
    finally:
        server.terminate()
        server.wait(30)
    assert refunded == 1500
    database.connect(reuse_if_open=True)
    assert Refund.get().origin == "stripe"
