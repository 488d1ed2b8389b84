"""The card entered on the payer's own phone: a card page opened for exactly the invoices
and amounts the review listed, paid once with the card saved on it, never after it expired;
through the Desk, the real gateway and the sandbox's hosted page (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt
import email
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import replace

import pytest

from billing.config import ConfigError, load_settings
from billing.desk import Desk
from billing.errors import BillingError, NotAllowed
from models import (
    Checkout,
    OutboundEmail,
    PhoneEntry,
    PhoneEntryInvoice,
)
from models.money import Money
from tests.billing.conftest import TODAY, full_balances, invoice, settings_for

THREE = ("INV-1001", "INV-1004", "INV-1009")
VISA = {"number": "4242 4242 4242 4242", "expiry": "12/34", "cvc": "123",
        "postal_code": "10001"}


def post(url: str, fields: dict[str, str]) -> int:
    request = urllib.request.Request(  # noqa: S310 - the loopback sandbox
        url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


class Clock:
    def __init__(self) -> None:
        self.now = TODAY

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(demo_db, gateway, sandbox, tmp_path, clock) -> Desk:
    return Desk(settings_for("unused", tmp_path, sandbox.url), gateway, clock=clock)


def checkouts() -> int:
    return Checkout.select().count()


def intents(sandbox) -> list[dict]:
    return sandbox.objects("payment_intent")


def test_the_idempotency_key_is_stored_before_the_page_is_asked_for(desk, dana, gateway,
                                                                     monkeypatch):
    seen = []
    real = gateway.start_card_setup

    def spy(**kwargs):
        entry = PhoneEntry.get(PhoneEntry.setup_key == kwargs["idempotency_key"])
        seen.append((entry.session_id, entry.stripe_expires_at == kwargs["expires_at"],
                     {r.invoice.number for r in entry.invoices}))
        return real(**kwargs)

    monkeypatch.setattr(gateway, "start_card_setup", spy)
    link = desk.start_phone_entry(dana, full_balances(THREE))
    assert seen == [(None, True, set(THREE))]
    assert PhoneEntry.get_by_id(link.entry_id).session_id is not None
    assert link.url.startswith("http://127.0.0.1")
    assert link.expires_at == TODAY + dt.timedelta(minutes=30)


def test_the_page_lists_each_invoice_and_how_many_transactions(desk, dana, sandbox):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    text = sandbox.objects("checkout.session")[0]["custom_text"]["submit"]["message"]
    assert "3 transactions" in text
    for line in link.lines:
        assert line.invoice_number in text
    assert [line.invoice_number for line in link.lines] == list(THREE)


def test_a_card_saved_on_the_phone_pays_each_invoice_once(desk, dana, sandbox):
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    assert desk.phone_entry_status(dana, link.entry_id).status == "pending"
    assert post(link.url, VISA) == 200
    status = desk.phone_entry_status(dana, link.entry_id)
    assert status.status == "saved" and status.card_label.endswith("4242")
    result = desk.pay_phone_entry(dana, link.entry_id, amounts)
    assert result.succeeded, result.message
    assert len(intents(sandbox)) == 3
    assert {pi["status"] for pi in intents(sandbox)} == {"succeeded"}
    assert all(invoice(n).balance_minor == 0 for n in THREE)
    entry = PhoneEntry.get_by_id(link.entry_id)
    assert entry.status == "used" and entry.used_at is not None
    assert entry.checkout_id == Checkout.select().order_by(Checkout.id.desc()).get().id
    # Used once: a second press, or a second terminal, charges nothing more.
    with pytest.raises(BillingError, match="already paid"):
        desk.pay_phone_entry(dana, link.entry_id, amounts)
    assert len(intents(sandbox)) == 3
    assert Checkout.select().where(Checkout.id > entry.checkout_id).count() == 0


@pytest.mark.parametrize("change", ["less", "fewer", "more"])
def test_other_amounts_or_invoices_are_refused(desk, dana, sandbox, change):
    before = checkouts()
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    assert post(link.url, VISA) == 200
    first = invoice(THREE[0]).id
    if change == "less":
        other = {**amounts, first: Money(amounts[first].minor - 100, "USD")}
    elif change == "fewer":
        other = {k: v for k, v in amounts.items() if k != first}
    else:
        other = {**amounts, **full_balances(["INV-1012"])}
    with pytest.raises(BillingError, match="not the ones the card page was opened for"):
        desk.pay_phone_entry(dana, link.entry_id, other)
    assert checkouts() == before and intents(sandbox) == []
    assert PhoneEntry.get_by_id(link.entry_id).status == "pending"


def test_an_expired_page_is_never_charged_even_with_a_card_saved(desk, dana, sandbox, clock):
    before = checkouts()
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    assert post(link.url, VISA) == 200  # saved, but only once Paydesk's time is up
    clock.now = link.expires_at
    assert desk.phone_entry_status(dana, link.entry_id).status == "expired"
    with pytest.raises(BillingError, match="expired"):
        desk.pay_phone_entry(dana, link.entry_id, amounts)
    assert checkouts() == before and intents(sandbox) == []
    assert PhoneEntry.get_by_id(link.entry_id).status == "expired"


def test_an_expired_page_is_closed_at_stripe(desk, dana, sandbox, clock):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    clock.now = link.expires_at + dt.timedelta(seconds=1)
    assert desk.phone_entry_status(dana, link.entry_id).status == "expired"
    assert sandbox.objects("checkout.session")[0]["status"] == "expired"
    assert post(link.url, VISA) != 200  # the payer can no longer save a card on it


def test_a_declined_card_leaves_the_page_waiting_and_says_why(desk, dana, sandbox):
    before = checkouts()
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    assert desk.phone_entry_status(dana, link.entry_id).declined == ""
    assert post(link.url, {**VISA, "number": "4000 0000 0000 0002"}) == 402
    status = desk.phone_entry_status(dana, link.entry_id)
    assert status.status == "pending"
    assert status.declined == (
        "The card ending 0002 was declined on the phone. The card was declined. Please use "
        "another card or call the card's issuer. Nothing was charged. You can try another "
        "card on the same page.")
    with pytest.raises(BillingError, match="No card has been saved"):
        desk.pay_phone_entry(dana, link.entry_id, amounts)
    assert intents(sandbox) == [] and checkouts() == before
    # Another card on the same page: saved, and the decline is no longer said.
    assert post(link.url, VISA) == 200
    saved = desk.phone_entry_status(dana, link.entry_id)
    assert saved.status == "saved" and saved.declined == ""
    assert desk.pay_phone_entry(dana, link.entry_id, amounts).succeeded


@pytest.mark.parametrize(("number", "reason"), [
    ("4000000000009995", "The card was declined: the account does not have enough funds."),
    ("4000000000000127", "The card's security code (CVC) is incorrect."),
    ("4000000000000069", "The card has expired. Please use another card."),
])
def test_the_front_desk_is_told_why_in_paydesks_words(desk, dana, sandbox, number, reason):
    staff = desk.sign_in_staff("Front Desk", "2468")
    payer = desk.payer_for_client(staff, dana.client_id)
    link = desk.start_phone_entry(payer, full_balances(THREE))
    assert post(link.url, {**VISA, "number": number}) == 402
    assert desk.phone_entry_status(payer, link.entry_id).declined == (
        f"The card ending {number[-4:]} was declined on the phone. {reason} Nothing was "
        "charged. The payer can try another card on the same page.")
    assert number not in str(desk.phone_entry_status(payer, link.entry_id))


def test_a_failed_bank_check_on_the_phone_is_said(desk, dana, sandbox):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    assert post(link.url, {**VISA, "number": "4000002500003155"}) == 200  # the bank's check
    assert desk.phone_entry_status(dana, link.entry_id).declined == ""
    assert post(link.url, {"authenticate": "fail"}) == 402
    assert desk.phone_entry_status(dana, link.entry_id).declined.startswith(
        "The card ending 3155 was declined on the phone. The bank's check of the card "
        "(3-D Secure) was not completed. Nothing was charged.")


def test_a_page_opens_by_stripes_clock_when_it_is_ahead(desk, dana, sandbox, clock):
    sandbox.advance_clock(35 * 60)  # Stripe's clock ahead of the terminal's
    link = desk.start_phone_entry(dana, full_balances(THREE))
    session = sandbox.objects("checkout.session")[0]
    entry = PhoneEntry.get_by_id(link.entry_id)
    assert entry.stripe_expires_at == session["expires_at"]
    assert 31 * 60 - 5 <= session["expires_at"] - session["created"] <= 31 * 60
    # Paydesk's link keeps its own 30 minutes, and Paydesk closes the page then.
    assert link.expires_at == TODAY + dt.timedelta(minutes=30)
    clock.now = link.expires_at
    assert desk.phone_entry_status(dana, link.entry_id).status == "expired"
    assert sandbox.objects("checkout.session")[0]["status"] == "expired"
    assert post(link.url, VISA) != 200 and intents(sandbox) == []


def test_stripes_page_closes_by_itself_a_minute_after_paydesks_link(desk, dana, sandbox):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    sandbox.advance_clock(31 * 60)  # Paydesk is gone: nothing closes the page but Stripe
    assert post(link.url, VISA) != 200
    assert sandbox.objects("checkout.session")[0]["status"] == "expired"


def test_a_canceled_page_takes_no_card(desk, dana, sandbox):
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    desk.cancel_phone_entry(dana, link.entry_id)
    assert post(link.url, VISA) != 200
    assert desk.phone_entry_status(dana, link.entry_id).status == "canceled"
    with pytest.raises(BillingError, match="closed"):
        desk.pay_phone_entry(dana, link.entry_id, amounts)
    assert intents(sandbox) == []


def test_a_payment_code_holder_cannot_open_a_page(desk, dana, sandbox):
    code_payer = replace(dana, kind="code", code_invoice_id=invoice(THREE[0]).id)
    with pytest.raises(NotAllowed):
        desk.start_phone_entry(code_payer, full_balances(THREE[:1]))
    assert PhoneEntry.select().count() == 0 and PhoneEntryInvoice.select().count() == 0


def test_the_link_is_emailed_through_the_outbox(desk, dana, sandbox):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    to = desk.email_phone_link(dana, link.entry_id, "dana@example.com", "20 Oct 2026, 12:30")
    assert to == "dana@example.com"
    queued = OutboundEmail.get()
    body = email.message_from_string(queued.message).get_payload(decode=True).decode()
    assert link.url in body and "3 transactions" in body
    assert all(n in body for n in THREE)


def test_the_link_lasts_as_long_as_the_setting_says(demo_db, gateway, sandbox, tmp_path,
                                                     clock):
    settings = settings_for("unused", tmp_path, sandbox.url)
    settings = replace(settings, kiosk=replace(settings.kiosk, phone_link_minutes=45))
    desk = Desk(settings, gateway, clock=clock)
    dana = desk.sign_in_client("dana.whitfield@example.com", "demo-dana")
    link = desk.start_phone_entry(dana, full_balances(THREE))
    assert link.expires_at == TODAY + dt.timedelta(minutes=45)
    session = sandbox.objects("checkout.session")[0]
    assert abs(session["expires_at"] - (session["created"] + 45 * 60)) <= 5


@pytest.mark.parametrize("minutes", ["0", "1441", "half an hour"])
def test_a_link_time_outside_a_day_is_refused(minutes):
    with pytest.raises(ConfigError, match="phone_link_minutes"):
        load_settings(None, environ={"PAYDESK_KIOSK_PHONE_LINK_MINUTES": minutes})


class PaysMeanwhile:
    """The real gateway, except that the first look at the page, once it has answered,
    first lets another terminal pay with the same page."""

    def __init__(self, gateway, meanwhile) -> None:
        self._gateway, self._meanwhile, self.fired = gateway, meanwhile, False

    def __getattr__(self, name):
        method = getattr(self._gateway, name)
        if name != "hosted_setup_status" or self.fired:
            return method

        def then_the_other_terminal(*args, **kwargs):
            self.fired = True
            answer = method(*args, **kwargs)
            self._meanwhile()
            return answer
        return then_the_other_terminal


def test_two_terminals_paying_with_one_page_charge_once(desk, dana, gateway, sandbox, clock,
                                                        tmp_path):
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    assert post(link.url, VISA) == 200
    other = Desk(settings_for("unused", tmp_path, sandbox.url), gateway, clock=clock)
    results = []
    desk.gateway = PaysMeanwhile(gateway, lambda: results.append(
        other.pay_phone_entry(dana, link.entry_id, amounts)))
    with pytest.raises(BillingError, match="already paid"):
        desk.pay_phone_entry(dana, link.entry_id, amounts)
    assert [r.succeeded for r in results] == [True]  # the other terminal's, once
    assert len(intents(sandbox)) == 3
    assert Checkout.select().where(Checkout.id >= PhoneEntry.get_by_id(
        link.entry_id).checkout_id).count() == 1
