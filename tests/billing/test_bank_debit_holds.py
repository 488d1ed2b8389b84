"""A bank debit holds its invoices like a card payment: two terminals paying the same
balances at the same moment (one by bank debit, one by card) cannot both have them, and
while the debit is processing nobody can pay the held amounts (SQLite and PostgreSQL, each
terminal on its own database connection)."""

from __future__ import annotations

import threading

from billing.bank_reserve import reserve_bank_checkout
from billing.errors import AmountRejected
from billing.reservations import held_minor
from billing.reserve import reserve
from models import database
from tests.billing.bank_support import THREE, pay_three, web
from tests.billing.conftest import TODAY, balances, full_balances, invoice


def _at_once(*calls):
    """Run each call in a thread of its own (its own connection), released together."""
    start = threading.Barrier(len(calls))
    outcomes: list[object] = [None] * len(calls)

    def run(i, call):
        try:
            start.wait()
            outcomes[i] = call()
        except Exception as exc:  # noqa: BLE001 - the outcome under test
            outcomes[i] = exc
        finally:
            database.close()

    threads = [threading.Thread(target=run, args=(i, c)) for i, c in enumerate(calls)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    return outcomes


def test_two_terminals_cannot_both_hold_the_same_balances(desk, dana, sandbox):
    amounts = full_balances(THREE)
    entry, context = web(desk, dana, amounts)
    outcomes = _at_once(
        lambda: reserve_bank_checkout(dana, amounts, entry, context, today=TODAY.date()),
        lambda: reserve(dana, amounts, method="card_keyed", terminal="kiosk-2",
                        today=TODAY.date()))
    won = [o for o in outcomes if isinstance(o, int)]
    lost = [o for o in outcomes if isinstance(o, AmountRejected)]
    assert len(won) == 1 and len(lost) == 1, outcomes
    held = held_minor(invoice(n).id for n in THREE)
    assert held == {invoice(n).id: amounts[invoice(n).id].minor for n in THREE}


def test_processing_debits_keep_their_amounts_from_a_second_terminal(desk, dana, sandbox):
    before = balances(THREE)
    amounts, _waiting, result = pay_three(desk, dana, sandbox)
    assert [d.status for d in result.debits] == ["processing"] * 3
    outcomes = _at_once(*(
        (lambda n=n: reserve(dana, {invoice(n).id: amounts[invoice(n).id]},
                             method="card_keyed", terminal="kiosk-2", today=TODAY.date()))
        for n in THREE))
    assert all(isinstance(o, AmountRejected) for o in outcomes), outcomes
    assert balances(THREE) == before  # held, not paid
