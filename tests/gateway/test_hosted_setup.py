"""A card saved on the payer's own phone: a Checkout Session in setup mode, its hosted page
served by the sandbox, and the gateway's three calls over it."""

from __future__ import annotations

import html
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

import pytest
import stripe

from gateway import StripeGateway
from gateway.errors import InvalidRequest
from gateway.hosted_setup import card_setup_expiry
from gateway.sandbox import Sandbox, start_sandbox
from gateway.values import HostedSetup
from tests.contract_plugin import Recorder
from tests.gateway.conftest import TEST_KEY, api

INVOICES = "Invoice 2026-014: $120.00\nInvoice 2026-015: $35.50 <b>due</b>"
VISA = {"number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123",
        "postal_code": "10001"}


def get(url: str) -> tuple[int, dict[str, str], str]:
    try:
        with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310 - loopback
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read().decode()


def post(url: str, fields: dict[str, str]) -> tuple[int, str]:
    request = urllib.request.Request(  # noqa: S310 - the loopback sandbox
        url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture
def page(gateway: StripeGateway, customer_id: str) -> HostedSetup:
    return gateway.start_card_setup(customer_id=customer_id, currency="USD",
                                    custom_text=INVOICES, idempotency_key="setup-1")


def attached(sandbox: Sandbox, customer_id: str) -> list[dict]:
    return [pm for pm in sandbox.objects("payment_method") if pm["customer"] == customer_id]


# -- creating a session ---------------------------------------------------------------------


@pytest.mark.parametrize(("params", "param", "message"), [
    ({}, "currency", "Missing required param: currency"),
    ({"currency": "usd", "line_items[0][price]": "price_1", "line_items[0][quantity]": "1"},
     "line_items", "`line_items` in `setup` mode"),
    ({"currency": "usd", "saved_payment_method_options[payment_method_save]": "enabled"},
     "saved_payment_method_options", "in `setup` mode"),
    ({"currency": "usd", "expires_at": "+600"}, "expires_at", "at least 30 minutes"),
    ({"currency": "usd", "expires_at": "+90000"}, "expires_at", "less than 24 hours"),
    ({"currency": "usd", "ui_mode": "hosted"}, "ui_mode", "hosted_page"),
    ({"currency": "usd", "custom_text[submit][message]": "x" * 1201},
     "custom_text[submit][message]", "1200"),
    ({"currency": "usd", "success_url": "not a url"}, "success_url", "Not a valid URL"),
    # docs.stripe.com/payments/checkout/custom-fields: "Not available in setup mode".
    ({"currency": "usd", "custom_fields[0][key]": "keep", "custom_fields[0][type]": "dropdown",
      "custom_fields[0][label][type]": "custom", "custom_fields[0][label][custom]": "Keep?"},
     "custom_fields", "`custom_fields` in `setup` mode"),
])
def test_create_refuses_what_stripe_refuses(sandbox: Sandbox, customer_id: str,
                                            params: dict[str, str], param: str,
                                            message: str) -> None:
    sent = {"mode": "setup", "customer": customer_id, **params}
    if str(sent.get("expires_at", "")).startswith("+"):
        sent["expires_at"] = str(sandbox.now() + int(sent["expires_at"][1:]))
    status, _, body = api(sandbox, "POST", "/v1/checkout/sessions", sent)
    assert status == 400, body
    assert body["error"]["param"] == param
    assert message in body["error"]["message"]
    assert sandbox.count("checkout.session") == 0


def test_a_new_page_is_open_for_24_hours_at_the_sandbox(
        sandbox: Sandbox, page: HostedSetup, customer_id: str,
        stripe_contract: Recorder) -> None:
    assert page.status == "open" and page.card is None
    assert page.customer == customer_id
    assert page.url == f"{sandbox.url}/pay/{page.session_id}"
    assert page.session_id.startswith("cs_test_")
    session = sandbox.objects("checkout.session")[0]
    assert page.expires_at == session["created"] + 24 * 3600
    assert session["mode"] == "setup" and session["setup_intent"] is None
    assert session["custom_text"]["submit"] == {"message": INVOICES}
    sent = [c for c in stripe_contract.requests if "/checkout/sessions" in c.path]
    assert [(c.method, c.violations) for c in sent] == [("POST", ())]


def test_a_session_has_the_keys_of_stripes_example(
        sandbox: Sandbox, page: HostedSetup, stripe_examples: dict[str, Any]) -> None:
    _, _, session = api(sandbox, "GET", f"/v1/checkout/sessions/{page.session_id}")
    # Every key of the example, and only keys the pinned SDK's Session knows (it adds
    # `allowed_payment_method_types`, newer than the example).
    assert set(stripe_examples["checkout.session"]) <= set(session)
    assert set(session) <= set(stripe.checkout.Session.__annotations__)


def test_a_lifetime_stripe_refuses_is_refused_before_sending(sandbox: Sandbox) -> None:
    for seconds in (29 * 60, 24 * 3600 + 1):
        with pytest.raises(ValueError, match="31 minutes to 24 hours"):
            card_setup_expiry(seconds, now=sandbox.now())
    assert card_setup_expiry(3600, now=1_000) == 4_600


def test_a_retry_with_the_same_key_gets_the_same_page(
        sandbox: Sandbox, gateway: StripeGateway, customer_id: str) -> None:
    expires_at = card_setup_expiry(3600, now=sandbox.now())
    first, again = (gateway.start_card_setup(customer_id=customer_id, currency="usd",
                                             expires_at=expires_at, custom_text=INVOICES,
                                             idempotency_key="setup-same")
                    for _ in range(2))
    assert first == again and first.expires_at == expires_at
    assert sandbox.count("checkout.session") == 1


def test_a_text_stripe_refuses_is_refused_before_sending(
        sandbox: Sandbox, gateway: StripeGateway, customer_id: str) -> None:
    with pytest.raises(ValueError, match="1200"):
        gateway.start_card_setup(customer_id=customer_id, currency="usd",
                                 custom_text="x" * 1201, idempotency_key="setup-long")
    assert sandbox.count("checkout.session") == 0


# -- the hosted page ------------------------------------------------------------------------


def test_the_page_is_a_plain_form_with_the_custom_text_and_no_secret(
        page: HostedSetup) -> None:
    assert page.url is not None
    status, headers, text = get(page.url)
    assert status == 200
    assert headers["Content-Type"].startswith("text/html")
    for name in ("number", "expiry", "cvc", "postal_code"):
        assert f'name="{name}"' in text
    # Stripe's setup-mode page has no "keep this card on file" box: neither has this one.
    assert 'type="checkbox"' not in text and "on file" not in text
    assert "Invoice 2026-014: $120.00" in text
    assert "&lt;b&gt;due&lt;/b&gt;" in text and "<b>" not in text
    assert "<script" not in text.lower()
    for secret in (TEST_KEY, "sk_test", "_secret_", "seti_"):
        assert secret not in text


def test_a_test_card_completes_the_page_and_saves_the_card_limited(
        sandbox: Sandbox, gateway: StripeGateway, page: HostedSetup,
        customer_id: str) -> None:
    assert page.url is not None
    status, text = post(page.url, VISA)
    assert status == 200 and "Your card has been saved" in text
    assert "4242 4242" not in text.replace("4242 4242 4242 4242.", "")  # only the hint

    done = gateway.hosted_setup_status(page.session_id)
    assert done.status == "complete" and done.url is None
    assert done.card is not None
    assert (done.card.last4, done.card.brand, done.card.customer) == ("4242", "visa",
                                                                      customer_id)
    assert done.card.allow_redisplay == "limited"  # the payer did not tick the box
    [pm] = attached(sandbox, customer_id)
    assert pm["id"] == done.card.payment_method_id
    [seti] = sandbox.objects("setup_intent")
    assert (seti["status"], seti["payment_method"], seti["customer"]) == (
        "succeeded", pm["id"], customer_id)
    kinds = [e["type"] for e in reversed(sandbox.events())
             if e["type"].startswith(("setup_intent", "payment_method", "checkout"))]
    assert kinds == ["setup_intent.created", "payment_method.attached",
                     "setup_intent.succeeded", "checkout.session.completed"]
    [session] = sandbox.objects("checkout.session")
    details = session["customer_details"]
    assert (details["email"], details["address"]["postal_code"]) == ("ada@example.com",
                                                                     "10001")
    completed = sandbox.events("checkout.session.completed")[0]
    assert completed["data"]["object"]["setup_intent"] == seti["id"]
    assert completed["data"]["previous_attributes"]["status"] == "open"
    assert completed["request"] == {"id": None, "idempotency_key": None}  # the payer's


def test_the_sessions_allow_redisplay_is_what_the_card_gets_whatever_is_posted(
        sandbox: Sandbox, gateway: StripeGateway, page: HostedSetup, customer_id: str) -> None:
    assert page.url is not None
    # A field the page does not have (an old form's box) changes nothing, as on Stripe.
    status, _ = post(page.url, {**VISA, "keep_on_file": "yes"})
    assert status == 200
    done = gateway.hosted_setup_status(page.session_id)
    assert done.card is not None and done.card.allow_redisplay == "limited"



def test_a_declined_card_shows_the_message_and_the_page_stays_open(
        sandbox: Sandbox, gateway: StripeGateway, page: HostedSetup,
        customer_id: str) -> None:
    assert page.url is not None
    status, text = post(page.url, {**VISA, "number": "4000000000000002"})
    assert status == 402
    assert "Your card was declined." in text and 'name="number"' in text
    assert "4000000000000002" not in text and 'value="4000' not in text
    assert gateway.hosted_setup_status(page.session_id).status == "open"
    assert attached(sandbox, customer_id) == []
    assert sandbox.events("setup_intent.setup_failed")
    assert not sandbox.events("checkout.session.completed")
    # The payer tries another card on the same page.
    status, _ = post(page.url, VISA)
    assert status == 200
    assert gateway.hosted_setup_status(page.session_id).status == "complete"
    assert len(sandbox.objects("setup_intent")) == 1  # the same SetupIntent, retried


@pytest.mark.parametrize(("fields", "message"), [
    ({"number": "4242424242424241"}, "Your card number is incorrect."),
    ({"number": "4000000000000069"}, "Your card has expired."),
    ({"expiry": "01/20"}, "Your card's expiration year is in the past."),
    ({"cvc": ""}, "Your card's security code is incomplete."),
    ({"postal_code": ""}, "Your ZIP is incomplete."),
])
def test_what_stripes_page_refuses_changes_nothing(
        sandbox: Sandbox, gateway: StripeGateway, page: HostedSetup, customer_id: str,
        fields: dict[str, str], message: str) -> None:
    assert page.url is not None
    status, text = post(page.url, {**VISA, **fields})
    assert status in (400, 402)
    assert message in html.unescape(text)
    assert gateway.hosted_setup_status(page.session_id).status == "open"
    assert attached(sandbox, customer_id) == []


def test_a_complete_page_is_used_once(sandbox: Sandbox, page: HostedSetup,
                                      customer_id: str) -> None:
    assert page.url is not None
    assert post(page.url, VISA)[0] == 200
    status, text = post(page.url, {**VISA, "number": "5555555555554444"})
    assert status == 409 and "only once" in text
    status, _, text = get(page.url)
    assert status == 200 and "<form" not in text
    assert len(attached(sandbox, customer_id)) == 1


def test_a_page_expires_by_the_sandbox_clock(sandbox: Sandbox, gateway: StripeGateway,
                                             customer_id: str) -> None:
    started = gateway.start_card_setup(customer_id=customer_id, currency="usd",
                                       expires_at=card_setup_expiry(3600, sandbox.now()),
                                       idempotency_key="setup-short")
    assert started.url is not None
    sandbox.advance_clock(3500)
    assert gateway.hosted_setup_status(started.session_id).status == "open"
    sandbox.advance_clock(200)
    status, _, text = get(started.url)
    assert status == 200 and "expired" in text and "<form" not in text
    assert post(started.url, VISA)[0] == 409
    assert attached(sandbox, customer_id) == []
    done = gateway.hosted_setup_status(started.session_id)
    assert (done.status, done.url, done.card) == ("expired", None, None)
    [event] = sandbox.events("checkout.session.expired")
    assert event["request"] == {"id": None, "idempotency_key": None}  # the clock's doing
    assert event["data"]["previous_attributes"]["status"] == "open"


def test_expire_card_setup_closes_an_open_page_once(
        sandbox: Sandbox, gateway: StripeGateway, page: HostedSetup) -> None:
    closed = gateway.expire_card_setup(page.session_id, idempotency_key="expire-1")
    assert (closed.status, closed.url) == ("expired", None)
    [event] = sandbox.events("checkout.session.expired")
    assert event["request"]["idempotency_key"] == "expire-1"
    with pytest.raises(InvalidRequest):
        gateway.expire_card_setup(page.session_id, idempotency_key="expire-2")
    assert page.url is not None
    assert post(page.url, VISA)[0] == 409


def test_sessions_are_listed_by_status(sandbox: Sandbox, gateway: StripeGateway,
                                       page: HostedSetup, customer_id: str) -> None:
    other = gateway.start_card_setup(customer_id=customer_id, currency="usd",
                                     idempotency_key="setup-2")
    gateway.expire_card_setup(other.session_id, idempotency_key="expire-2")
    _, _, listed = api(sandbox, "GET", "/v1/checkout/sessions", {"status": "open"})
    assert [s["id"] for s in listed["data"]] == [page.session_id]
    _, _, listed = api(sandbox, "GET", "/v1/checkout/sessions", {"customer": customer_id})
    assert [s["id"] for s in listed["data"]] == [other.session_id, page.session_id]


def test_an_open_page_kept_in_the_state_file_still_expires(tmp_path: Path) -> None:
    state_file = str(tmp_path / "sandbox.json")
    with start_sandbox(state_file=state_file) as first:
        _, _, customer = api(first, "POST", "/v1/customers", {"email": "ada@example.com"})
        _, _, session = api(first, "POST", "/v1/checkout/sessions", {
            "mode": "setup", "customer": customer["id"], "currency": "usd"})
    with start_sandbox(state_file=state_file) as again:
        again.advance_clock(24 * 3600)
        [expired] = again.objects("checkout.session")
        assert (expired["id"], expired["status"]) == (session["id"], "expired")
        assert len(again.events("checkout.session.expired")) == 1


@pytest.mark.parametrize(("answer", "status"), [("complete", "complete"), ("fail", "open")])
def test_a_card_that_asks_for_3d_secure_is_saved_only_once_authenticated(
        sandbox: Sandbox, gateway: StripeGateway, page: HostedSetup, customer_id: str,
        answer: str, status: str) -> None:
    assert page.url is not None
    code, text = post(page.url, {**VISA, "number": "4000002500003155"})
    assert code == 200 and 'value="complete"' in text and 'value="fail"' in text
    [seti] = sandbox.objects("setup_intent")
    assert seti["status"] == "requires_action"
    assert attached(sandbox, customer_id) == []
    assert 'value="fail"' in get(page.url)[2]  # a reload shows the challenge again
    code, text = post(page.url, {"authenticate": answer})
    done = gateway.hosted_setup_status(page.session_id)
    assert done.status == status
    if answer == "complete":
        assert done.card is not None and done.card.last4 == "3155"
        assert len(attached(sandbox, customer_id)) == 1
    else:
        assert code == 402 and "unable to authenticate" in text and 'name="number"' in text
        assert attached(sandbox, customer_id) == []
        [seti] = sandbox.objects("setup_intent")
        assert seti["last_setup_error"]["code"] == "setup_intent_authentication_failure"


def test_a_saved_card_leads_to_the_success_url(sandbox: Sandbox, gateway: StripeGateway,
                                               customer_id: str) -> None:
    started = gateway.start_card_setup(
        customer_id=customer_id, currency="usd", idempotency_key="setup-back",
        success_url="https://paydesk.example/cards/done?session={CHECKOUT_SESSION_ID}",
        cancel_url="https://paydesk.example/cards/back")
    assert started.url is not None
    _, headers, text = get(started.url)
    assert '<a href="https://paydesk.example/cards/back">Back</a>' in text
    assert "form-action 'self' https://paydesk.example;" in headers["Content-Security-Policy"]
    request = urllib.request.Request(  # noqa: S310 - the loopback sandbox
        started.url, data=urllib.parse.urlencode(VISA).encode(), method="POST")
    no_redirects = urllib.request.build_opener(_NoRedirect)
    with pytest.raises(urllib.error.HTTPError) as answer:
        no_redirects.open(request, timeout=5)
    assert answer.value.code == 303
    assert answer.value.headers["Location"] == (
        f"https://paydesk.example/cards/done?session={started.session_id}")
    done = gateway.hosted_setup_status(started.session_id)
    assert done.status == "complete"


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args: Any, **kwargs: Any) -> None:
        return None


def test_sessions_are_listed_by_creation_time(sandbox: Sandbox, gateway: StripeGateway,
                                              page: HostedSetup, customer_id: str) -> None:
    sandbox.advance_clock(600)
    later = gateway.start_card_setup(customer_id=customer_id, currency="usd",
                                     idempotency_key="setup-later")
    _, _, listed = api(sandbox, "GET", "/v1/checkout/sessions",
                       {"created[gte]": str(sandbox.now() - 60)})
    assert [s["id"] for s in listed["data"]] == [later.session_id]
    _, _, listed = api(sandbox, "GET", "/v1/checkout/sessions", {"payment_intent": "pi_1"})
    assert listed["data"] == []
