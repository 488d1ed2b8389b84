"""The line above the payment page's table counts invoices and cases in words that agree
with their numbers ("1 invoice across 1 case", never "1 invoices")."""

from __future__ import annotations

from dataclasses import replace

import pytest

from tests.tui.fakes import DANA_INVOICES
from tui.screens.payment_rows import PageRow, intro_text


def rows(count: int, cases: int) -> dict[str, PageRow]:
    chosen = [replace(DANA_INVOICES[i], case_number=f"CASE-{i % cases}") for i in range(count)]
    return {i.number: PageRow(invoice=i, ticked=True, typed=None, amount=None, locale="en_US")
            for i in chosen}


@pytest.mark.parametrize(("count", "cases", "words"), [
    (1, 1, "1 invoice across 1 case."),
    (2, 1, "2 invoices across 1 case."),
    (3, 2, "3 invoices across 2 cases."),
])
def test_invoices_and_cases_are_counted_in_agreeing_words(count, cases, words):
    text = intro_text(rows(count, cases), online=True, code_payer=False, single_invoice=False)
    assert text.startswith(words)
