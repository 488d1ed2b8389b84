"""The bank debit's result in words, from made-up values: pending, failed with the reason,
and the payment page's line for a debit still settling."""

from __future__ import annotations

from billing.bank_values import BankDebitLine
from models.money import Money
from tui.screens.bank_fields import masked, routing_problem
from tui.screens.bank_result import status_text
from tui.screens.payment_rows import pending_text


def line(status: str, message: str | None = None) -> BankDebitLine:
    return BankDebitLine(7, "INV-1001", Money(125000, "USD"), status, "pi_1", message)


def test_a_failed_debit_says_why_in_words():
    text = status_text(line("failed", "the bank account is closed (ACH return R02)")).plain
    assert text == "failed: the bank account is closed (ACH return R02)"


def test_a_debit_settling_says_bank_payment_pending():
    assert status_text(line("processing")).plain == "bank payment pending"
    assert pending_text([line("processing")], "en_US").plain == (
        "INV-1001 · $1,250.00 · bank payment pending (settles in a few business days)")


def test_routing_numbers_are_checked_by_their_checksum():
    assert routing_problem("110000000") == ""
    assert "not valid" in routing_problem("110000001")
    assert "exactly 9 digits" in routing_problem("11000000")


def test_an_account_number_shows_only_its_last_four_digits():
    assert masked("000123456789") == "••••••••6789"
    assert masked("123") == "123"
