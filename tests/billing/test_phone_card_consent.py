"""Consent to keep a card entered on the payer's phone: Stripe's setup-mode page cannot
ask it (no such box; `custom_fields` are not available in setup mode), so the page saves the
card "limited" and the terminal asks once it is saved. The answer is recorded as a typed
card's consent is (at the front desk, staff confirm the payer agreed), and the card is kept
only if the payment succeeds. SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from billing.saved_cards import KEEP_LABEL, KEEP_LABEL_STAFF
from models import AuditEntry, CardConsent, Checkout, PhoneEntry
from tests.billing.conftest import full_balances
from tests.billing.test_phone_entry import THREE, VISA, post


def attached(sandbox, dana_customer: str) -> list[str]:
    return [pm["id"] for pm in sandbox.objects("payment_method")
            if pm["customer"] == dana_customer and pm["type"] == "card"]


@pytest.mark.parametrize("keep", [False, True])
def test_the_card_stays_on_file_only_when_the_payer_agreed_on_the_terminal(desk, dana,
                                                                           sandbox, keep):
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    assert post(link.url, VISA) == 200  # the page asks nothing about keeping it
    [saved] = [pm for pm in sandbox.objects("payment_method") if pm["customer"]]
    assert saved["allow_redisplay"] == "limited"  # Paydesk's override, set by Stripe
    assert desk.pay_phone_entry(dana, link.entry_id, amounts, keep=keep).succeeded
    checkout = Checkout.get_by_id(PhoneEntry.get_by_id(link.entry_id).checkout_id)
    customer = checkout.stripe_customer_id
    assert checkout.card_on_file == ("kept" if keep else "released")
    assert len(attached(sandbox, customer)) == (1 if keep else 0)
    assert [c.label.startswith("Visa •••• 4242") for c in desk.saved_cards(dana)] == (
        [True] if keep else [])
    entry = AuditEntry.get(AuditEntry.subject == f"checkout:{checkout.id}",
                           AuditEntry.result == checkout.card_on_file)
    assert "entered on the phone" in entry.details


def test_the_kiosks_answer_is_recorded_as_a_typed_cards_consent(desk, dana, sandbox):
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    assert post(link.url, VISA) == 200
    assert desk.pay_phone_entry(dana, link.entry_id, amounts, keep=True).succeeded
    checkout_id = PhoneEntry.get_by_id(link.entry_id).checkout_id
    consent = CardConsent.get(CardConsent.checkout == checkout_id)
    assert (consent.given_by, consent.staff_id, consent.way) == ("client", None, "kiosk")
    assert consent.wording == KEEP_LABEL and consent.terminal == "test-terminal"
    assert [c.allow_redisplay for c in desk.gateway.saved_cards(
        Checkout.get_by_id(checkout_id).stripe_customer_id, allow_redisplay="always")] == [
        "always"]  # marked so by Paydesk once the payment succeeded


def test_staff_confirm_the_payer_agreed_as_for_a_typed_card(desk, dana, sandbox):
    staff = desk.sign_in_staff("Front Desk", "2468")
    payer = desk.payer_for_client(staff, dana.client_id)  # the front desk opened the page
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(payer, amounts)
    assert post(link.url, VISA) == 200
    assert desk.pay_phone_entry(payer, link.entry_id, amounts, keep=True).succeeded
    checkout_id = PhoneEntry.get_by_id(link.entry_id).checkout_id
    consent = CardConsent.get(CardConsent.checkout == checkout_id)
    assert (consent.given_by, consent.staff_id, consent.way) == (
        "staff", payer.staff.staff_id, "desk_phone")
    assert consent.client_id == dana.client_id and consent.wording == KEEP_LABEL_STAFF
    given = AuditEntry.get(AuditEntry.action == "card consent given",
                           AuditEntry.subject == f"checkout:{checkout_id}")
    assert "desk phone" in given.details
    assert Checkout.get_by_id(checkout_id).card_on_file == "kept"
    assert [c.label.startswith("Visa •••• 4242") for c in desk.saved_cards(dana)] == [True]


def test_no_consent_no_record_and_the_card_is_not_offered(desk, dana, sandbox):
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    assert post(link.url, VISA) == 200
    assert desk.pay_phone_entry(dana, link.entry_id, amounts).succeeded  # "N" on the screen
    checkout_id = PhoneEntry.get_by_id(link.entry_id).checkout_id
    assert CardConsent.select().where(CardConsent.checkout == checkout_id).count() == 0
    assert Checkout.get_by_id(checkout_id).card_on_file == "released"
    assert desk.saved_cards(dana) == []
    customer = Checkout.get_by_id(checkout_id).stripe_customer_id
    assert attached(sandbox, customer) == []  # used for these invoices only


def test_consent_with_a_declined_payment_keeps_nothing(desk, dana, sandbox):
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    # Saved on the page (it attaches), then every charge is declined.
    assert post(link.url, {**VISA, "number": "4000000000000341"}) == 200
    assert not desk.pay_phone_entry(dana, link.entry_id, amounts, keep=True).succeeded
    checkout_id = PhoneEntry.get_by_id(link.entry_id).checkout_id
    assert CardConsent.get(CardConsent.checkout == checkout_id).way == "kiosk"
    assert Checkout.get_by_id(checkout_id).card_on_file == "released"
    assert desk.saved_cards(dana) == []
    assert attached(sandbox, Checkout.get_by_id(checkout_id).stripe_customer_id) == []


def test_the_same_card_kept_twice_from_the_phone_is_on_file_once(desk, dana, sandbox):
    for numbers in (THREE[:1], THREE[1:2]):
        amounts = full_balances(numbers)
        link = desk.start_phone_entry(dana, amounts)
        assert post(link.url, VISA) == 200
        assert desk.pay_phone_entry(dana, link.entry_id, amounts, keep=True).succeeded
    assert len(desk.saved_cards(dana)) == 1
    assert AuditEntry.select().where(
        AuditEntry.action == "duplicate saved card removed").count() == 1
