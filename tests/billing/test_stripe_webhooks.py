"""Stripe's webhook deliveries: a signed, recent delivery is applied once; a bad signature,
a missing one or an old timestamp is refused with 400 and changes nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import urllib.error
import urllib.request
from collections.abc import Iterator

import pytest

from billing.webhook_server import WebhookServer
from models import InvoicePayment, Refund, StripeEvent
from tests.billing.conftest import full_balances, keyed
from tests.billing.stripe_events import event, refund

SECRET = "whsec_paydesk_tests_only"  # noqa: S105 - a test endpoint's secret


def signed(payload: bytes, *, secret: str = SECRET, at: int | None = None) -> str:
    """A Stripe-Signature header, made as Stripe makes it."""
    at = int(time.time()) if at is None else at
    mac = hmac.new(secret.encode(), f"{at}.".encode() + payload, hashlib.sha256).hexdigest()
    return f"t={at},v1={mac}"


def post(server: WebhookServer, payload: bytes, signature: str | None) -> tuple[int, dict]:
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["Stripe-Signature"] = signature
    request = urllib.request.Request(f"http://127.0.0.1:{server.port}/stripe/webhooks",
                                     data=payload, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=30) as answer:  # noqa: S310 - local
            return answer.status, json.loads(answer.read())
    except urllib.error.HTTPError as exc:
        return exc.code, json.loads(exc.read())


@pytest.fixture
def webhooks(demo_db) -> Iterator[WebhookServer]:
    server = WebhookServer("127.0.0.1", 0, secret=SECRET).start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def delivery(desk, dana) -> tuple[InvoicePayment, bytes]:
    result = desk.pay(dana, full_balances(["INV-1012"]), keyed())
    payment = InvoicePayment.get_by_id(result.transactions[0].invoice_payment_id)
    body = event("refund.created", refund(payment.stripe_payment_intent_id, 2500))
    return payment, json.dumps(body).encode()


def test_a_signed_delivery_is_applied_once(webhooks, delivery):
    payment, payload = delivery

    first = post(webhooks, payload, signed(payload))
    again = post(webhooks, payload, signed(payload))  # Stripe delivers again

    assert first == (200, {"received": True, "applied": True})
    assert again == (200, {"received": True, "applied": False})
    assert StripeEvent.get().source == "webhook"
    assert Refund.select().count() == 1
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 2500


@pytest.mark.parametrize(("case", "reason"), [
    ("wrong secret", "does not match"),
    ("body changed", "does not match"),
    ("too old", "too old"),
    ("no signature", "no valid signature"),
    ("garbled header", "no valid signature"),
])
def test_a_delivery_not_signed_by_stripe_lately_is_refused(webhooks, delivery, case, reason):
    payment, payload = delivery
    signature = {
        "wrong secret": signed(payload, secret="whsec_someone_else"),
        "body changed": signed(payload.replace(b"2500", b"2501")),
        "too old": signed(payload, at=int(time.time()) - 301),
        "no signature": None,
        "garbled header": "v1=abc",
    }[case]
    if case == "body changed":
        payload = payload.replace(b"2500", b"9999")

    status, body = post(webhooks, payload, signature)

    assert status == 400 and reason in body["error"]
    assert SECRET not in body["error"]
    assert StripeEvent.select().count() == 0 and Refund.select().count() == 0
    assert InvoicePayment.get_by_id(payment.id).refunded_minor == 0


def test_the_tolerance_is_the_servers_setting(demo_db):
    payload = json.dumps(event("customer.created", {"id": "cus_1", "object": "customer"})
                         ).encode()
    server = WebhookServer("127.0.0.1", 0, secret=SECRET, tolerance=1000).start()
    try:
        status, _ = post(server, payload, signed(payload, at=int(time.time()) - 900))
    finally:
        server.stop()
    assert status == 200 and StripeEvent.get().outcome == "ignored"


def test_an_event_that_fails_to_apply_answers_500_so_stripe_delivers_again(demo_db):
    def broken(event):
        raise RuntimeError("database unreachable")

    payload = json.dumps(event("customer.created", {"id": "cus_1", "object": "customer"})
                         ).encode()
    server = WebhookServer("127.0.0.1", 0, secret=SECRET, apply=broken).start()
    try:
        status, body = post(server, payload, signed(payload))
    finally:
        server.stop()
    assert status == 500 and "database" not in body["error"]


def test_no_secret_no_server():
    with pytest.raises(ValueError, match="webhook_secret"):
        WebhookServer("127.0.0.1", 0, secret="")


def test_the_secret_and_poll_interval_are_settings_and_the_secret_never_shows(tmp_path):
    from billing.config import load_settings

    config = tmp_path / "paydesk.toml"
    config.write_text('[stripe]\nevents_poll_seconds = 15\n', encoding="utf-8")
    settings = load_settings(config, environ={"STRIPE_WEBHOOK_SECRET": SECRET})

    assert settings.stripe.webhook_secret == SECRET
    assert settings.stripe.events_poll_seconds == 15.0
    assert SECRET not in repr(settings)


def test_an_event_that_keeps_failing_is_answered_200_once_set_aside(demo_db, monkeypatch):
    from billing import events
    from billing.events import MAX_TRIES

    def broken(obj, ctx):
        raise RuntimeError("a handler fault")

    monkeypatch.setitem(events.HANDLERS, "charge.dispute.created", broken)
    payload = json.dumps(event("charge.dispute.created", {"id": "dp_1", "object": "dispute"})
                         ).encode()
    server = WebhookServer("127.0.0.1", 0, secret=SECRET).start()
    try:
        statuses = [post(server, payload, signed(payload))[0] for _ in range(MAX_TRIES)]
    finally:
        server.stop()
    assert statuses == [500] * (MAX_TRIES - 1) + [200]
    assert StripeEvent.get().outcome == "failed"
