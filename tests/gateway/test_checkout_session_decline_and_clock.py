"""The hosted card page seen by the gateway, beyond saving a card: a card refused on the page
leaves Stripe's `last_setup_error` on the session's SetupIntent (the pinned SDK's shape),
read with the page in one request; and Stripe's time, learned from the `Date` of Stripe's
answers (the sandbox dates them by its own clock), sets the page's `expires_at`."""

from __future__ import annotations

import email.utils
import logging
import urllib.parse
import urllib.request

import pytest
import stripe

from gateway import StripeGateway
from gateway.hosted_setup import card_setup_expiry, stripe_date
from gateway.sandbox import Sandbox
from gateway.values import HostedSetup, SetupDecline
from tests.gateway.test_hosted_setup import VISA, post

# What Stripe's LastSetupError may carry, as the pinned SDK declares it.
LAST_SETUP_ERROR_FIELDS = set(stripe.SetupIntent.LastSetupError.__annotations__)


@pytest.fixture
def page(gateway: StripeGateway, customer_id: str) -> HostedSetup:
    return gateway.start_card_setup(customer_id=customer_id, currency="usd",
                                    idempotency_key="setup-decline")


def setup_intent(sandbox: Sandbox) -> dict:
    [seti] = sandbox.objects("setup_intent")
    return seti


@pytest.mark.parametrize(("number", "code", "decline_code", "message", "param"), [
    ("4000000000000002", "card_declined", "generic_decline", "Your card was declined.", None),
    ("4000000000009995", "card_declined", "insufficient_funds",
     "Your card has insufficient funds.", None),
    ("4000000000000069", "expired_card", "expired_card", "Your card has expired.",
     "exp_month"),
])
def test_a_refused_card_leaves_stripes_last_setup_error(
        sandbox: Sandbox, gateway: StripeGateway, page: HostedSetup, number: str, code: str,
        decline_code: str, message: str, param: str | None) -> None:
    assert page.url is not None
    assert post(page.url, {**VISA, "number": number})[0] == 402
    seti = setup_intent(sandbox)
    error = seti["last_setup_error"]
    assert seti["status"] == "requires_payment_method" and seti["payment_method"] is None
    assert set(error) <= LAST_SETUP_ERROR_FIELDS
    assert {k: error[k] for k in ("type", "code", "decline_code", "message", "param",
                                  "payment_method_type")} == {
        "type": "card_error", "code": code, "decline_code": decline_code, "message": message,
        "param": param, "payment_method_type": "card"}
    assert error["doc_url"] == "https://stripe.com/docs/error-codes/" + code.replace("_", "-")
    assert error["payment_method"]["card"]["last4"] == number[-4:]
    assert error["payment_method"]["customer"] is None  # refused: never attached
    # The SDK reads it as its own type.
    sdk = stripe.SetupIntent.construct_from(seti, "sk_test_x")
    assert sdk.last_setup_error is not None and sdk.last_setup_error.decline_code == decline_code
    # The gateway reads it with the page, and no card is saved.
    seen = gateway.hosted_setup_status(page.session_id)
    assert seen.status == "open" and seen.card is None
    assert seen.declined == SetupDecline(code, decline_code, message, "visa", number[-4:])


def test_the_page_and_its_decline_are_one_request(sandbox: Sandbox, gateway: StripeGateway,
                                                  page: HostedSetup,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    assert page.url is not None
    post(page.url, {**VISA, "number": "4000000000000002"})
    with caplog.at_level(logging.DEBUG, logger="gateway.sandbox"):
        caplog.clear()
        assert gateway.hosted_setup_status(page.session_id).declined is not None
    asked = [r.getMessage() for r in caplog.records if " /v1/" in r.getMessage()]
    assert asked == [f"sandbox: GET /v1/checkout/sessions/{page.session_id} 200"]


def test_another_card_on_the_same_page_clears_the_decline(
        sandbox: Sandbox, gateway: StripeGateway, page: HostedSetup) -> None:
    assert page.url is not None
    post(page.url, {**VISA, "number": "4000000000000002"})
    # A card that asks for 3-D Secure: a new confirmation, so the last error is gone.
    assert post(page.url, {**VISA, "number": "4000002500003155"})[0] == 200
    assert setup_intent(sandbox)["last_setup_error"] is None
    assert gateway.hosted_setup_status(page.session_id).declined is None
    # The bank's check fails: that is the page's last error now.
    assert post(page.url, {"authenticate": "fail"})[0] == 402
    failed = gateway.hosted_setup_status(page.session_id).declined
    assert failed is not None and failed.code == "setup_intent_authentication_failure"
    assert failed.last4 == "3155"
    assert post(page.url, VISA)[0] == 200
    done = gateway.hosted_setup_status(page.session_id)
    assert done.status == "complete" and done.declined is None
    assert done.card is not None and done.card.last4 == "4242"


# -- Stripe's time -----------------------------------------------------------------------------


def answer_date(sandbox: Sandbox, path: str) -> int:
    request = urllib.request.Request(f"{sandbox.url}{path}",  # noqa: S310 - loopback
                                     headers={"Authorization": "Bearer sk_test_x"})
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return int(email.utils.parsedate_to_datetime(response.headers["Date"]).timestamp())


def test_the_sandbox_dates_its_answers_by_its_own_clock(sandbox: Sandbox) -> None:
    sandbox.advance_clock(3 * 3600)
    before = sandbox.now()
    assert before <= answer_date(sandbox, "/v1/customers") <= sandbox.now()
    page_url = urllib.parse.urljoin(sandbox.url, "/pay/cs_test_none")
    try:
        urllib.request.urlopen(page_url, timeout=5)  # noqa: S310 - loopback
    except urllib.error.HTTPError as missing:  # a page's answer is dated the same way
        date = missing.headers["Date"]
    assert before <= stripe_date({"Date": date}) <= sandbox.now()  # type: ignore[operator]


def test_stripe_time_is_the_sandbox_clock_ahead_of_this_machine(
        sandbox: Sandbox, gateway: StripeGateway, customer_id: str) -> None:
    sandbox.advance_clock(35 * 60)
    before = sandbox.now()
    assert before <= gateway.stripe_time(customer_id) <= sandbox.now()
    # A page whose expiry is measured by it opens: Stripe finds it 31 minutes away.
    made = gateway.start_card_setup(
        customer_id=customer_id, currency="usd", idempotency_key="setup-ahead",
        expires_at=card_setup_expiry(31 * 60, now=gateway.stripe_time(customer_id)))
    assert made.status == "open"


@pytest.mark.parametrize(("headers", "found"), [
    ({"Date": "Thu, 26 Nov 2026 06:34:08 GMT"}, 1795674848),
    ({"date": "Thu, 26 Nov 2026 06:34:08 GMT"}, 1795674848),
    ({}, None), (None, None), ({"Date": "yesterday"}, None),
])
def test_stripe_date_reads_the_http_date(headers, found) -> None:
    assert stripe_date(headers) == found
