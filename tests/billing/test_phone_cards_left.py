"""No card saved on a payer's phone is left on the client's customer by accident: after a
crash or a Stripe that did not answer, reconciliation keeps or releases the card of a phone
payment as it does a typed card's; a card saved on a page Paydesk no longer takes (past its
time, or cancelled) is taken off, at once or by reconciliation's sweep. And a card Stripe
marks "always" is charged as a saved card only if Paydesk kept it. SQLite and PostgreSQL."""

from __future__ import annotations

import datetime as dt
import os
import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import pytest

from billing import saved_cards
from billing.checkout import NOT_ON_FILE
from billing.desk import Desk
from billing.phone_pages import CLOSED_ACTION
from billing.values import CardChoice
from gateway import errors as gw
from models import AuditEntry, CardConsent, Checkout, PhoneEntry
from tests.billing.conftest import DANA_EMAIL, full_balances, settings_for
from tests.billing.test_phone_entry import THREE, VISA, Clock, intents, post

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(demo_db, gateway, sandbox, tmp_path, clock) -> Desk:
    return Desk(settings_for("unused", tmp_path, sandbox.url), gateway, clock=clock)


def _entry_checkout(entry_id: int) -> Checkout:
    return Checkout.get_by_id(PhoneEntry.get_by_id(entry_id).checkout_id)


def _customer_cards(sandbox) -> list[dict]:
    return [pm for pm in sandbox.objects("payment_method") if pm["customer"]]


def _closed_records(entry_id: int) -> list[AuditEntry]:
    return list(AuditEntry.select().where((AuditEntry.action == CLOSED_ACTION)
                                          & (AuditEntry.subject == f"phone_entry:{entry_id}")))


# --- 1. the card of a phone payment, after a crash or a Stripe that did not answer ------------

def test_a_release_stripe_did_not_answer_is_finished_by_reconciliation(desk, dana, gateway,
                                                                       sandbox, monkeypatch):
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    assert post(link.url, VISA) == 200

    def unanswered(*args, **kwargs):
        raise gw.OutcomeUnknown("no answer")

    with monkeypatch.context() as patch:
        patch.setattr(gateway, "detach_card", unanswered)
        assert desk.pay_phone_entry(dana, link.entry_id, amounts).succeeded
    checkout = _entry_checkout(link.entry_id)
    assert checkout.card_on_file is None and len(_customer_cards(sandbox)) == 1
    desk.reconcile()
    assert _entry_checkout(link.entry_id).card_on_file == "released"
    assert _customer_cards(sandbox) == []
    assert saved_cards.settle_pending(gateway, terminal="t") == 0  # done once


_CRASHING_PAYMENT = """
import sys
from pathlib import Path
from billing.checkout import NOT_ON_FILE
from billing.desk import Desk
from models import bind, open_database
from tests.billing.conftest import TODAY, full_balances, make_gateway, settings_for
from tests.billing.test_phone_entry import THREE
db_url, api_base, entry_id, keep, tmp = sys.argv[1:]
bind(open_database(db_url))
desk = Desk(settings_for("unused", Path(tmp), api_base), make_gateway(api_base),
            clock=lambda: TODAY)
dana = desk.sign_in_client("{email}", "demo-dana")
desk.pay_phone_entry(dana, int(entry_id), full_balances(THREE), keep=keep == "1")
print("not crashed")
"""


@pytest.mark.parametrize(("step", "keep", "outcome"), [
    ("reserved", True, "released"),    # before the card was stored on the checkout
    ("recorded", False, "released"),   # paid, the card not yet released
    ("recorded", True, "kept"),        # paid with consent, the card not yet kept
])
def test_a_crash_after_the_payment_leaves_the_card_to_reconciliation(
        desk, dana, sandbox, database_url, tmp_path, step, keep, outcome):
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    assert post(link.url, VISA) == 200
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PAYDESK_", "STRIPE_"))}
    env.update(PAYDESK_CRASH_AT=step, HOME=str(tmp_path))
    crashed = subprocess.run(
        [sys.executable, "-c", _CRASHING_PAYMENT.replace("{email}", DANA_EMAIL), database_url,
         sandbox.url, str(link.entry_id), "1" if keep else "0", str(tmp_path)],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert crashed.returncode == 70, (crashed.stdout, crashed.stderr)
    checkout = _entry_checkout(link.entry_id)
    assert checkout.card_on_file is None and len(_customer_cards(sandbox)) == 1
    desk.reconcile()  # start-up and `paydesk reconcile` run this
    checkout = _entry_checkout(link.entry_id)
    assert checkout.status in ("succeeded", "failed", "cancelled")
    assert (checkout.status == "succeeded") == (step == "recorded")
    assert checkout.card_on_file == outcome
    cards = _customer_cards(sandbox)
    assert [pm["allow_redisplay"] for pm in cards] == (["always"] if outcome == "kept" else [])
    assert bool(desk.saved_cards(dana)) == (outcome == "kept")
    assert CardConsent.select().where(CardConsent.checkout == checkout.id).exists() == keep


def test_a_card_already_on_file_is_not_released_by_reconciliation(desk, dana, sandbox,
                                                                  gateway):
    first = full_balances(THREE[:1])
    link = desk.start_phone_entry(dana, first)
    assert post(link.url, VISA) == 200
    assert desk.pay_phone_entry(dana, link.entry_id, first, keep=True).succeeded
    [kept] = desk.saved_cards(dana)
    # An ordinary saved-card payment (no phone page): its card stays on file.
    card = CardChoice(kind="saved", payment_method_id=kept.payment_method_id, label=kept.label)
    assert desk.pay(dana, full_balances(THREE[1:2]), card).succeeded
    assert saved_cards.settle_pending(gateway, terminal="t") == 0
    desk.reconcile()
    assert [c.payment_method_id for c in desk.saved_cards(dana)] == [kept.payment_method_id]


# --- 2. a card saved on a page Paydesk no longer takes ---------------------------------------

@pytest.fixture
def short_desk(demo_db, gateway, sandbox, tmp_path, clock) -> Desk:
    """A link of 5 minutes: Stripe's page (31 minutes at least) outlives it."""
    settings = settings_for("unused", tmp_path, sandbox.url)
    return Desk(replace(settings, kiosk=replace(settings.kiosk, phone_link_minutes=5)),
                gateway, clock=clock)


def test_a_card_saved_after_paydesks_deadline_is_released_by_reconciliation(
        short_desk, sandbox, clock):
    dana = short_desk.sign_in_client(DANA_EMAIL, "demo-dana")
    link = short_desk.start_phone_entry(dana, full_balances(THREE))
    url = PhoneEntry.get_by_id(link.entry_id).url
    checkouts = Checkout.select().count()
    sandbox.advance_clock(20 * 60)
    clock.now += dt.timedelta(minutes=20)  # Paydesk's 5 minutes are over; no terminal watches
    assert post(url, VISA) == 200  # Stripe's page still takes a card
    assert len(_customer_cards(sandbox)) == 1
    report = short_desk.reconcile()
    assert report.notes == ()
    assert PhoneEntry.get_by_id(link.entry_id).status == "expired"
    assert _customer_cards(sandbox) == []  # never charged, and not left on file
    [record] = _closed_records(link.entry_id)
    assert record.result == "card released" and "Visa" in record.details
    assert Checkout.select().count() == checkouts and intents(sandbox) == []
    short_desk.reconcile()
    assert len(_closed_records(link.entry_id)) == 1  # done with once


def test_a_pending_page_past_its_time_is_closed_at_stripe_by_reconciliation(
        short_desk, sandbox, clock):
    dana = short_desk.sign_in_client(DANA_EMAIL, "demo-dana")
    link = short_desk.start_phone_entry(dana, full_balances(THREE))
    url = PhoneEntry.get_by_id(link.entry_id).url
    short_desk.reconcile()  # still within its 5 minutes: left open
    assert PhoneEntry.get_by_id(link.entry_id).status == "pending"
    assert [s["status"] for s in sandbox.objects("checkout.session")] == ["open"]
    clock.now += dt.timedelta(minutes=6)
    short_desk.reconcile()
    assert PhoneEntry.get_by_id(link.entry_id).status == "expired"
    assert [s["status"] for s in sandbox.objects("checkout.session")] == ["expired"]
    assert post(url, VISA) != 200 and _customer_cards(sandbox) == []
    assert [r.result for r in _closed_records(link.entry_id)] == ["closed"]


def test_the_terminal_finding_the_page_expired_releases_its_card_at_once(
        short_desk, sandbox, clock):
    dana = short_desk.sign_in_client(DANA_EMAIL, "demo-dana")
    amounts = full_balances(THREE)
    link = short_desk.start_phone_entry(dana, amounts)
    sandbox.advance_clock(6 * 60)
    clock.now += dt.timedelta(minutes=6)
    assert post(PhoneEntry.get_by_id(link.entry_id).url, VISA) == 200
    assert short_desk.phone_entry_status(dana, link.entry_id).status == "expired"
    assert _customer_cards(sandbox) == []
    with pytest.raises(Exception, match="expired"):
        short_desk.pay_phone_entry(dana, link.entry_id, amounts)


def test_a_card_saved_on_a_cancelled_page_is_released_at_once(desk, dana, sandbox):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    assert post(link.url, VISA) == 200
    desk.cancel_phone_entry(dana, link.entry_id)  # the payer chose another way to pay
    assert PhoneEntry.get_by_id(link.entry_id).status == "canceled"
    assert _customer_cards(sandbox) == []
    assert [r.result for r in _closed_records(link.entry_id)] == ["card released"]


def test_a_release_stripe_did_not_answer_is_finished_by_the_next_sweep(
        desk, dana, gateway, sandbox, monkeypatch):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    assert post(link.url, VISA) == 200

    def unanswered(*args, **kwargs):
        raise gw.OutcomeUnknown("no answer")

    with monkeypatch.context() as patch:
        patch.setattr(gateway, "detach_card", unanswered)
        desk.cancel_phone_entry(dana, link.entry_id)
        assert PhoneEntry.get_by_id(link.entry_id).status == "canceled"  # never charged
        report = desk.reconcile()
    assert len(_customer_cards(sandbox)) == 1 and _closed_records(link.entry_id) == []
    assert any(f"phone page {link.entry_id}" in note for note in report.notes)
    assert desk.reconcile().notes == ()
    assert _customer_cards(sandbox) == []
    assert len(_closed_records(link.entry_id)) == 1


# --- 4. a card Stripe marks "always" that Paydesk did not keep ---------------------------------

def test_a_card_paydesk_did_not_keep_is_not_charged_as_a_saved_card(desk, dana, gateway,
                                                                   sandbox):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    assert post(link.url, VISA) == 200
    [pm] = _customer_cards(sandbox)
    gateway.keep_card(pm["id"], idempotency_key="outside-paydesk")  # "always", elsewhere
    before = Checkout.select().count()
    card = CardChoice(kind="saved", payment_method_id=pm["id"], label="Visa")
    result = desk.pay(dana, full_balances(THREE[:1]), card)
    assert not result.succeeded
    assert "Nothing was charged" in result.message and NOT_ON_FILE in result.message
    assert intents(sandbox) == []  # nothing charged
    assert Checkout.select().count() == before + 1
    assert desk.saved_cards(dana) == []
