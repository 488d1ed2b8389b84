"""Bank debits are not all-or-nothing: one that cannot start leaves the others running; a
lost answer is replayed with its stored key (never a second debit); what is pending shows
with its amount; the firm's switch; receipts of settled debits show the last four only."""

from __future__ import annotations

import pytest

from billing.bank_checkout import resume_bank_checkout
from billing.bank_pending import BANK_PAYMENT_PENDING
from billing.errors import PaymentsDisabled
from billing.event_sync import read_events
from gateway import errors as gw
from models import Checkout, InvoicePayment
from tests.billing.bank_support import DELAY, SUCCEEDS, THREE, pay_three, web
from tests.billing.conftest import balances, full_balances, invoice


class _Refusing:
    """The real gateway, except that the debit of one invoice is refused or its answer lost
    (after Stripe made it)."""

    def __init__(self, gateway, invoice_number: str, *, lose_answer: bool = False) -> None:
        self._gateway, self.number, self.lose_answer = gateway, invoice_number, lose_answer

    def __getattr__(self, name):
        return getattr(self._gateway, name)

    def start_bank_debit(self, **kwargs):
        if kwargs["metadata"]["invoice_number"] != self.number:
            return self._gateway.start_bank_debit(**kwargs)
        if self.lose_answer:
            self._gateway.start_bank_debit(**kwargs)
            raise gw.OutcomeUnknown("The connection was lost.")
        raise gw.InvalidRequest("The bank refused this debit.", code="debit_refused")


def test_one_debit_refused_does_not_undo_the_others(desk, dana, gateway, sandbox):
    desk.gateway = _Refusing(gateway, "INV-1004")
    before = balances(THREE)
    _amounts, _waiting, result = pay_three(desk, dana, sandbox)

    by_number = {d.invoice_number: d for d in result.debits}
    assert [by_number[n].status for n in THREE] == ["processing", "failed", "processing"]
    assert "INV-1004 was not debited" in result.message
    assert "The other debits were not undone." in result.message
    assert "INV-1004" in {i.number for i in desk.payable_invoices(dana)}  # released at once
    sandbox.advance_clock(DELAY)
    read_events(gateway)
    after = balances(THREE)
    assert after["INV-1004"] == before["INV-1004"]
    assert after["INV-1001"] == 0 and after["INV-1009"] == 0
    assert Checkout.get_by_id(result.checkout_id).status == "failed"  # not every debit paid


def test_a_lost_answer_is_replayed_with_its_key_never_debited_twice(desk, dana, gateway,
                                                                    sandbox):
    desk.gateway = _Refusing(gateway, "INV-1009", lose_answer=True)
    _amounts, _waiting, result = pay_three(desk, dana, sandbox)
    assert [d.status for d in result.debits] == ["processing", "processing", "unknown"]
    assert "INV-1009" not in {i.number for i in desk.payable_invoices(dana)}  # still held

    again = resume_bank_checkout(gateway, result.checkout_id)

    assert [d.status for d in again.debits] == ["processing"] * 3
    assert sandbox.count("payment_intent") == 3
    sandbox.advance_clock(DELAY)
    read_events(gateway)
    assert {p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout == result.checkout_id)} == {"captured"}


def test_pending_bank_payments_show_until_they_settle(desk, dana, gateway, sandbox):
    amounts, _waiting, _result = pay_three(desk, dana, sandbox)
    pending = desk.pending_bank_payments(dana)
    assert [(p.invoice_number, p.amount, p.message) for p in pending] == [
        (n, amounts[invoice(n).id], BANK_PAYMENT_PENDING) for n in THREE]
    sandbox.advance_clock(DELAY)
    read_events(gateway)
    assert desk.pending_bank_payments(dana) == []


def test_the_firm_switch_turns_bank_debits_off(desk, dana, sandbox):
    admin = desk.sign_in_staff("Avery Admin", "1357")
    assert desk.set_bank_debits(admin, False) is False
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, amounts)
    count = Checkout.select().count()
    with pytest.raises(PaymentsDisabled):
        desk.pay_by_bank(dana, amounts, entry, context)
    assert Checkout.select().count() == count


def test_a_settled_debit_has_a_receipt_showing_the_last_four_digits(desk, dana, gateway,
                                                                   sandbox):
    _amounts, _waiting, result = pay_three(desk, dana, sandbox, numbers=("INV-1001",))
    sandbox.advance_clock(DELAY)
    read_events(gateway)
    number = InvoicePayment.get_by_id(result.debits[0].invoice_payment_id).receipt_number
    text = desk.receipt_text(number, payer=dana)
    assert "6789" in text and SUCCEEDS not in text


def test_a_settled_debit_is_refunded_like_a_card_payment(desk, dana, gateway, sandbox):
    _amounts, _waiting, result = pay_three(desk, dana, sandbox, numbers=("INV-1001",))
    sandbox.advance_clock(DELAY)
    read_events(gateway)
    payment = InvoicePayment.get_by_id(result.debits[0].invoice_payment_id)
    staff = desk.sign_in_staff("Front Desk", "2468")
    refunded = desk.refund(staff, payment.id, None, "Paid twice")
    assert refunded.status == "verifying"  # an ACH refund is pending at first, as at Stripe
    sandbox.advance_clock(DELAY)
    read_events(gateway)
    desk.reconcile()
    after = InvoicePayment.get_by_id(payment.id)
    assert after.refunded_minor == payment.amount_minor
    assert balances(("INV-1001",))["INV-1001"] == payment.amount_minor
