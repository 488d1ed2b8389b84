"""A bank checkout waiting for its microdeposit, against reconciliation, crashes and another
process (SQLite and PostgreSQL): Stripe's 10 days run out and reconciliation releases the
debits instead of sending them again; a failed verification is saved in one transaction;
the code is refused while another process drives the checkout, each debit is sent once
when two runs race, and a 409 "key in use" is an unknown outcome; the wait records the
deposit's type and Stripe's time, and is closed when verified outside Paydesk; payment
codes are refused and staff must be signed in."""

from __future__ import annotations

import datetime as dt

import pytest
import stripe

from billing import bank_checkout, bank_settlement
from billing.bank_values import BankCheckoutResult, NeedsVerification
from billing.errors import BillingError, NotAllowed
from billing.event_sync import read_events
from billing.values import Payer, StaffSession
from gateway.errors import OutcomeUnknown
from gateway.translate import translate
from models import BankVerification, Checkout, InvoicePayment
from models.demo import DANA_EMAIL
from models.firm import utcnow
from tests.billing.bank_support import DELAY, THREE, emails_to, web
from tests.billing.conftest import full_balances

TEN_DAYS = 10 * 24 * 3600


def _statuses(checkout_id: int) -> list[str]:
    return [p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout == checkout_id).order_by(InvoicePayment.position)]


def _wait(desk, dana, sandbox, microdeposit_type: str = "descriptor_code") -> int:
    sandbox.configure_bank_debits(settlement_delay=DELAY, microdeposit_type=microdeposit_type)
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, amounts)
    waiting = desk.pay_by_bank(dana, amounts, entry, context)
    assert isinstance(waiting, NeedsVerification)
    return waiting.checkout_id


def _kept(checkout_id: int) -> BankVerification:
    return BankVerification.get(BankVerification.checkout == checkout_id)


def _pi_count(sandbox) -> int:
    return len(sandbox.objects("payment_intent"))


def test_reconciliation_after_ten_days_releases_instead_of_sending_again(
        desk, dana, gateway, sandbox):
    checkout_id = _wait(desk, dana, sandbox)
    sent = _pi_count(sandbox)
    sandbox.advance_clock(TEN_DAYS + 60)
    desk.reconcile()
    read_events(gateway)
    assert _statuses(checkout_id) == ["failed", "cancelled", "cancelled"]
    assert _pi_count(sandbox) == sent  # no new debit, no new microdeposit
    assert _kept(checkout_id).status == "expired"
    assert Checkout.get_by_id(checkout_id).status == "failed"
    assert set(THREE) <= {i.number for i in desk.payable_invoices(dana)}
    subjects = [e.subject for e in emails_to(DANA_EMAIL)]
    assert sum("bank payment failed" in s for s in subjects) == 1


def test_out_of_tries_is_saved_in_one_transaction(desk, dana, gateway, sandbox, monkeypatch):
    checkout_id = _wait(desk, dana, sandbox)

    def crash(*_args, **_kwargs):
        raise RuntimeError("the process stopped here")

    monkeypatch.setattr(bank_settlement, "close_verification", crash)
    with pytest.raises(RuntimeError):
        desk.verify_bank_account(dana, checkout_id, descriptor_code="SM33CC")
    # Nothing of the failure was kept: not the failed debit without its released others.
    assert _statuses(checkout_id) == ["authorizing", "pending", "pending"]
    assert _kept(checkout_id).status == "waiting"
    monkeypatch.undo()
    read_events(gateway)  # Stripe's payment_failed: applied now, all at once
    assert _statuses(checkout_id) == ["failed", "cancelled", "cancelled"]
    assert _kept(checkout_id).status == "failed"


def test_the_code_is_refused_while_another_process_drives_the_checkout(
        desk, dana, gateway, sandbox):
    checkout_id = _wait(desk, dana, sandbox)
    Checkout.update(lease_owner="another-host/boot/ns/4242/99",
                    lease_until=utcnow() + dt.timedelta(seconds=60)).where(
        Checkout.id == checkout_id).execute()
    with pytest.raises(BillingError, match="another terminal"):
        desk.verify_bank_account(dana, checkout_id, descriptor_code="SM11AA")
    assert _statuses(checkout_id) == ["authorizing", "pending", "pending"]
    assert [pi["status"] for pi in sandbox.objects("payment_intent")] == ["requires_action"]
    # Once that lease has ended, the code is taken.
    Checkout.update(lease_until=utcnow() - dt.timedelta(seconds=1)).where(
        Checkout.id == checkout_id).execute()
    result = desk.verify_bank_account(dana, checkout_id, descriptor_code="SM11AA")
    assert isinstance(result, BankCheckoutResult) and len(result.processing) == 3
    assert Checkout.get_by_id(checkout_id).lease_owner is None  # given up at the end


def test_two_runs_racing_send_each_debit_once(desk, dana, gateway, sandbox, monkeypatch):
    checkout_id = _wait(desk, dana, sandbox)
    sends: list[str] = []
    real_send = gateway.start_bank_debit

    def counted(**kwargs):
        sends.append(kwargs["idempotency_key"])
        return real_send(**kwargs)

    monkeypatch.setattr(gateway, "start_bank_debit", counted)
    real_mandate = bank_checkout._mandate_of
    raced = []

    def other_run_first(authorization):
        # Another run read the same pending debits and sends them before this one goes on.
        if not raced:
            raced.append(True)
            bank_checkout._start_debits(gateway, checkout_id)
        return real_mandate(authorization)

    monkeypatch.setattr(bank_checkout, "_mandate_of", other_run_first)
    result = desk.verify_bank_account(dana, checkout_id, descriptor_code="SM11AA")
    assert isinstance(result, BankCheckoutResult)
    assert len(sends) == len(set(sends)) == 2  # the two debits after the verified one
    assert _statuses(checkout_id) == ["processing"] * 3


def test_a_key_still_in_use_is_an_unknown_outcome_never_a_refusal():
    in_use = stripe.IdempotencyError(
        "There is currently another in-progress request using this idempotent key (that "
        "probably means you submitted twice, and the other request is still going "
        "through): k. Please try again later.", http_status=409,
        json_body={"error": {"type": "idempotency_error", "code": "idempotency_key_in_use"}},
        code="idempotency_key_in_use")
    assert isinstance(translate(in_use), OutcomeUnknown)
    other_params = stripe.IdempotencyError("Keys for idempotent requests can only be used "
                                           "with the same parameters", http_status=400)
    assert not isinstance(translate(other_params), OutcomeUnknown)


def test_the_wait_keeps_the_deposits_type_and_stripes_time(desk, dana, gateway, sandbox):
    checkout_id = _wait(desk, dana, sandbox, microdeposit_type="amounts")
    kept = _kept(checkout_id)
    pi = sandbox.objects("payment_intent")[0]
    asked = dt.datetime.fromtimestamp(pi["created"], dt.UTC).replace(tzinfo=None)
    assert kept.microdeposit_type == "amounts"
    assert (kept.requested_at, kept.expires_at) == (asked, asked + dt.timedelta(days=10))
    offer = desk.bank_notes(dana).waiting[0]
    assert offer.microdeposit_type == "amounts"
    # A code where two amounts were sent: a clear message, nothing sent, no try used.
    other = desk.verify_bank_account(dana, checkout_id, descriptor_code="SM11AA")
    assert isinstance(other, NeedsVerification) and "two amounts" in other.message
    assert _kept(checkout_id).attempts_left is None
    done = desk.verify_bank_account(dana, checkout_id, amounts=(32, 45))
    assert isinstance(done, BankCheckoutResult) and len(done.processing) == 3


def test_verified_outside_paydesk_closes_the_wait(desk, dana, gateway, sandbox):
    checkout_id = _wait(desk, dana, sandbox)
    pi_id = _kept(checkout_id).stripe_payment_intent_id
    # The payer used Stripe's own verification page: Paydesk was not asked.
    gateway.verify_microdeposits(pi_id, descriptor_code="SM11AA", idempotency_key="outside")
    desk.reconcile()
    assert _kept(checkout_id).status == "verified"
    assert _statuses(checkout_id) == ["processing"] * 3
    assert desk.bank_notes(dana).waiting == ()


def test_payment_codes_are_refused_and_staff_must_be_signed_in(desk, dana, sandbox):
    checkout_id = _wait(desk, dana, sandbox)
    code = Payer(kind="code", client_id=dana.client_id, client_name="", email=None,
                 code_invoice_id=1)
    with pytest.raises(NotAllowed):
        desk.verify_bank_account(code, checkout_id, descriptor_code="SM11AA")
    with pytest.raises(NotAllowed):
        desk.bank_notes(code)
    gone = Payer(kind="staff", client_id=dana.client_id, client_name=dana.client_name,
                 email=dana.email, staff=StaffSession(staff_id=999_999, name="Nobody",
                                                      role="front_desk"))
    with pytest.raises(NotAllowed):
        desk.verify_bank_account(gone, checkout_id, descriptor_code="SM11AA")
    with pytest.raises(NotAllowed):
        desk.bank_notes(gone)
    assert _statuses(checkout_id) == ["authorizing", "pending", "pending"]


def test_reconciliation_records_only_a_wait_stripe_has(desk, dana, gateway, sandbox):
    """What migration 0012 leaves to reconciliation: a checkout under way before it has no
    row; reading Stripe back gives one only to a debit in requires_action."""
    waiting = _wait(desk, dana, sandbox, microdeposit_type="amounts")
    BankVerification.delete().execute()  # as before 0012
    pi = sandbox.objects("payment_intent")[0]
    desk.reconcile()
    kept = _kept(waiting)
    assert (kept.status, kept.stripe_payment_intent_id, kept.microdeposit_type) == (
        "waiting", pi["id"], "amounts")

    # Sent and verified, its answer not yet applied: no wait is recorded for it.
    gateway.verify_microdeposits(pi["id"], amounts=(32, 45), idempotency_key="outside-2")
    BankVerification.delete().execute()
    desk.reconcile()
    assert not BankVerification.select().where(BankVerification.checkout == waiting).exists()
    assert _statuses(waiting) == ["processing"] * 3
