"""A bank debit is shown as "Bank •••• 6789" (the last four digits only) wherever a payment's
method is shown: the staff payments list, the receipt, the invoice's history. Card, check and
cash payments keep their words."""

from __future__ import annotations

from billing.desk_payments import payment_rows
from billing.event_sync import read_events
from billing.receipts import method_label
from tests.billing.bank_support import DELAY, pay_three
from tests.billing.conftest import full_balances, invoice, keyed


def test_method_words_for_each_kind_of_payment():
    assert method_label("bank_debit", "STRIPE TEST BANK", "6789", None) == "Bank •••• 6789"
    assert method_label("bank_debit", None, None, None) == "Bank debit"
    assert method_label("bank_debit", None, "000123456789", None) == "Bank •••• 6789"
    assert method_label("card", "visa", "4242", None) == "Visa •••• 4242"
    assert method_label("check", None, None, "CHK-1004") == "Check CHK-1004"
    assert method_label("cash", None, None, None) == "Cash"


def test_a_bank_debit_reads_bank_and_its_last_four_in_the_list_receipt_and_history(
        desk, dana, gateway, sandbox):
    pay_three(desk, dana, sandbox, numbers=("INV-1001",))
    desk.pay(dana, full_balances(("INV-1004",)), keyed())
    rows = {r.invoice_number: r for r in payment_rows() if r.status != "recorded"}
    assert rows["INV-1001"].card == "Bank •••• 6789"
    assert rows["INV-1004"].card == "Visa •••• 4242"  # cards unchanged

    sandbox.advance_clock(DELAY)
    read_events(gateway)  # the debit settles: paid, with its receipt
    paid = next(r for r in payment_rows() if r.invoice_number == "INV-1001")
    assert paid.status == "captured" and paid.reference
    receipt = desk.receipt_text(paid.reference, payer=dana)
    assert "Bank •••• 6789" in receipt
    assert "test bank" not in receipt.lower()  # the bank's name is not a card brand
    history = desk.invoice_details(dana, invoice("INV-1001").id).history
    assert [h.detail for h in history if h.kind == "payment"] == ["Bank •••• 6789"]
