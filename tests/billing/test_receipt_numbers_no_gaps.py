"""Receipt numbers count what was paid: a declined or cancelled attempt takes no number,
so the receipts of a firm run R-000001, R-000002, ... without gaps, also when payments
are recorded at the same moment by several processes (SQLite and PostgreSQL)."""

from __future__ import annotations

import pytest

from billing.receipts import payment_receipt_number
from models import InvoicePayment
from tests.billing.conftest import DECLINED, full_balances, keyed
from tests.billing.procs import paydesk_at_once

DANA = "dana.whitfield@example.com"


def _numbers() -> list[int]:
    return sorted(int(p.receipt_number.removeprefix("R-")) for p in InvoicePayment.select()
                  .where(InvoicePayment.receipt_number.is_null(False)))


def test_a_declined_attempt_leaves_no_gap_in_the_receipt_numbers(desk, dana):
    before = _numbers()
    assert before == list(range(1, len(before) + 1))  # the demo's own receipts

    declined = desk.pay(dana, full_balances(["INV-1012"]), keyed(DECLINED))
    assert declined.status == "failed"
    paid = desk.pay(dana, full_balances(["INV-1012", "INV-1021"]), keyed())
    assert paid.succeeded

    assert [t.reference for t in paid.transactions] == [
        payment_receipt_number(len(before) + 1), payment_receipt_number(len(before) + 2)]
    assert _numbers() == list(range(1, len(before) + 3))
    # The declined attempt's payments carry no number at all.
    assert not InvoicePayment.select().where(
        (InvoicePayment.checkout == declined.checkout_id)
        & InvoicePayment.receipt_number.is_null(False)).exists()


def test_an_offline_payment_after_a_declined_attempt_takes_the_next_number(desk, dana):
    before = _numbers()
    assert desk.pay(dana, full_balances(["INV-1001"]), keyed(DECLINED)).status == "failed"
    staff = desk.sign_in_staff("Front Desk", "2468")
    recorded = desk.record_offline_payment(staff, dana.client_id, full_balances(["INV-1001"]),
                                           "check", "CHK-7001")
    assert [t.reference for t in recorded.transactions] == [
        payment_receipt_number(len(before) + 1)]


@pytest.mark.slow
def test_payments_recorded_at_once_get_consecutive_unique_numbers(database_url, demo_db,
                                                                    sandbox, tmp_path):
    before = _numbers()
    card = ["--card", "4242424242424242", "--exp", "12/34", "--cvc", "123"]
    bad = ["--card", DECLINED, "--exp", "12/34", "--cvc", "123"]
    commands = [
        ["pay", "--client", DANA, "--invoice", "INV-1001=10.00", *card],
        ["pay", "--client", DANA, "--invoice", "INV-1004=10.00", *bad],
        ["pay", "--client", DANA, "--invoice", "INV-1009=10.00", *card],
        ["pay", "--client", DANA, "--invoice", "INV-1012=10.00", *bad],
        ["pay", "--client", DANA, "--invoice", "INV-1021=10.00", *card],
        ["pay", "--client", DANA, "--invoice", "INV-1001=20.00", "--invoice",
         "INV-1012=20.00", *card],
    ]
    results = paydesk_at_once(commands, database_url, sandbox.url, tmp_path)

    ok = [r for r in results if r.returncode == 0]
    assert len(ok) == 4, [(r.returncode, r.stderr) for r in results]
    assert _numbers() == list(range(1, len(before) + 6))  # 5 payments, no gap, no repeat
