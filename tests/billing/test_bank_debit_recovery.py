"""Bank debits whose answer was lost, whose process stopped, or whose account was never
verified: each debit is recorded once, never sent twice past Stripe's key window, and no
invoice stays held for good (SQLite and PostgreSQL)."""

from __future__ import annotations

import datetime as dt

import pytest

from billing import bank_checkout
from billing.bank_checkout import resume_bank_checkout
from billing.bank_reserve import reserve_bank_checkout
from billing.event_sync import read_events
from billing.events import apply_event
from billing.reconcile import reconcile
from gateway import errors as gw
from models import AuditEntry, BankAuthorization, BankMandate, Checkout, InvoicePayment
from models.firm import utcnow
from tests.billing.bank_support import DELAY, THREE, pay_three, web
from tests.billing.conftest import balances, full_balances
from tests.billing.stripe_events import event


class _Lost:
    """The real gateway, except that the debit of one invoice loses its answer: after
    Stripe made it (`made`), or before it reached Stripe."""

    def __init__(self, gateway, number: str, *, made: bool = True) -> None:
        self._gateway, self.number, self.made = gateway, number, made

    def __getattr__(self, name):
        return getattr(self._gateway, name)

    def start_bank_debit(self, **kwargs):
        if kwargs["metadata"]["invoice_number"] != self.number:
            return self._gateway.start_bank_debit(**kwargs)
        if self.made:
            self._gateway.start_bank_debit(**kwargs)
        raise gw.OutcomeUnknown("The connection was lost.")


def _statuses(checkout_id: int) -> list[str]:
    return [p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout == checkout_id).order_by(InvoicePayment.position)]


def _payable(desk, payer) -> set[str]:
    return {i.number for i in desk.payable_invoices(payer)}


def test_a_lost_answer_settled_by_its_event_before_resuming(desk, dana, gateway, sandbox):
    desk.gateway = _Lost(gateway, "INV-1009")
    _amounts, _waiting, result = pay_three(desk, dana, sandbox)
    assert _statuses(result.checkout_id) == ["processing", "processing", "authorizing"]
    sandbox.advance_clock(DELAY)

    read_events(gateway)  # the event comes first: found by the metadata Paydesk stores

    assert _statuses(result.checkout_id) == ["captured"] * 3
    resume_bank_checkout(gateway, result.checkout_id)
    assert _statuses(result.checkout_id) == ["captured"] * 3
    assert sandbox.count("payment_intent") == 3
    assert all(balances(THREE)[n] == 0 for n in THREE)
    assert AuditEntry.select().where(
        (AuditEntry.action == "bank_debit.settle")
        & AuditEntry.details.contains(f"checkout:{result.checkout_id} ")).count() == 3
    assert Checkout.get_by_id(result.checkout_id).status == "succeeded"


def test_a_lost_answer_found_settled_when_resuming_is_recorded_paid(desk, dana, gateway,
                                                                    sandbox):
    desk.gateway = _Lost(gateway, "INV-1009")
    _amounts, _waiting, result = pay_three(desk, dana, sandbox)
    sandbox.advance_clock(DELAY)  # settled at Stripe; its event not read yet

    resume_bank_checkout(gateway, result.checkout_id)

    payment = InvoicePayment.get(InvoicePayment.checkout == result.checkout_id,
                                 InvoicePayment.position == 2)
    assert payment.status == "captured" and payment.receipt_number
    assert balances(("INV-1009",))["INV-1009"] == 0
    read_events(gateway)  # its event now changes nothing
    assert AuditEntry.select().where(
        (AuditEntry.action == "bank_debit.settle")
        & AuditEntry.details.contains(f"checkout:{result.checkout_id} ")).count() == 3


def test_resuming_after_the_key_window_reads_stripe_back_never_debits_twice(
        desk, dana, gateway, sandbox):
    desk.gateway = _Lost(gateway, "INV-1009")
    _amounts, _waiting, result = pay_three(desk, dana, sandbox)
    sandbox.advance_clock(25 * 3600)  # Stripe has pruned the key

    resume_bank_checkout(gateway, result.checkout_id, now=utcnow() + dt.timedelta(hours=25))

    assert sandbox.count("payment_intent") == 3  # one per invoice
    # Found settled at Stripe: recorded paid; the other two wait for their events.
    assert _statuses(result.checkout_id) == ["processing", "processing", "captured"]


def test_a_debit_never_made_is_released_after_the_key_window(desk, dana, gateway, sandbox):
    desk.gateway = _Lost(gateway, "INV-1009", made=False)
    _amounts, _waiting, result = pay_three(desk, dana, sandbox)
    sandbox.advance_clock(25 * 3600)

    resume_bank_checkout(gateway, result.checkout_id, now=utcnow() + dt.timedelta(hours=25))

    assert sandbox.count("payment_intent") == 2
    assert _statuses(result.checkout_id)[2] == "cancelled"
    assert "INV-1009" in _payable(desk, dana)


def test_a_debit_never_made_is_sent_again_inside_the_key_window(desk, dana, gateway,
                                                               sandbox):
    desk.gateway = _Lost(gateway, "INV-1009", made=False)
    _amounts, _waiting, result = pay_three(desk, dana, sandbox)

    resume_bank_checkout(gateway, result.checkout_id)

    assert sandbox.count("payment_intent") == 3
    assert _statuses(result.checkout_id) == ["processing"] * 3


def _crash_after_reserve(desk, payer) -> int:
    amounts = full_balances(THREE)
    entry, context = web(desk, payer, amounts)
    checkout_id = reserve_bank_checkout(payer, amounts, entry, context,
                                        today=desk._today())
    # The process died: its lease lapses.
    Checkout.update(lease_until=utcnow() - dt.timedelta(seconds=1)).where(
        Checkout.id == checkout_id).execute()
    return checkout_id


def test_reconciliation_releases_a_checkout_interrupted_after_reserve(desk, dana, gateway,
                                                                     sandbox):
    checkout_id = _crash_after_reserve(desk, dana)
    assert not set(THREE) & _payable(desk, dana)

    report = reconcile(gateway, terminal="test")

    assert report.checkouts_settled == 1
    assert _statuses(checkout_id) == ["cancelled"] * 3
    assert Checkout.get_by_id(checkout_id).status == "failed"
    assert set(THREE) <= _payable(desk, dana)
    assert sandbox.count("payment_method") == 0


def test_reconciliation_leaves_a_running_bank_checkout_alone(desk, dana, gateway, sandbox):
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, amounts)
    checkout_id = reserve_bank_checkout(dana, amounts, entry, context, today=desk._today())

    reconcile(gateway, terminal="test")

    assert _statuses(checkout_id) == ["pending"] * 3


class _Crash(Exception):
    pass


def test_reconciliation_finishes_debits_interrupted_after_sending(
        desk, dana, gateway, sandbox, monkeypatch):
    calls = []

    def crash_on_second(step: str) -> None:
        if step == "authorize-returned":
            calls.append(step)
            if len(calls) == 2:
                raise _Crash  # the process stops: id stored, answer not applied
    monkeypatch.setattr(bank_checkout, "crash_point", crash_on_second)
    with pytest.raises(_Crash):
        pay_three(desk, dana, sandbox)
    checkout_id = Checkout.select().order_by(Checkout.id.desc()).get().id
    assert _statuses(checkout_id) == ["processing", "authorizing", "pending"]

    reconcile(gateway, terminal="test")

    assert _statuses(checkout_id) == ["processing"] * 3
    assert sandbox.count("payment_intent") == 3
    assert BankMandate.select().join(BankAuthorization).where(
        BankAuthorization.checkout == checkout_id).count() == 1
    sandbox.advance_clock(DELAY)
    read_events(gateway)
    assert _statuses(checkout_id) == ["captured"] * 3


def _bank_event(kind: str, payment: InvoicePayment, **fields) -> dict:
    obj = {"id": payment.stripe_payment_intent_id, "object": "payment_intent",
           "amount": payment.amount_minor, "payment_method_types": ["us_bank_account"],
           "metadata": {}, **fields}
    return event(kind, obj)


@pytest.mark.parametrize(("kind", "fields"), [
    ("payment_intent.payment_failed", {"status": "requires_payment_method",
     "last_payment_error": {"code": "payment_method_microdeposit_verification_timeout",
                            "message": "The microdeposits were not verified in time."}}),
    ("payment_intent.canceled", {"status": "canceled", "cancellation_reason": "abandoned"}),
])
def test_an_unverified_account_failed_by_stripe_releases_every_invoice(
        desk, dana, gateway, sandbox, kind, fields):
    sandbox.configure_bank_debits(settlement_delay=DELAY)
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, amounts)
    waiting = desk.pay_by_bank(dana, amounts, entry, context)
    first = InvoicePayment.get(InvoicePayment.checkout == waiting.checkout_id,
                               InvoicePayment.position == 0)

    apply_event(_bank_event(kind, first, **fields))

    assert _statuses(waiting.checkout_id) == ["failed", "cancelled", "cancelled"]
    assert Checkout.get_by_id(waiting.checkout_id).status == "failed"
    assert set(THREE) <= _payable(desk, dana)


def test_a_debit_waiting_for_verification_when_the_process_stopped_still_verifies(
        desk, dana, gateway, sandbox, monkeypatch):
    def crash(step: str) -> None:
        if step == "authorize-returned":
            raise _Crash
    monkeypatch.setattr(bank_checkout, "crash_point", crash)
    sandbox.configure_bank_debits(settlement_delay=DELAY)
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, amounts)
    with pytest.raises(_Crash):
        desk.pay_by_bank(dana, amounts, entry, context)
    checkout_id = Checkout.select().order_by(Checkout.id.desc()).get().id
    monkeypatch.undo()

    report = reconcile(gateway, terminal="test")

    assert report.still_unknown == 0  # waiting for the payer, not unknown
    assert _statuses(checkout_id) == ["authorizing", "pending", "pending"]
    done = desk.verify_bank_account(dana, checkout_id, descriptor_code="SM11AA")
    assert [d.status for d in done.debits] == ["processing"] * 3
    assert sandbox.count("payment_intent") == 3
