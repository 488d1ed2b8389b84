"""An empty or blank amount is an error, never "the whole balance": an unset shell variable
must not turn a part payment or a part refund into a full one. Only a missing `=AMOUNT` (or
a missing --amount) means the balance, or all that is left."""

from __future__ import annotations

import json

import pytest

from models import Invoice, InvoicePayment
from tests.billing.cli_support import DANA, EXP_CVC, cli, ledger_state

__all__ = ["cli"]
VISA = "4242424242424242"


@pytest.mark.parametrize("spec", ["INV-1012=", "INV-1012= ", "INV-1012=\t"])
def test_pay_with_a_blank_amount_is_refused(cli, sandbox, spec):
    before = ledger_state()
    code, out, err = cli("pay", "--client", DANA, "--invoice", spec, "--card", VISA, *EXP_CVC)
    assert code == 2 and out == ""
    assert "the amount after '=' is empty" in err
    assert ledger_state() == before
    assert sandbox.count("payment_intent") == 0


@pytest.mark.parametrize("amount", ["", "  "])
def test_pay_by_code_with_a_blank_amount_is_refused(cli, sandbox, amount):
    before = ledger_state()
    code, out, err = cli("pay", "--code", "LINK-1013", "--amount", amount, "--card", VISA,
                         *EXP_CVC)
    assert code == 2 and out == "" and "--amount is empty" in err
    assert ledger_state() == before
    assert sandbox.count("payment_intent") == 0


def test_offline_payment_with_a_blank_amount_is_refused(cli):
    before = ledger_state()
    code, out, err = cli("offline-payment", "--staff", "Front Desk", "--client", DANA,
                         "--invoice", "INV-1021= ", "--method", "check", "--reference", "C-1")
    assert code == 2 and out == ""
    assert "the amount after '=' is empty" in err
    assert ledger_state() == before


def test_refund_with_a_blank_amount_is_refused_and_a_missing_one_refunds_all(cli, sandbox):
    code, out, err = cli("pay", "--client", DANA, "--invoice", "INV-1012", "--card", VISA,
                         *EXP_CVC, "--json")
    assert code == 0, err  # no `=AMOUNT`: the whole balance
    [paid] = json.loads(out)["transactions"]
    assert paid["amount_minor"] == 47500
    before = ledger_state()
    for blank in ("", " "):
        code, out, err = cli("refund", "--invoice-payment", str(paid["invoice_payment"]),
                             "--amount", blank, "--reason", "typo", "--staff", "Front Desk")
        assert code == 2 and out == "" and "--amount is empty" in err
    assert ledger_state() == before
    assert sandbox.count("refund") == 0

    code, out, err = cli("refund", "--invoice-payment", str(paid["invoice_payment"]),
                         "--reason", "cancelled", "--staff", "Front Desk")
    assert code == 0, err
    assert InvoicePayment.get_by_id(paid["invoice_payment"]).refunded_minor == 47500
    assert Invoice.get(Invoice.number == "INV-1012").paid_minor == 0
