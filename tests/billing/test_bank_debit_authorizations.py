"""The debit authorization is a record (NACHA): a telephone (TEL) debit keeps the script
read and the staff member's confirmation and emails the notice before settlement; a kiosk
(WEB) debit keeps the text shown; both are audited and cannot be changed afterwards."""

from __future__ import annotations

import hashlib

import peewee
import pytest

from billing.bank_values import NeedsVerification
from billing.event_sync import read_events
from models import AuditEntry, BankAuthorization, BankMandate, OutboundEmail, database
from models.demo import DANA_EMAIL
from tests.billing.bank_support import DELAY, PEER, THREE, emails_to, pay_three, tel, web
from tests.billing.conftest import dana_client, full_balances


@pytest.fixture
def front_desk(desk):
    return desk.sign_in_staff("Front Desk", "2468")


def test_a_telephone_debit_keeps_the_script_and_emails_the_notice_first(
        desk, front_desk, gateway, sandbox):
    payer = desk.payer_for_client(front_desk, dana_client().id)
    sandbox.configure_bank_debits(settlement_delay=DELAY)
    amounts = full_balances(THREE)
    entry, context = tel(desk, payer, amounts)
    assert "Do you authorize these debits?" in context.text
    assert all(number in context.text for number in THREE)
    assert "revoke" in context.text

    waiting = desk.pay_by_bank(payer, amounts, entry, context)

    assert isinstance(waiting, NeedsVerification)
    row = BankAuthorization.get(BankAuthorization.checkout == waiting.checkout_id)
    assert (row.kind, row.text, row.confirmation) == ("TEL", context.text, context.confirmation)
    assert row.text_sha256 == hashlib.sha256(context.text.encode()).hexdigest()
    assert row.staff_id == front_desk.staff_id and row.portal_account_id is None
    assert row.last4 == "6789"
    # The written notice and the copy are queued at once, before any debit settles.
    subjects = [e.subject for e in emails_to(DANA_EMAIL)]
    assert any("notice of bank debits" in s for s in subjects)
    assert any("your bank debit authorization" in s for s in subjects)
    audit = AuditEntry.get(AuditEntry.action == "bank.authorize")
    assert audit.result == "TEL" and row.text_sha256 in audit.details
    assert audit.actor.startswith("staff:Front Desk")

    done = desk.verify_bank_account(payer, waiting.checkout_id, descriptor_code="SM11AA")
    assert [d.status for d in done.debits] == ["processing"] * 3
    mandate = BankMandate.get(BankMandate.authorization == row.id)
    assert gateway.mandate(mandate.stripe_mandate_id).acceptance_type == "offline"
    notice_id = OutboundEmail.get(OutboundEmail.subject.contains("notice of bank debits")).id
    sandbox.advance_clock(DELAY)
    read_events(gateway)
    settled = OutboundEmail.select().where(OutboundEmail.subject.contains("received"))
    assert settled.count() == 3 and all(e.id > notice_id for e in settled)


def test_a_kiosk_debit_keeps_the_text_shown(desk, dana, gateway, sandbox):
    _amounts, waiting, _result = pay_three(desk, dana, sandbox)
    row = BankAuthorization.get(BankAuthorization.checkout == waiting.checkout_id)
    amounts = full_balances(THREE)
    _entry, context = web(desk, dana, amounts)
    assert row.kind == "WEB" and row.text == context.text
    assert (row.ssh_peer, row.ip_address) == (PEER, PEER)
    assert row.portal_account_id is not None and row.staff_id is None
    assert AuditEntry.get(AuditEntry.action == "bank.authorize").result == "WEB"
    mandate = BankMandate.get(BankMandate.authorization == row.id)
    assert gateway.mandate(mandate.stripe_mandate_id).acceptance_type == "online"
    assert mandate.bank_name == "STRIPE TEST BANK"[:20]


@pytest.mark.parametrize("statement", [
    "UPDATE bank_authorization SET text = 'I agree to nothing'",
    "UPDATE bank_authorization SET confirmation = 'no'",
    "DELETE FROM bank_authorization",
    "UPDATE bank_mandate SET stripe_mandate_id = 'mandate_forged'",
    "DELETE FROM bank_mandate",
])
def test_neither_record_can_be_changed(desk, dana, sandbox, statement):
    _amounts, waiting, _result = pay_three(desk, dana, sandbox)
    before = [(r.text, r.confirmation) for r in BankAuthorization.select()]
    mandates = [m.stripe_mandate_id for m in BankMandate.select()]
    with pytest.raises(peewee.DatabaseError, match="append-only"), database.atomic():
        database.execute_sql(statement)
    assert [(r.text, r.confirmation) for r in BankAuthorization.select()] == before
    assert [m.stripe_mandate_id for m in BankMandate.select()] == mandates
