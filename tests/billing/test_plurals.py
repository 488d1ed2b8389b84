"""Words for a count follow Babel's plural rules for the firm's locale, and the engine's
failure message is written for how many invoices failed and how many are left."""

from __future__ import annotations

import pytest

from billing.failure_wording import failure_message
from billing.outcomes import Outcome
from billing.plurals import plural, plural_form, statement_sentence

FORMS = {"one": "{n} invoice", "other": "{n} invoices"}


@pytest.mark.parametrize(("count", "locale", "expected"), [
    (1, "en_US", "1 invoice"),
    (2, "en_US", "2 invoices"),
    (0, "en_US", "0 invoices"),
    (1000, "en_US", "1,000 invoices"),
    (0, "fr_FR", "0 invoice"),  # French counts zero as "one"
    (1000, "de_DE", "1.000 invoices"),
    (2, "not_a_locale", "2 invoices"),
])
def test_the_form_follows_the_locales_plural_rule(count, locale, expected):
    assert plural(count, locale, **FORMS) == expected


def test_a_category_not_given_reads_as_other():
    assert plural_form(5, "pl_PL") == "many"
    assert plural(5, "pl_PL", **FORMS) == "5 invoices"
    assert plural(5, "pl_PL", many="{n} (many)", **FORMS) == "5 (many)"


def test_the_statement_sentence_is_written_for_its_count():
    assert statement_sentence(1, "en_US") == "1 transaction will appear on your statement."
    assert statement_sentence(3, "en_US") == (
        "3 separate transactions will appear on your statement.")


DECLINED = "The card has expired. Please use another card."


def test_one_invoice_declined_says_so_once_with_no_others_to_pay():
    text = failure_message([Outcome(1, "declined", message=DECLINED)], {1: "INV-1013"})
    assert text == "Nothing was charged. INV-1013: The card has expired. Please use another card."
    assert ".." not in text and "other invoice" not in text


@pytest.mark.parametrize(("numbers", "tail"), [
    ({1: "INV-1001", 2: "INV-1004"},
     "You can try another card, or pay the other invoice on its own."),
    ({1: "INV-1001", 2: "INV-1004", 3: "INV-1012"},
     "You can try another card, or pay the other 2 invoices on their own."),
])
def test_one_of_several_declined_names_the_others_by_count(numbers, tail):
    outcomes = [Outcome(1, "declined", message=DECLINED),
                *(Outcome(k, "cancelled") for k in numbers if k != 1)]
    text = failure_message(outcomes, numbers)
    assert text == f"Nothing was charged. INV-1001: {DECLINED} {tail}"


def test_a_reason_without_a_full_stop_gets_one():
    text = failure_message([Outcome(1, "declined", message="the card was declined")],
                           {1: "INV-1001"})
    assert text == "Nothing was charged. INV-1001: The card was declined."
