"""A later visit, walked on the real Desk, the demo firm and the Stripe sandbox at 80x24:
Dana left her bank payment waiting for the code from her statement; when she signs in
again at the kiosk (or the front desk opens her), the payment page offers "Enter the code
from your bank statement", a wrong code changes nothing, and the right one starts exactly
the debits she authorized. A failed bank payment is shown on its invoice's row with when
and why."""

from __future__ import annotations

from textual.widgets import Button, Static

from billing.bank_values import NeedsVerification
from billing.values import Payer
from models import BankVerification, Client, InvoicePayment
from models.demo import DANA_EMAIL
from tests.billing.bank_support import web
from tests.tui.fakes import screen_text, settle, type_text
from tests.tui.test_bank_debit_flow import services  # noqa: F401 - the fixture
from tests.tui.test_desk_walkthrough import desk_app, open_client, sign_in
from tests.tui.test_kiosk_walkthrough import dana_signs_in, go_to_row, kiosk_app
from tui.screens.bank_result import BankResultScreen
from tui.screens.bank_verify import BankVerifyScreen

PAID = ("INV-1001", "INV-1004", "INV-1009")


def _left_waiting(desk) -> int:
    """Dana paid three invoices by bank debit yesterday and left at the code."""
    client = Client.get(Client.email == DANA_EMAIL)
    dana = Payer(kind="client", client_id=client.id, client_name=client.name,
                 email=client.email)
    page = {i.number: i for i in desk.payable_invoices(dana)}
    amounts = {page[n].invoice_id: page[n].balance for n in PAID}
    entry, context = web(desk, dana, amounts)
    waiting = desk.pay_by_bank(dana, amounts, entry, context)
    assert isinstance(waiting, NeedsVerification)
    return waiting.checkout_id


def _statuses(checkout_id: int) -> list[str]:
    return [p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout == checkout_id).order_by(InvoicePayment.position)]


async def test_dana_enters_the_code_on_a_later_visit_at_the_kiosk(services):  # noqa: F811
    checkout_id = _left_waiting(services.desk)
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        page = await dana_signs_in(pilot)
        await settle(pilot)
        text = " ".join(screen_text(app).split())
        assert "waiting for the code from the bank statement" in text
        offer = page.query_one("#payment-bank-verify", Button)
        assert offer.display and "Enter the code from your bank statement" in str(offer.label)
        assert not set(PAID) & {r.invoice.number for r in page._rows.values()}  # held

        await pilot.press("v")
        await settle(pilot)
        verify = app.screen
        assert isinstance(verify, BankVerifyScreen) and verify.checkout_id == checkout_id
        shown = " ".join(screen_text(app).split())
        assert all(n in shown for n in PAID) and "ending 6789" in shown

        await type_text(pilot, "SM99ZZ")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is verify
        error = str(verify.query_one("#bank-verify-error", Static).render())
        assert "does not match" in error and "9 tries are left" in error
        assert _statuses(checkout_id) == ["authorizing", "pending", "pending"]

        # Later goes back to the page, which still offers the code.
        await pilot.press("f9")
        await settle(pilot)
        assert app.screen is page
        await pilot.click("#payment-bank-verify")
        await settle(pilot)
        assert isinstance(app.screen, BankVerifyScreen)
        await type_text(pilot, "SM11AA")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BankResultScreen)
        assert screen_text(app).count("bank payment pending") >= 3

        await pilot.click("#bank-result-back")
        await settle(pilot)
        assert app.screen is page
        assert not page.query_one("#payment-bank-verify", Button).display
        text = " ".join(screen_text(app).split())
        assert "waiting for the code" not in text and "bank payment pending" in text
    assert _statuses(checkout_id) == ["processing"] * 3
    assert BankVerification.get(BankVerification.checkout == checkout_id).status == "verified"


async def test_the_front_desk_offers_the_code_and_shows_a_failed_bank_payment(desk_services):
    from models.demo import add_demo_bank_debits

    add_demo_bank_debits()  # Theo Marsh's debit was returned: account closed
    desk_services.sandbox.configure_bank_debits(settlement_delay=3600)
    _left_waiting(desk_services.desk)
    app = desk_app(desk_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "Front Desk", "2468")
        page = await open_client(pilot, "Dana")
        assert page.query_one("#payment-bank-verify", Button).display
        await pilot.press("escape")  # back to the front desk
        await settle(pilot)

        search = app.screen.query_one("#desk-home-search")
        search.value = ""
        search.focus()
        page = await open_client(pilot, "Theo Marsh")
        assert not page.query_one("#payment-bank-verify", Button).display
        sentence = ("Bank payment of $920.00 failed on Oct 20, 2026: the bank account is "
                    "closed (ACH return R02)")
        notes = " ".join(str(page.query_one("#payment-bank-pending", Static).render()).split())
        assert f"INV-2002 · {sentence}" in notes
        await go_to_row(pilot, page, "INV-2002")
        current = " ".join(str(page.query_one("#payment-current", Static).render()).split())
        assert "failed on Oct 20, 2026" in current
        table = page.query_one("#payment-table")
        key = table.current_key()
        assert str(table.get_cell(key, "number")) == "INV-2002 !"
