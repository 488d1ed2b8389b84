"""The engine's refusal when balances changed under the payer names every invoice that
changed and how (paid elsewhere, or held by a payment running elsewhere), reserves nothing,
and the same check can be made read-only before the review."""

from __future__ import annotations

import pytest

from billing.errors import AmountRejected, BalancesChanged, NotAllowed
from billing.reserve import reserve
from models import Checkout
from models.money import Money
from tests.billing.conftest import TODAY, full_balances, invoice, keyed


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def test_every_changed_invoice_is_named_and_nothing_is_reserved(desk, dana):
    chosen = full_balances(["INV-1001", "INV-1012", "INV-1021"])
    assert desk.pay(dana, full_balances(["INV-1021"]), keyed()).succeeded  # paid elsewhere
    reserve(dana, {invoice("INV-1012").id: usd(40000)}, method="card_keyed", terminal="t2",
            today=TODAY.date())  # another terminal is paying 400.00 of it right now
    before = Checkout.select().count()

    assert {c.invoice_number for c in desk.balance_changes(dana, chosen)} == {
        "INV-1012", "INV-1021"}
    with pytest.raises(BalancesChanged) as info:
        desk.pay(dana, chosen, keyed())

    changes = {c.invoice_number: c for c in info.value.changes}
    assert set(changes) == {"INV-1012", "INV-1021"}
    assert changes["INV-1021"].balance == usd(0) and changes["INV-1021"].in_progress == usd(0)
    assert changes["INV-1012"].balance == usd(7500)
    assert changes["INV-1012"].in_progress == usd(40000)
    assert changes["INV-1012"].requested == usd(47500)
    assert "INV-1021: nothing is left to pay: it is paid" in info.value.message
    assert "INV-1012: " in info.value.message
    assert isinstance(info.value, AmountRejected)  # callers that knew only that still work
    assert Checkout.select().count() == before


def test_nothing_changed_means_no_change(desk, dana):
    assert desk.balance_changes(dana, full_balances()) == ()


def test_a_code_payer_is_told_only_of_the_codes_invoice(desk):
    payer, inv = desk.payer_for_code("LINK-1013")
    other = invoice("INV-1001")
    changes = desk.balance_changes(payer, {inv.invoice_id: usd(19001), other.id: usd(999999)})
    assert [c.invoice_number for c in changes] == ["INV-1013"]


def test_a_code_payer_naming_a_paid_invoice_of_the_client_learns_nothing_of_it(desk, dana):
    """A code payer who slips another invoice of the client into the payment is refused as
    for any invoice that is not theirs: never told that it was paid meanwhile."""
    assert desk.pay(dana, full_balances(["INV-1021"]), keyed()).succeeded  # now fully paid
    payer, inv = desk.payer_for_code("LINK-1013")
    other = invoice("INV-1021")
    with pytest.raises(NotAllowed) as info:
        reserve(payer, {inv.invoice_id: usd(4000), other.id: usd(9525)},
                method="card_keyed", terminal="t2", today=TODAY.date())
    assert "INV-1021" not in info.value.message
    assert not isinstance(info.value, BalancesChanged)
