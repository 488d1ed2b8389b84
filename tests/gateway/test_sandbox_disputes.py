"""What happens outside Paydesk's requests, and how Paydesk hears of it: disputes opened and
closed by the bank (or by Stripe's dispute test cards), refunds made in the Dashboard, and
each event POSTed to a webhook endpoint, signed so that the SDK verifies it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
import stripe

from gateway.sandbox import Sandbox, start_sandbox
from gateway.sandbox.errors import ApiError
from gateway.sandbox.webhooks import WebhookError
from tests.gateway.conftest import make_client
from tests.gateway.test_sandbox_clock import control
from tests.gateway.test_sandbox_events import pay, types_of

SECRET = "whsec_paydeskSandboxTestSecret"


def test_a_dispute_marks_the_charge_withdraws_the_funds_and_is_announced(
        sandbox: Sandbox, client: stripe.StripeClient) -> None:
    pi = pay(client, "dp-pay", amount=5_000)
    dispute = sandbox.open_dispute(pi.id, amount=4_000)
    assert dispute["id"].startswith("dp_") and dispute["status"] == "needs_response"
    assert (dispute["charge"], dispute["payment_intent"]) == (pi.latest_charge, pi.id)
    assert dispute["is_charge_refundable"] is False
    assert [t["amount"] for t in dispute["balance_transactions"]] == [-4_000]
    assert pi.latest_charge is not None
    charge = client.v1.charges.retrieve(str(pi.latest_charge))
    assert charge.disputed is True
    withdrawn, created = sandbox.events()[:2]
    assert (created["type"], withdrawn["type"]) == ("charge.dispute.created",
                                                     "charge.dispute.funds_withdrawn")
    assert created["request"] == {"id": None, "idempotency_key": None}
    # The chargeback's withdrawal is in its created event already, as in Stripe.
    assert [t["amount"] for t in created["data"]["object"]["balance_transactions"]] == [-4_000]
    # The money is gone: Stripe refuses to refund a charged-back payment.
    with pytest.raises(stripe.InvalidRequestError) as refused:
        client.v1.refunds.create(params={"payment_intent": pi.id},
                                 options={"idempotency_key": "dp-refund"})
    assert refused.value.code == "charge_disputed"
    fetched = client.v1.disputes.retrieve(dispute["id"])
    assert (fetched.amount, fetched.reason) == (4_000, "fraudulent")
    listed = client.v1.disputes.list(params={"payment_intent": pi.id})
    assert [d.id for d in listed.data] == [dispute["id"]]


def test_a_dispute_won_gives_the_funds_back_and_one_lost_does_not(
        sandbox: Sandbox, client: stripe.StripeClient) -> None:
    won = sandbox.open_dispute(pay(client, "dp-won").id)
    closed = sandbox.close_dispute(won["id"], "won")
    assert closed["status"] == "won"
    assert [t["amount"] for t in closed["balance_transactions"]] == [-2_000, 2_000]
    reinstated, done = sandbox.events()[:2]
    assert (done["type"], reinstated["type"]) == ("charge.dispute.closed",
                                                   "charge.dispute.funds_reinstated")
    assert done["data"]["previous_attributes"]["status"] == "needs_response"
    # Won, the money is back: the payment can be refunded again.
    assert closed["is_charge_refundable"] is True
    assert sandbox.dashboard_refund(charge=won["charge"])["amount"] == 2_000
    lost = sandbox.open_dispute(pay(client, "dp-lost").id, reason="product_not_received")
    assert sandbox.close_dispute(lost["id"], "lost")["status"] == "lost"
    assert types_of(sandbox.events())[:1] == ["charge.dispute.closed"]
    with pytest.raises(ApiError, match="already closed"):
        sandbox.close_dispute(lost["id"], "won")
    with pytest.raises(ApiError, match="already has a dispute"):
        sandbox.open_dispute(charge=lost["charge"])


def test_an_inquiry_takes_no_money_until_it_is_lost(sandbox: Sandbox,
                                                    client: stripe.StripeClient) -> None:
    inquiry = sandbox.open_dispute(pay(client, "dp-inq").id, inquiry=True)
    assert inquiry["status"] == "warning_needs_response"
    assert inquiry["balance_transactions"] == [] and inquiry["is_charge_refundable"]
    assert sandbox.close_dispute(inquiry["id"], "won")["status"] == "warning_closed"



def test_an_inquiry_lost_escalates_to_a_chargeback_first(sandbox: Sandbox,
                                                        client: stripe.StripeClient) -> None:
    inquiry = sandbox.open_dispute(pay(client, "dp-inq-lost").id, inquiry=True)

    lost = sandbox.close_dispute(inquiry["id"], "lost")

    assert lost["status"] == "lost"
    closed, withdrawn, escalated = sandbox.events()[:3]
    assert types_of([escalated, withdrawn, closed]) == [
        "charge.dispute.updated", "charge.dispute.funds_withdrawn", "charge.dispute.closed"]
    assert escalated["data"]["object"]["status"] == "needs_response"
    assert escalated["data"]["previous_attributes"]["status"] == "warning_needs_response"
    assert escalated["data"]["object"]["payment_method_details"]["card"]["case_type"] == \
        "chargeback"
    assert [t["amount"] for t in withdrawn["data"]["object"]["balance_transactions"]] == [
        -2_000]
    assert closed["data"]["previous_attributes"]["status"] == "needs_response"


def test_evidence_and_closing_through_the_api(sandbox: Sandbox,
                                              client: stripe.StripeClient) -> None:
    first = sandbox.open_dispute(pay(client, "dp-ev-1").id)
    updated = client.v1.disputes.update(first["id"], params={
        "evidence": {"uncategorized_text": "winning_evidence"}, "metadata": {"case": "7"}})
    assert updated.status == "won" and updated.evidence_details.submission_count == 1
    kinds = types_of(sandbox.events())
    assert kinds[:3] == ["charge.dispute.funds_reinstated", "charge.dispute.closed",
                         "charge.dispute.updated"]
    review = sandbox.events("charge.dispute.updated")[0]
    assert review["data"]["object"]["status"] == "under_review"
    assert review["data"]["previous_attributes"]["status"] == "needs_response"

    second = sandbox.open_dispute(pay(client, "dp-ev-2").id)
    assert client.v1.disputes.close(second["id"]).status == "lost"
    with pytest.raises(stripe.InvalidRequestError):
        client.v1.disputes.close(second["id"])


@pytest.mark.parametrize(("card", "reason", "status"), [
    ("pm_card_createDispute", "fraudulent", "needs_response"),
    ("pm_card_createDisputeProductNotReceived", "product_not_received", "needs_response"),
    ("pm_card_createDisputeInquiry", "general", "warning_needs_response"),
])
def test_stripes_dispute_test_cards_are_disputed_once_captured(
        sandbox: Sandbox, client: stripe.StripeClient, card: str, reason: str,
        status: str) -> None:
    held = pay(client, f"dp-card-{card}", manual=True, payment_method=card)
    assert sandbox.objects("dispute") == []  # an authorization is not disputed
    client.v1.payment_intents.capture(held.id, options={"idempotency_key": f"cap-{card}"})
    (dispute,) = sandbox.objects("dispute")
    assert (dispute["reason"], dispute["status"], dispute["payment_intent"]) == (
        reason, status, held.id)
    created = sandbox.events("charge.dispute.created")[0]
    assert created["request"]["id"] is None


def test_the_dispute_card_number_disputes_too(sandbox: Sandbox,
                                              client: stripe.StripeClient) -> None:
    pm = client.v1.payment_methods.create(params={
        "type": "card", "card": {"number": "4000000000000259", "exp_month": 12,
                                 "exp_year": 2034, "cvc": "123"}})
    assert pm.card is not None and pm.card.last4 == "0259"
    pay(client, "dp-number", payment_method=pm.id)
    assert [d["reason"] for d in sandbox.objects("dispute")] == ["fraudulent"]


def test_the_dispute_control_endpoints(sandbox: Sandbox, client: stripe.StripeClient) -> None:
    pi = pay(client, "dp-ctl")
    status, dispute = control(sandbox, "POST", "/_sandbox/disputes",
                              json.dumps({"payment_intent": pi.id, "amount": 500,
                                          "reason": "duplicate"}).encode(),
                              "application/json")
    assert status == 200 and (dispute["amount"], dispute["reason"]) == (500, "duplicate")
    status, body = control(sandbox, "POST", f"/_sandbox/disputes/{dispute['id']}/close",
                           b"outcome=maybe")
    assert status == 400 and "won or lost" in body["error"]["message"]
    status, body = control(sandbox, "POST", f"/_sandbox/disputes/{dispute['id']}/close",
                           b"outcome=lost")
    assert status == 200 and body["status"] == "lost"
    held = pay(client, "dp-ctl-held", manual=True)
    status, body = control(sandbox, "POST", "/_sandbox/disputes",
                           f"payment_intent={held.id}".encode())
    assert status == 400 and "not captured" in body["error"]["message"]
    status, _ = control(sandbox, "GET", "/_sandbox/disputes")
    assert status == 405


def test_a_dashboard_refund_is_announced_without_an_idempotency_key(
        sandbox: Sandbox, client: stripe.StripeClient) -> None:
    pi = pay(client, "dash-pay", amount=3_000)
    refund = sandbox.dashboard_refund(pi.id, amount=1_000)
    assert (refund["amount"], refund["payment_intent"]) == (1_000, pi.id)
    refunded, created = sandbox.events()[:2]
    assert (created["type"], refunded["type"]) == ("refund.created", "charge.refunded")
    for event in (created, refunded):
        assert event["request"]["id"].startswith("req_")
        assert event["request"]["idempotency_key"] is None
    assert refunded["data"]["previous_attributes"]["amount_refunded"] == 0
    assert refunded["data"]["object"]["amount_refunded"] == 1_000
    status, rest = control(sandbox, "POST", "/_sandbox/refunds",
                           f"charge={pi.latest_charge}".encode())
    assert status == 200 and rest["amount"] == 2_000
    status, body = control(sandbox, "POST", "/_sandbox/refunds",
                           f"payment_intent={pi.id}".encode())
    assert status == 400 and body["error"]["code"] == "charge_already_refunded"
    assert client.v1.refunds.list(params={"payment_intent": pi.id}).data[0].id == rest["id"]


# -- webhooks


class _Receiver(BaseHTTPRequestHandler):
    server: _ReceiverServer

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        with self.server.lock:
            self.server.received.append((body, dict(self.headers)))
            status = self.server.answers.pop(0) if self.server.answers else 200
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass


class _ReceiverServer(ThreadingHTTPServer):
    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Receiver)
        self.lock = threading.Lock()
        self.received: list[tuple[bytes, dict[str, str]]] = []
        self.answers: list[int] = []

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server_address[1]}/hooks"


@pytest.fixture
def receiver() -> Iterator[_ReceiverServer]:
    server = _ReceiverServer()
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()


def test_webhooks_are_signed_as_stripe_signs_them(
        receiver: _ReceiverServer) -> None:
    with start_sandbox(webhook_url=receiver.url, webhook_secret=SECRET) as sandbox:
        pi = pay(make_client(sandbox), "wh-pay")
        deliveries = sandbox.webhook_deliveries(3)
        assert [d.status for d in deliveries] == [200, 200, 200]
        with receiver.lock:
            received = list(receiver.received)
        events = [stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"],
                                                 SECRET) for body, headers in received]
        assert [e.type for e in events] == ["payment_intent.created", "charge.succeeded",
                                            "payment_intent.succeeded"]
        assert events[2].data.object["id"] == pi.id
        body, headers = received[0]
        tampered = body.decode().replace('"amount": 2000', '"amount": 1')
        assert tampered != body.decode()
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(tampered, headers["Stripe-Signature"], SECRET)
        with pytest.raises(stripe.SignatureVerificationError):
            stripe.Webhook.construct_event(body.decode(), headers["Stripe-Signature"],
                                           "whsec_anotherSecret")
        # Delivered: nothing is pending any more.
        assert all(e["pending_webhooks"] == 0 for e in sandbox.events())


def test_a_failed_delivery_is_tried_again_and_delivery_can_be_turned_off(
        sandbox: Sandbox, client: stripe.StripeClient, receiver: _ReceiverServer) -> None:
    receiver.answers = [500]
    sandbox._server.webhooks.backoff = 0.01  # Stripe's schedule is hours: a quick one here
    status, view = control(sandbox, "POST", "/_sandbox/webhooks",
                           f"url={receiver.url}&secret={SECRET}".encode())
    assert status == 200 and view == {"url": receiver.url, "deliveries": []}
    pay(client, "wh-retry")
    deliveries = sandbox.webhook_deliveries(4)
    assert [(d.event_type, d.status, d.attempt) for d in deliveries[:2]] == [
        ("payment_intent.created", 500, 1), ("payment_intent.created", 200, 2)]
    status, view = control(sandbox, "GET", "/_sandbox/webhooks")
    assert "secret" not in json.dumps(view) and len(view["deliveries"]) >= 4
    status, view = control(sandbox, "POST", "/_sandbox/webhooks", b"url=")
    assert view["url"] is None
    pay(client, "wh-off")
    assert sandbox.events()[0]["pending_webhooks"] == 0
    with pytest.raises(WebhookError):
        sandbox.set_webhook_endpoint(receiver.url, "sk_test_notASigningSecret")
    status, body = control(sandbox, "POST", "/_sandbox/webhooks", b"url=ftp://x&secret=whsec_1")
    assert status == 400
