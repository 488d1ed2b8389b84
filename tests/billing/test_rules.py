"""Every rule of a checkout: a clear error, and nothing changed (no checkout, no audit
entry, no Stripe call, no balance moved)."""

from __future__ import annotations

import pytest

from billing.errors import AmountRejected, BillingError, NotAllowed, PaymentsDisabled
from billing.reserve import reserve
from models import AuditEntry, Checkout, Client, Firm, Invoice, InvoicePayment
from models.money import Money
from tests.billing.conftest import TODAY, balances, full_balances, invoice, keyed


def _state(sandbox):
    return (Checkout.select().count(), InvoicePayment.select().count(),
            AuditEntry.select().count(), balances(), sandbox.count("payment_intent"))


@pytest.fixture
def unchanged(sandbox):
    before = _state(sandbox)
    yield
    assert _state(sandbox) == before


def usd(minor: int) -> Money:
    return Money(minor, "USD")


def test_online_payments_off_refuses_with_a_clear_message(desk, dana, sandbox, unchanged):
    Firm.update(online_payments_enabled=False).execute()
    with pytest.raises(PaymentsDisabled, match="does not take online payments"):
        desk.pay(dana, full_balances(["INV-1001"]), keyed())


def test_multi_invoice_off_allows_one_invoice_only(desk, dana, sandbox):
    Firm.update(multi_invoice_payments_enabled=False).execute()
    before = _state(sandbox)
    with pytest.raises(PaymentsDisabled, match="one invoice at a time"):
        desk.pay(dana, full_balances(["INV-1001", "INV-1012"]), keyed())
    assert _state(sandbox) == before
    assert desk.pay(dana, full_balances(["INV-1012"]), keyed()).succeeded


@pytest.mark.parametrize(("minor", "reason"), [
    (0, "more than zero"),
    (-100, "more than zero"),
    (125001, "more than the balance"),
    (49, "smallest card payment"),
])
def test_a_bad_amount_is_refused_naming_the_invoice(desk, dana, sandbox, unchanged, minor,
                                                     reason):
    with pytest.raises(AmountRejected, match=reason) as info:
        desk.pay(dana, {invoice("INV-1001").id: usd(minor)}, keyed())
    assert info.value.invoice_number == "INV-1001"


def test_an_amount_in_another_currency_is_refused(desk, dana, sandbox, unchanged):
    with pytest.raises(AmountRejected, match="USD"):
        desk.pay(dana, {invoice("INV-1001").id: Money(5000, "EUR")}, keyed())


@pytest.mark.parametrize("number", ["INV-1015", "INV-1013", "INV-1020"])
def test_an_invoice_not_on_the_payment_page_is_refused(desk, dana, sandbox, unchanged, number):
    # draft, shared only by a link, fully paid
    with pytest.raises((NotAllowed, AmountRejected), match=number):
        desk.pay(dana, {invoice(number).id: usd(5000)}, keyed())


def test_another_clients_invoice_is_refused_without_naming_it(desk, dana, sandbox, unchanged):
    other = Invoice.select().where(Invoice.client != dana.client_id,
                                   Invoice.status == "issued").first()
    with pytest.raises(NotAllowed) as info:
        desk.pay(dana, {other.id: usd(5000)}, keyed())
    assert other.number not in info.value.message


def test_a_code_payer_cannot_pay_any_other_invoice(desk, sandbox, unchanged):
    payer, _ = desk.payer_for_code("LINK-1013")
    with pytest.raises(NotAllowed):
        desk.pay(payer, {invoice("INV-1001").id: usd(5000)}, keyed())


def test_no_invoice_chosen_is_refused(desk, dana, sandbox, unchanged):
    with pytest.raises(BillingError, match="at least one invoice"):
        desk.pay(dana, {}, keyed())


def test_an_amount_held_by_an_open_checkout_cannot_be_paid_again(desk, dana, sandbox):
    inv = invoice("INV-1001")
    reserve(dana, {inv.id: usd(100000)}, method="card_keyed", terminal="t1",
            today=TODAY.date())  # another terminal, mid-payment
    page = {i.number: i.balance.minor for i in desk.payable_invoices(dana)}
    assert page["INV-1001"] == 25000
    before = _state(sandbox)
    with pytest.raises(AmountRejected, match="being paid in another payment"):
        desk.pay(dana, {inv.id: usd(30000)}, keyed())
    assert _state(sandbox) == before
    assert desk.pay(dana, {inv.id: usd(25000)}, keyed()).succeeded


def test_an_invalid_keyed_card_is_refused_before_anything_is_reserved(desk, dana, sandbox):
    before, checkouts = balances(), Checkout.select().count()
    with pytest.raises(BillingError, match="card number is not valid"):
        desk.pay(dana, full_balances(["INV-1001"]), keyed("4242424242424241"))
    assert sandbox.count("payment_intent") == 0
    assert balances() == before
    assert Checkout.select().count() == checkouts


def test_a_saved_card_of_someone_else_is_refused(desk, dana, sandbox):
    from billing.values import CardChoice

    result = desk.pay(dana, full_balances(["INV-1001"]),
                      CardChoice(kind="saved", payment_method_id="pm_card_visa"))
    assert result.status == "failed"
    assert "no longer on file" in result.message
    assert sandbox.count("payment_intent") == 0


def test_a_staff_payment_needs_a_signed_in_staff_member(desk, sandbox, unchanged):
    from billing.values import Payer, StaffSession

    ghost = StaffSession(staff_id=999, name="Ghost", role="admin")
    client = Client.get(Client.email == "dana.whitfield@example.com")
    payer = Payer(kind="staff", client_id=client.id, client_name=client.name,
                  email=client.email, staff=ghost)
    with pytest.raises(NotAllowed):
        desk.pay(payer, full_balances(["INV-1001"]), keyed())
