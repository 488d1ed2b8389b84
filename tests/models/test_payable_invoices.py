"""The visibility rules of DESIGN.md section 1, over the demo firm and generated data,
on SQLite and PostgreSQL, with a fixed number of queries."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from playhouse.test_utils import assert_query_count

from models import (
    Case,
    Client,
    Firm,
    Invoice,
    InvoiceShare,
    PaymentPlan,
    PlanInstalment,
    database,
)
from models.money import Money
from models.queries import invoice_for_payment_code, payable_invoices
from models.security import hash_payment_code

TODAY = dt.date(2026, 11, 24)


def dana() -> Client:
    return Client.get(Client.email == "dana.whitfield@example.com")


def test_dana_sees_exactly_the_five_payable_invoices(demo_db):
    invoices = payable_invoices(dana(), today=TODAY)
    assert [i.number for i in invoices] == [
        "INV-1001", "INV-1004", "INV-1009", "INV-1012", "INV-1021",
    ]
    total = Money.sum_of((i.balance for i in invoices), "USD")
    assert total == Money(475075, "USD")
    by_number = {i.number: i for i in invoices}
    assert by_number["INV-1004"].balance == Money(53050, "USD")
    assert by_number["INV-1001"].case_title == "Whitfield v. Marlow Construction"


def test_link_only_draft_and_paid_invoices_are_left_off(demo_db):
    numbers = {i.number for i in payable_invoices(dana(), today=TODAY)}
    assert "INV-1013" not in numbers  # shared only by a text link
    assert "INV-1015" not in numbers  # draft, never shared
    assert "INV-1020" not in numbers  # paid in full


def test_an_invoice_shared_by_link_appears_once_shared_by_email(demo_db):
    invoice = Invoice.get(Invoice.number == "INV-1013")
    InvoiceShare.create(invoice=invoice, channel="email", recipient="dana.whitfield@example.com")
    assert "INV-1013" in {i.number for i in payable_invoices(dana(), today=TODAY)}


def test_instalment_due_is_the_first_instalment_not_yet_covered(demo_db):
    inv = {i.number: i for i in payable_invoices(dana(), today=TODAY)}
    due = inv["INV-1009"].instalment_due
    assert due is not None and due.amount == Money(60000, "USD")
    assert (due.sequence, due.of) == (1, 4)
    assert inv["INV-1001"].instalment_due is None
    # A partial payment of 700.00 covers instalment 1 and 100.00 of instalment 2.
    Invoice.update(paid_minor=70000).where(Invoice.number == "INV-1009").execute()
    due = {i.number: i for i in payable_invoices(dana(), today=TODAY)}["INV-1009"].instalment_due
    assert due.amount == Money(50000, "USD") and due.sequence == 2


def test_payment_codes_open_one_invoice_each(demo_db):
    code_invoice = invoice_for_payment_code("LINK-1013", today=TODAY)
    assert code_invoice is not None and code_invoice.number == "INV-1013"
    assert code_invoice.balance == Money(19000, "USD")
    assert invoice_for_payment_code(" link-1021 ", today=TODAY).number == "INV-1021"
    assert invoice_for_payment_code("LINK-9999", today=TODAY) is None
    assert invoice_for_payment_code("", today=TODAY) is None


def test_a_code_for_a_paid_invoice_opens_nothing(demo_db):
    Invoice.update(paid_minor=Invoice.total_minor).where(Invoice.number == "INV-1013").execute()
    assert invoice_for_payment_code("LINK-1013", today=TODAY) is None


def test_the_demo_firm_is_large_enough(demo_db):
    assert Client.select().count() >= 20
    assert Invoice.select().count() >= 60
    firm = Firm.get()
    assert (firm.name, firm.currency, firm.locale) == ("Harbor & Vale LLP", "USD", "en_US")
    assert firm.online_payments_enabled and firm.multi_invoice_payments_enabled


# --- generated data ------------------------------------------------------------------

def _make_client(n_invoices: int, n_cases: int, *, plans: bool = True) -> Client:
    firm = Firm.create(name="Gen Firm", currency="USD", locale="en_US",
                       statement_descriptor_prefix="GENFIRM")
    client = Client.create(firm=firm, name="Gen Client", email="gen@example.com")
    cases = [Case.create(firm=firm, client=client, number=f"GEN-{c:04d}", title=f"Matter {c}")
             for c in range(n_cases)]
    rows = [
        dict(firm=firm.id, case=cases[i % n_cases].id, client=client.id, number=f"G-{i:05d}",
             issue_date=dt.date(2026, 1, 1), due_date=dt.date(2026, 2, 1), status="issued",
             currency="USD", total_minor=10000 + i, paid_minor=i % 7)
        for i in range(n_invoices)
    ]
    with database.atomic():
        for start in range(0, len(rows), 500):
            Invoice.insert_many(rows[start:start + 500]).execute()
        ids = [i.id for i in Invoice.select(Invoice.id).where(Invoice.client == client)]
        shares = [dict(invoice=i, channel="email", recipient="gen@example.com") for i in ids]
        for start in range(0, len(shares), 500):
            InvoiceShare.insert_many(shares[start:start + 500]).execute()
        if plans:
            for invoice_id in ids[::10]:
                plan = PaymentPlan.create(invoice=invoice_id)
                PlanInstalment.create(plan=plan, sequence=1, due_date=dt.date(2026, 3, 1),
                                      amount_minor=5000)
    return client


@pytest.mark.parametrize("n_invoices,n_cases", [(5, 2), (2000, 200)])
def test_query_count_is_fixed_whatever_the_number_of_invoices(db, n_invoices, n_cases):
    client = _make_client(n_invoices, n_cases)
    with assert_query_count(2):
        invoices = payable_invoices(client.id, today=TODAY)
    assert len(invoices) == n_invoices
    assert sum(1 for i in invoices if i.instalment_due is not None) == len(range(0, n_invoices, 10))


invoice_strategy = st.fixed_dictionaries({
    "status": st.sampled_from(["draft", "issued", "void"]),
    "total": st.integers(min_value=0, max_value=500_000),
    "paid_fraction": st.sampled_from([0, 1, 2, 3, 4]),  # quarters of the total
    "channels": st.sets(st.sampled_from(["email", "portal", "text_link", "copied_link"])),
    "owner": st.sampled_from(["me", "other"]),
})


@settings(max_examples=25, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(specs=st.lists(invoice_strategy, max_size=12))
def test_generated_invoices_follow_the_rules(db, specs):
    for model in (InvoiceShare, Invoice, Case, Client, Firm):
        model.delete().execute()
    firm = Firm.create(name="F", currency="USD", locale="en_US", statement_descriptor_prefix="F")
    me = Client.create(firm=firm, name="Me", email="me@example.com")
    other = Client.create(firm=firm, name="Other", email="other@example.com")
    expected = set()
    for n, spec in enumerate(specs):
        owner = me if spec["owner"] == "me" else other
        case = Case.create(firm=firm, client=owner, number=f"C-{n}", title="Case")
        paid = spec["total"] * spec["paid_fraction"] // 4
        invoice = Invoice.create(
            firm=firm, case=case, client=owner, number=f"I-{n}", issue_date=TODAY,
            due_date=TODAY, status=spec["status"], currency="USD",
            total_minor=spec["total"], paid_minor=paid,
        )
        for channel in spec["channels"]:
            code = f"CODE-{n}-{channel}" if channel in ("text_link", "copied_link") else None
            InvoiceShare.create(invoice=invoice, channel=channel,
                                code_hash=hash_payment_code(code) if code else None)
        listed = bool(spec["channels"] & {"email", "portal"})
        if owner is me and spec["status"] == "issued" and paid < spec["total"] and listed:
            expected.add(f"I-{n}")
    got = {i.number for i in payable_invoices(me, today=TODAY)}
    assert got == expected
