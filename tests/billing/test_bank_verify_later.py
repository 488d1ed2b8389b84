"""The microdeposit's code on a later visit (SQLite and PostgreSQL): the wait is kept
(bank_verification, migration 0012), offered again with exactly the debits that were
authorized, a wrong code changes nothing and says how many tries are left, Stripe's limit
on tries ends it, and past Stripe's 10 days the holds are released and the payer is told."""

from __future__ import annotations

import pytest
from playhouse.test_utils import count_queries

from billing.bank_values import BankCheckoutResult, NeedsVerification
from billing.errors import BillingError
from billing.event_sync import read_events
from models import BankVerification, Checkout, InvoicePayment
from models.demo import DANA_EMAIL
from tests.billing.bank_support import DELAY, FAILS, THREE, emails_to, pay_three, web
from tests.billing.conftest import full_balances, invoice, keyed

TEN_DAYS = 10 * 24 * 3600
TIMED_OUT = "the bank account was not verified within 10 days"


def _statuses(checkout_id: int) -> list[str]:
    return [p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout == checkout_id).order_by(InvoicePayment.position)]


def _held(desk, dana) -> bool:
    return not set(THREE) & {i.number for i in desk.payable_invoices(dana)}


def _leave_it_for_later(desk, dana, sandbox, account: str = "000123456789"):
    sandbox.configure_bank_debits(settlement_delay=DELAY)
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, amounts, account)
    waiting = desk.pay_by_bank(dana, amounts, entry, context)
    assert isinstance(waiting, NeedsVerification)
    return amounts, waiting.checkout_id


def test_the_code_on_a_later_visit_starts_exactly_the_debits_authorized(
        desk, dana, gateway, sandbox):
    amounts, checkout_id = _leave_it_for_later(desk, dana, sandbox)
    kept = BankVerification.get(BankVerification.checkout == checkout_id)
    assert (kept.status, kept.client_id, kept.attempts_left) == ("waiting", dana.client_id, None)
    assert kept.stripe_payment_intent_id.startswith("pi_")
    assert (kept.expires_at - kept.requested_at).days == 10

    # A later visit (a new sign-in reads the notes afresh): offered, with its debits.
    notes = desk.bank_notes(dana)
    assert [w.checkout_id for w in notes.waiting] == [checkout_id]
    offer = notes.waiting[0]
    assert [d.invoice_number for d in offer.debits] == list(THREE)
    assert [d.amount for d in offer.debits] == [amounts[invoice(n).id] for n in THREE]
    assert offer.last4 == "6789" and offer.expires_on == kept.expires_at.date()
    assert {d.checkout_id for d in notes.pending} == {checkout_id}
    assert _held(desk, dana)

    result = desk.verify_bank_account(dana, checkout_id, descriptor_code="sm11aa")
    assert isinstance(result, BankCheckoutResult)
    assert [(d.invoice_number, d.status) for d in result.debits] == [
        (n, "processing") for n in THREE]
    assert BankVerification.get_by_id(kept.id).status == "verified"
    assert desk.bank_notes(dana).waiting == ()
    with pytest.raises(BillingError, match="verified already"):
        desk.verify_bank_account(dana, checkout_id, descriptor_code="SM11AA")
    sandbox.advance_clock(DELAY)
    read_events(gateway)
    assert _statuses(checkout_id) == ["captured"] * 3


def test_a_wrong_code_says_the_tries_left_and_changes_nothing(desk, dana, gateway, sandbox):
    _amounts, checkout_id = _leave_it_for_later(desk, dana, sandbox)
    before = (_statuses(checkout_id), Checkout.get_by_id(checkout_id).status)
    wrong = desk.verify_bank_account(dana, checkout_id, descriptor_code="SM99ZZ")
    assert isinstance(wrong, NeedsVerification)
    assert "does not match" in wrong.message and "Nothing was changed" in wrong.message
    assert "9 tries are left" in wrong.message  # Stripe's 10 for a descriptor code
    assert (_statuses(checkout_id), Checkout.get_by_id(checkout_id).status) == before
    assert _held(desk, dana)
    assert desk.bank_notes(dana).waiting[0].attempts_left == 9
    # Stripe sent a descriptor code: amounts are refused (as Stripe refuses them), and no
    # try is used.
    other = desk.verify_bank_account(dana, checkout_id, amounts=(32, 45))
    assert isinstance(other, NeedsVerification) and "type the 6-character code" in other.message
    assert other.microdeposit_type == "descriptor_code"
    assert desk.bank_notes(dana).waiting[0].attempts_left == 9
    wrong = desk.verify_bank_account(dana, checkout_id, descriptor_code="SM98ZZ")
    assert "8 tries are left" in wrong.message
    assert desk.verify_bank_account(dana, checkout_id, descriptor_code="SM11AA").processing


def test_out_of_tries_releases_every_hold_and_says_so(desk, dana, gateway, sandbox):
    _amounts, checkout_id = _leave_it_for_later(desk, dana, sandbox)
    for left in range(9, 0, -1):
        wrong = desk.verify_bank_account(dana, checkout_id, descriptor_code="SM99ZZ")
        assert isinstance(wrong, NeedsVerification)
        assert (f"{left} tries are left" if left > 1 else "One try is left") in wrong.message
    ended = desk.verify_bank_account(dana, checkout_id, descriptor_code="SM99ZZ")
    assert isinstance(ended, BankCheckoutResult)
    assert _statuses(checkout_id) == ["failed", "cancelled", "cancelled"]
    assert "too many wrong tries" in ended.message
    assert not _held(desk, dana)
    assert BankVerification.get(BankVerification.checkout == checkout_id).status == "failed"
    with pytest.raises(BillingError, match="could not be verified"):
        desk.verify_bank_account(dana, checkout_id, descriptor_code="SM11AA")
    assert desk.bank_notes(dana).waiting == ()


def test_after_ten_days_stripe_gives_up_the_holds_are_released_and_the_payer_told(
        desk, dana, gateway, sandbox):
    _amounts, checkout_id = _leave_it_for_later(desk, dana, sandbox)
    sandbox.advance_clock(TEN_DAYS + 60)
    read_events(gateway)  # Stripe's payment_intent.payment_failed (..._timeout)

    assert _statuses(checkout_id) == ["failed", "cancelled", "cancelled"]
    assert not _held(desk, dana)
    assert BankVerification.get(BankVerification.checkout == checkout_id).status == "expired"
    assert any(TIMED_OUT in e.message.decode(errors="replace")
               if isinstance(e.message, bytes) else TIMED_OUT in e.message
               for e in emails_to(DANA_EMAIL) if "bank payment failed" in e.subject)
    notes = desk.bank_notes(dana)
    assert notes.waiting == () and notes.pending == ()
    assert {f.invoice_number for f in notes.failed} == set(THREE)
    assert TIMED_OUT in next(f.reason for f in notes.failed if f.invoice_number == THREE[0])
    with pytest.raises(BillingError, match="not entered within 10 days"):
        desk.verify_bank_account(dana, checkout_id, descriptor_code="SM11AA")


def test_a_code_typed_too_late_before_the_event_is_read_also_releases(
        desk, dana, gateway, sandbox):
    _amounts, checkout_id = _leave_it_for_later(desk, dana, sandbox)
    sandbox.advance_clock(TEN_DAYS + 60)  # no events read: Paydesk learns it from Stripe
    ended = desk.verify_bank_account(dana, checkout_id, descriptor_code="SM11AA")
    assert isinstance(ended, BankCheckoutResult)
    assert _statuses(checkout_id) == ["failed", "cancelled", "cancelled"]
    assert TIMED_OUT in ended.message
    assert BankVerification.get(BankVerification.checkout == checkout_id).status == "expired"
    assert not _held(desk, dana)
    read_events(gateway)  # the event changes nothing more
    assert _statuses(checkout_id) == ["failed", "cancelled", "cancelled"]


def test_another_clients_verification_is_refused(desk, dana, sandbox):
    from billing.values import Payer
    from models import Client

    _amounts, checkout_id = _leave_it_for_later(desk, dana, sandbox)
    other = Client.select().where(Client.id != dana.client_id).first()
    stranger = Payer(kind="client", client_id=other.id, client_name=other.name,
                     email=other.email)
    with pytest.raises(BillingError, match="no such bank payment"):
        desk.verify_bank_account(stranger, checkout_id, descriptor_code="SM11AA")
    assert desk.bank_notes(stranger).waiting == ()


def test_a_failed_debit_is_shown_until_a_newer_attempt(desk, dana, gateway, sandbox):
    _amounts, _waiting, result = pay_three(desk, dana, sandbox, account=FAILS)
    sandbox.advance_clock(DELAY)
    read_events(gateway)
    notes = desk.bank_notes(dana)
    assert notes.pending == () and notes.waiting == ()
    failed = {f.invoice_number: f for f in notes.failed}
    assert set(failed) == set(THREE)
    first = failed[THREE[0]]
    assert first.reason == "the bank could not find that account (ACH return R03)"
    assert first.amount.minor == invoice(THREE[0]).total_minor - invoice(THREE[0]).paid_minor
    # Paying it again (a newer attempt) takes its failure off; the others stay.
    desk.pay(dana, {invoice(THREE[0]).id: first.amount}, keyed())
    assert {f.invoice_number for f in desk.bank_notes(dana).failed} == set(THREE[1:])


def test_the_notes_take_one_query_whatever_the_number_of_debits(desk, dana, gateway, sandbox):
    with count_queries() as none:
        desk.bank_notes(dana)
    _leave_it_for_later(desk, dana, sandbox)
    with count_queries() as some:
        notes = desk.bank_notes(dana)
    assert len(notes.pending) == 3 and len(notes.waiting) == 1
    assert none.count == some.count == 1
