"""Staff sign-in and lockout, refunds, offline payments, sharing, firm switches: each
audited once, each rule a clear error with nothing changed."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.desk import Desk
from billing.errors import AmountRejected, BillingError, NotAllowed, SignInFailed, StaffLocked
from models import AuditEntry, Firm, InvoicePayment, OutboundEmail, Refund, Staff
from models.money import Money
from tests.billing.conftest import (
    TODAY,
    dana_client,
    full_balances,
    invoice,
    keyed,
    settings_for,
)


def usd(minor: int) -> Money:
    return Money(minor, "USD")


@pytest.fixture
def front(desk):
    return desk.sign_in_staff("Front Desk", "2468")


def test_five_wrong_pins_lock_the_staff_sign_in_for_fifteen_minutes(demo_sqlite, gateway,
                                                                    tmp_path):
    now = [TODAY]
    desk = Desk(settings_for("unused", tmp_path), gateway, clock=lambda: now[0])
    for left in (4, 3, 2, 1):
        with pytest.raises(SignInFailed, match=f"{left} tr") as info:
            desk.sign_in_staff("Front Desk", "0000")
        assert not isinstance(info.value, StaffLocked)
    with pytest.raises(StaffLocked, match="locked for 15 more minutes"):
        desk.sign_in_staff("Front Desk", "0000")
    with pytest.raises(StaffLocked):  # even the right PIN, while locked
        desk.sign_in_staff("Front Desk", "2468")
    now[0] = TODAY + dt.timedelta(minutes=15, seconds=1)
    assert desk.sign_in_staff("Front Desk", "2468").name == "Front Desk"
    assert Staff.get(Staff.name == "Front Desk").failed_attempts == 0
    results = [a.result for a in AuditEntry.select().where(AuditEntry.action == "staff.sign_in")
               .order_by(AuditEntry.id)]
    assert results == ["failed"] * 4 + ["locked", "ok"]


def test_an_unknown_staff_name_gets_the_same_message_as_a_wrong_pin(desk):
    with pytest.raises(SignInFailed, match="^Wrong name or PIN.$"):
        desk.sign_in_staff("Nobody", "2468")


def test_a_partial_then_full_refund_brings_the_balance_back(desk, dana, front, sandbox):
    paid = desk.pay(dana, full_balances(["INV-1001"]), keyed())
    payment_id = paid.transactions[0].invoice_payment_id
    first = desk.refund(front, payment_id, usd(20000), "overcharged")
    assert first.status == "succeeded" and first.reference == f"RF-{first.refund_id:06d}"
    assert invoice("INV-1001").paid_minor == 105000
    rest = desk.refund(front, payment_id, None, "case closed")
    assert rest.amount == usd(105000)
    assert InvoicePayment.get_by_id(payment_id).refunded_minor == 125000
    assert sum(r["amount"] for r in sandbox.objects("refund")) == 125000
    assert AuditEntry.select().where(AuditEntry.action == "refund").count() == 2
    assert "INV-1001" in [i.number for i in desk.payable_invoices(dana)]
    assert "RF-" in desk.receipt_text(rest.reference)


def test_a_refund_above_what_is_left_is_refused_and_changes_nothing(desk, dana, front, sandbox):
    paid = desk.pay(dana, full_balances(["INV-1012"]), keyed())
    payment_id = paid.transactions[0].invoice_payment_id
    desk.refund(front, payment_id, usd(40000), "partial")
    before = (Refund.select().count(), AuditEntry.select().count(), sandbox.count("refund"))
    with pytest.raises(AmountRejected, match="more than what is left to refund"):
        desk.refund(front, payment_id, usd(7501), "too much")
    with pytest.raises(BillingError, match="reason"):
        desk.refund(front, payment_id, usd(100), "  ")
    assert (Refund.select().count(), AuditEntry.select().count(),
            sandbox.count("refund")) == before


def test_refunding_a_whole_checkout_refunds_each_invoice_payment(desk, dana, front, sandbox):
    paid = desk.pay(dana, full_balances(["INV-1001", "INV-1012", "INV-1021"]), keyed())
    results = desk.refund_checkout(front, paid.checkout_id, "paid by mistake")
    assert [r.status for r in results] == ["succeeded"] * 3
    assert sandbox.count("refund") == 3
    assert all(invoice(n).paid_minor == 0 for n in ("INV-1001", "INV-1012", "INV-1021"))
    with pytest.raises(NotAllowed, match="nothing left to refund"):
        desk.refund_checkout(front, paid.checkout_id, "again")


def test_an_offline_check_over_several_invoices_is_recorded_in_one_go(desk, front):
    dana = dana_client()
    audits = AuditEntry.select().where(AuditEntry.action == "offline_payment.record").count()
    amounts = {invoice("INV-1001").id: usd(25000), invoice("INV-1013").id: usd(19000)}
    result = desk.record_offline_payment(front, dana.id, amounts, "check", "CHK-2001")
    assert result.succeeded
    assert [t.status for t in result.transactions] == ["recorded", "recorded"]
    assert all(t.reference and t.reference.startswith("R-") for t in result.transactions)
    assert invoice("INV-1001").paid_minor == 25000 and invoice("INV-1013").balance_minor == 0
    assert AuditEntry.select().where(
        AuditEntry.action == "offline_payment.record").count() == audits + 2
    emails = list(OutboundEmail.select().where(OutboundEmail.checkout == result.checkout_id))
    assert len(emails) == 1 and emails[0].recipient == dana.email
    message = emails[0].message
    assert "INV-1001" in message and "INV-1013" in message and "CHK-2001" in message


@pytest.mark.parametrize(("method", "reference", "amounts", "error"), [
    ("iou", "X", {"INV-1001": 100}, "check, cash or bank_transfer"),
    ("check", "", {"INV-1001": 100}, "reference"),
    ("check", "CHK-1", {"INV-1001": 125001}, "more than the balance"),
    ("check", "CHK-1", {"INV-1015": 100}, "not an issued invoice"),
    ("cash", "", {}, "at least one invoice"),
])
def test_a_bad_offline_payment_is_refused_and_changes_nothing(desk, front, method, reference,
                                                              amounts, error):
    before = (InvoicePayment.select().count(), AuditEntry.select().count(),
              OutboundEmail.select().count())
    with pytest.raises(BillingError, match=error):
        desk.record_offline_payment(front, dana_client().id,
                                    {invoice(n).id: usd(m) for n, m in amounts.items()},
                                    method, reference)
    assert (InvoicePayment.select().count(), AuditEntry.select().count(),
            OutboundEmail.select().count()) == before


def test_only_an_admin_changes_the_firm_switches(desk, front):
    with pytest.raises(NotAllowed):
        desk.set_firm_switches(front, online=False)
    admin = desk.sign_in_staff("Avery Admin", "1357")
    info = desk.set_firm_switches(admin, multi_invoice=False)
    assert info.multi_invoice_payments_enabled is False
    assert Firm.get().multi_invoice_payments_enabled is False
    assert AuditEntry.select().where(AuditEntry.action == "firm.switches").count() == 1


def test_a_link_share_gives_a_code_that_opens_only_that_invoice(desk, front):
    with pytest.raises(NotAllowed, match="draft"):
        desk.share_invoice(front, invoice("INV-1015").id, "text_link", None)
    inv = invoice("INV-1012")
    share = desk.share_invoice(front, inv.id, "copied_link", None)
    payer, opened = desk.payer_for_code(share.payment_code)
    assert opened.number == "INV-1012" and payer.kind == "code"
    with pytest.raises(NotAllowed):
        desk.invoice_details(payer, inv.id)


def test_staff_find_a_client_by_invoice_or_case_number(desk, front):
    for query in ("INV-1009", "WHI-2025-021", "whitfield", "dana.whitfield@"):
        assert [c.name for c in desk.find_clients(front, query)] == ["Dana Whitfield"]
    summary = desk.find_clients(front, "INV-1009")[0]
    assert summary.payable_count == 6 and summary.balance.minor > 0


def test_the_payments_list_shows_card_and_refunds(desk, dana, front):
    paid = desk.pay(dana, full_balances(["INV-1021"]), keyed())
    desk.refund(front, paid.transactions[0].invoice_payment_id, usd(1000), "goodwill")
    rows = desk.payments(front, checkout_id=paid.checkout_id)
    assert len(rows) == 1
    assert rows[0].card == "Visa •••• 4242" and rows[0].refunded == usd(1000)
    assert rows[0].refundable == usd(8525)
