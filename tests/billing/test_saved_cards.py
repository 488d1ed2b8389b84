"""Cards on file: kept only with the payer's consent and only when the payment succeeded,
one per card (Stripe's fingerprint), with the card's own expiry, removable by the client
and by staff; through the Desk, the real gateway and the sandbox (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import peewee
import pytest

from billing.errors import NotAllowed
from billing.saved_cards import KEEP_LABEL, KEEP_LABEL_STAFF, settle_pending
from billing.values import CardChoice
from gateway import KeyedCard
from models import AuditEntry, CardConsent, CardRemoval, Checkout
from models.cards import AppendOnlyConsentError
from tests.billing.conftest import TODAY, VISA, dana_client, full_balances, invoice
from tests.reader_taps import Tapper
from tui.screens.payment_method import parse_expiry

THREE_D_SECURE = "4000002760003184"  # Stripe's test card that needs authentication
ONE_EACH = ("INV-1001", "INV-1004", "INV-1009")


def card(number: str = VISA, month: int = 12, year: int = 2030, *,
         keep: bool = False) -> CardChoice:
    return CardChoice(kind="keyed", keyed=KeyedCard(number, month, year, "123", "94107"),
                      label=f"card ending {number[-4:]}", keep=keep)


def reader(sandbox, *, keep: bool = False) -> CardChoice:
    return CardChoice(kind="reader", reader_id=sandbox.reader_id, label="card on reader",
                      keep=keep)


def attached(sandbox) -> list[dict]:
    """The card PaymentMethods still attached to Dana's Stripe customer."""
    customer = dana_client().stripe_customer_id
    assert customer
    return [pm for pm in sandbox.objects("payment_method")
            if pm["customer"] == customer and pm["type"] == "card"]


@pytest.fixture
def front(desk):
    return desk.sign_in_staff("Front Desk", "2468")


def test_three_payments_without_consent_keep_no_card(desk, dana, sandbox):
    for number in ONE_EACH:
        result = desk.pay(dana, full_balances([number]), card())
        assert result.succeeded, result.message
    assert desk.saved_cards(dana) == []
    assert attached(sandbox) == []  # used for each payment, then taken off the customer
    keyed = Checkout.select().where(Checkout.method == "card_keyed")
    assert [c.card_on_file for c in keyed] == ["released"] * 3
    assert CardConsent.select().count() == 0


def test_three_payments_with_consent_keep_one_card_with_the_latest_expiry(desk, dana, sandbox):
    for number, year in zip(ONE_EACH, (2030, 2032, 2031), strict=True):
        result = desk.pay(dana, full_balances([number]), card(year=year, keep=True))
        assert result.succeeded, result.message
    saved = desk.saved_cards(dana)
    assert [c.label for c in saved] == ["Visa •••• 4242 (expires 12/32)"]
    assert [pm["id"] for pm in attached(sandbox)] == [saved[0].payment_method_id]
    assert {pm["allow_redisplay"] for pm in attached(sandbox)} == {"always"}
    removed = AuditEntry.select().where(AuditEntry.action == "duplicate saved card removed")
    assert sorted("expiring 12/30" in e.details for e in removed) == [False, True]


def test_the_saved_card_shows_the_expiry_typed_in(desk, dana):
    # Typed as 12/30 on the card page, which hands on month 12 of 2030.
    assert parse_expiry("12/30", TODAY.year) == (12, 2030)
    result = desk.pay(dana, full_balances(["INV-1001"]), card(month=12, year=2030, keep=True))
    assert result.succeeded, result.message
    assert [c.label for c in desk.saved_cards(dana)] == ["Visa •••• 4242 (expires 12/30)"]


def test_a_card_that_failed_3d_secure_is_not_kept_even_with_consent(desk, dana, sandbox):
    result = desk.pay(dana, full_balances(["INV-1001"]), card(THREE_D_SECURE, keep=True))
    assert not result.succeeded
    assert desk.saved_cards(dana) == []
    assert attached(sandbox) == []
    checkout = Checkout.get_by_id(result.checkout_id)
    assert checkout.card_on_file == "released"
    assert CardConsent.get(CardConsent.checkout == checkout.id).given_by == "client"
    [entry] = AuditEntry.select().where(AuditEntry.action == "card released")
    assert "did not succeed" in entry.details


def test_a_declined_card_is_not_kept_and_the_next_good_one_is(desk, dana, sandbox):
    declined = desk.pay(dana, full_balances(["INV-1001"]), card("4000000000000341", keep=True))
    assert not declined.succeeded  # attaches, then the charge fails
    assert desk.saved_cards(dana) == []
    result = desk.pay(dana, full_balances(["INV-1001"]), card(keep=True))
    assert result.succeeded, result.message
    assert [c.label for c in desk.saved_cards(dana)] == ["Visa •••• 4242 (expires 12/30)"]


def test_consent_is_recorded_with_who_when_how_and_the_terminal(desk, dana, front, sandbox,
                                                               gateway):
    before = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    by_client = desk.pay(dana, full_balances(["INV-1001"]), card(keep=True))
    for_dana = desk.payer_for_client(front, dana.client_id)
    by_staff = desk.pay(for_dana, full_balances(["INV-1004"]), card(keep=True))
    with Tapper(sandbox, gateway, [VISA]) as taps:
        on_reader = desk.pay(for_dana, full_balances(["INV-1009"]), reader(sandbox, keep=True))
        taps.join()
    rows = {c.checkout_id: c for c in CardConsent.select()}
    assert set(rows) == {by_client.checkout_id, by_staff.checkout_id, on_reader.checkout_id}
    client_row, staff_row, reader_row = (rows[by_client.checkout_id],
                                         rows[by_staff.checkout_id],
                                         rows[on_reader.checkout_id])
    assert (client_row.given_by, client_row.staff_id, client_row.way) == ("client", None, "kiosk")
    assert client_row.wording == KEEP_LABEL
    assert (staff_row.given_by, staff_row.staff_id, staff_row.way) == (
        "staff", front.staff_id, "desk_phone")
    assert staff_row.wording == KEEP_LABEL_STAFF
    assert (reader_row.given_by, reader_row.way) == ("staff", "reader")
    for row in rows.values():
        assert row.terminal == "test-terminal"
        assert row.client_id == dana.client_id
        assert before <= row.at <= dt.datetime.now(dt.UTC).replace(tzinfo=None)
    # The same card three times (typed twice, then on the reader): one card is kept.
    assert len(desk.saved_cards(dana)) == 1
    assert AuditEntry.select().where(AuditEntry.action == "card consent given").count() == 3


def test_a_consent_record_is_never_changed_or_deleted(desk, dana):
    desk.pay(dana, full_balances(["INV-1001"]), card(keep=True))
    consent = CardConsent.get()
    with pytest.raises(AppendOnlyConsentError):
        consent.save()
    db = CardConsent._meta.database
    with pytest.raises(peewee.DatabaseError), db.atomic():  # the database refuses too
        CardConsent.update(way="reader").execute()
    with pytest.raises(peewee.DatabaseError), db.atomic():
        CardConsent.delete().execute()
    assert CardConsent.get().way == "kiosk"


def test_the_readers_card_is_kept_only_with_consent(desk, dana, sandbox, gateway):
    with Tapper(sandbox, gateway, [VISA]) as taps:
        first = desk.pay(dana, full_balances(["INV-1001"]), reader(sandbox))
        taps.join()
    assert first.succeeded, first.message
    assert desk.saved_cards(dana) == []
    assert attached(sandbox) == []
    with Tapper(sandbox, gateway, [VISA]) as taps:
        second = desk.pay(dana, full_balances(["INV-1004"]), reader(sandbox, keep=True))
        taps.join()
    assert second.succeeded, second.message
    [kept] = desk.saved_cards(dana)
    assert kept.payment_method_id == Checkout.get_by_id(second.checkout_id).payment_method_id


def test_a_payment_code_payer_cannot_keep_a_card(desk):
    payer, inv = desk.payer_for_code("LINK-1013")
    before = Checkout.select().count()
    with pytest.raises(NotAllowed):
        desk.pay(payer, {inv.invoice_id: inv.balance}, card(keep=True))
    assert Checkout.select().count() == before
    assert CardConsent.select().count() == 0


def test_the_client_removes_a_saved_card(desk, dana, sandbox):
    desk.pay(dana, full_balances(["INV-1001"]), card(keep=True))
    [saved] = desk.saved_cards(dana)
    assert desk.remove_saved_card(dana, saved.payment_method_id) == "Visa •••• 4242"
    assert desk.saved_cards(dana) == []
    assert attached(sandbox) == []
    [entry] = AuditEntry.select().where(AuditEntry.action == "saved card removed")
    assert (entry.result, entry.actor) == ("removed", f"client:{dana.email}")
    assert "Visa •••• 4242 expiring 12/30" in entry.details
    removal = CardRemoval.get()
    assert (removal.removed_by, removal.status, removal.staff_id) == ("client", "removed", None)


def test_staff_remove_a_saved_card_of_the_client(desk, dana, front, sandbox):
    desk.pay(dana, full_balances(["INV-1001"]), card(keep=True))
    [saved] = desk.saved_cards(dana)
    for_dana = desk.payer_for_client(front, dana.client_id)
    desk.remove_saved_card(for_dana, saved.payment_method_id)
    assert desk.saved_cards(dana) == []
    assert attached(sandbox) == []
    removal = CardRemoval.get()
    assert (removal.removed_by, removal.staff_id) == ("staff", front.staff_id)
    [entry] = AuditEntry.select().where(AuditEntry.action == "saved card removed")
    assert entry.actor.startswith("staff:Front Desk")


def test_a_card_not_on_file_cannot_be_removed_and_nothing_changes(desk, dana, sandbox):
    desk.pay(dana, full_balances(["INV-1001"]), card(keep=True))
    desk.pay(dana, full_balances(["INV-1004"]), card("5555555555554444"))  # not kept
    released = Checkout.select().where(Checkout.method == "card_keyed").order_by(
        Checkout.id.desc()).get().payment_method_id
    for pm_id in (released, "pm_nonexistent", ""):
        with pytest.raises(NotAllowed, match="not on file"):
            desk.remove_saved_card(dana, pm_id)
    assert len(desk.saved_cards(dana)) == 1
    assert CardRemoval.select().count() == 0


def test_someone_elses_saved_card_cannot_be_removed(desk, dana, front, sandbox):
    desk.pay(dana, full_balances(["INV-1001"]), card(keep=True))
    [saved] = desk.saved_cards(dana)
    other = next(c for c in desk.find_clients(front, "") if c.client_id != dana.client_id)
    for_other = desk.payer_for_client(front, other.client_id)
    with pytest.raises(NotAllowed):
        desk.remove_saved_card(for_other, saved.payment_method_id)
    assert desk.saved_cards(dana) == [saved]


def test_a_card_left_to_settle_by_a_crash_is_released_by_reconciliation(desk, dana, sandbox,
                                                                      monkeypatch):
    from billing import saved_cards

    monkeypatch.setattr(saved_cards, "settle_card", lambda *a, **k: None)
    result = desk.pay(dana, full_balances(["INV-1001"]), card())
    assert result.succeeded
    assert len(attached(sandbox)) == 1  # the payment ended; the card is still to be released
    monkeypatch.undo()
    assert settle_pending(desk.gateway, terminal="test-terminal") == 1
    assert attached(sandbox) == []
    assert Checkout.get_by_id(result.checkout_id).card_on_file == "released"


def test_a_saved_card_payment_uses_only_a_kept_card(desk, dana, sandbox):
    desk.pay(dana, full_balances(["INV-1001"]), card())  # not kept
    released = Checkout.select().where(Checkout.method == "card_keyed").get().payment_method_id
    paid = invoice("INV-1004").paid_minor
    result = desk.pay(dana, full_balances(["INV-1004"]),
                      CardChoice(kind="saved", payment_method_id=released))
    assert not result.succeeded
    assert "no longer on file" in result.message
    assert invoice("INV-1004").paid_minor == paid


def test_a_card_marked_always_without_consent_on_record_is_not_listed(desk, dana, sandbox,
                                                                     gateway):
    """A card kept before consent was asked (the reader marked its cards "always"), or
    marked so outside Paydesk, is not a saved card: no checkout kept it with consent."""
    result = desk.pay(dana, full_balances(["INV-1001"]), card(keep=True))
    assert result.succeeded, result.message
    [kept] = desk.saved_cards(dana)
    customer = dana_client().stripe_customer_id
    legacy = gateway.card_from_keyed_entry(KeyedCard(VISA, 11, 2031, "123", "94107"),
                                           customer_id=customer, idempotency_key="legacy-pm")
    gateway.keep_card(legacy.payment_method_id, idempotency_key="legacy-keep")
    assert len([pm for pm in attached(sandbox) if pm["allow_redisplay"] == "always"]) == 2
    assert [c.payment_method_id for c in desk.saved_cards(dana)] == [kept.payment_method_id]
