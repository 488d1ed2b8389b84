"""Two bank payments waiting for their codes (two sittings): the payment page no longer
opens only the first one. With several waiting, the payer chooses which one the code is
for; the verification screen asks for what Stripe sent (a code, or two amounts). On the
real Desk, the demo firm and the Stripe sandbox at 80x24."""

from __future__ import annotations

from textual.widgets import Label, OptionList

from billing.bank_values import NeedsVerification
from billing.values import Payer
from models import Client, InvoicePayment
from models.demo import DANA_EMAIL
from tests.billing.bank_support import web
from tests.tui.fakes import settle, type_text
from tests.tui.test_bank_debit_flow import services  # noqa: F401 - the fixture
from tests.tui.test_kiosk_walkthrough import dana_signs_in, kiosk_app
from tui.screens.bank_result import BankResultScreen
from tui.screens.bank_verify import BankVerifyScreen
from tui.screens.bank_waiting_choice import BankWaitingChoiceScreen


def _dana() -> Payer:
    client = Client.get(Client.email == DANA_EMAIL)
    return Payer(kind="client", client_id=client.id, client_name=client.name,
                 email=client.email)


def _leave_waiting(desk, numbers) -> int:
    dana = _dana()
    page = {i.number: i for i in desk.payable_invoices(dana)}
    amounts = {page[n].invoice_id: page[n].balance for n in numbers}
    entry, context = web(desk, dana, amounts)
    waiting = desk.pay_by_bank(dana, amounts, entry, context)
    assert isinstance(waiting, NeedsVerification)
    return waiting.checkout_id


async def test_with_two_waiting_the_payer_chooses_which(services):  # noqa: F811
    services.sandbox.configure_bank_debits(settlement_delay=3600)
    first = _leave_waiting(services.desk, ("INV-1001", "INV-1004"))
    services.sandbox.configure_bank_debits(settlement_delay=3600, microdeposit_type="amounts")
    second = _leave_waiting(services.desk, ("INV-1009",))
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        page = await dana_signs_in(pilot)
        await settle(pilot)
        await pilot.press("v")
        await settle(pilot)
        choice = app.screen
        assert isinstance(choice, BankWaitingChoiceScreen)
        options = choice.query_one(OptionList)
        lines = [str(options.get_option_at_index(i).prompt) for i in range(options.option_count)]
        assert len(lines) == 2
        assert lines[0].startswith("INV-1001, INV-1004 · ") and "ending 6789" in lines[0]
        assert lines[1].startswith("INV-1009 · ")

        await pilot.press("escape")  # back to the page, nothing opened
        await settle(pilot)
        assert app.screen is page

        await pilot.press("v")
        await settle(pilot)
        await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        verify = app.screen
        assert isinstance(verify, BankVerifyScreen) and verify.checkout_id == second
        # Stripe sent two deposits for this one: the screen asks for their amounts.
        assert "two amounts" in str(verify.query_one("#bank-verify-label", Label).render())
        await type_text(pilot, "0.32 0.45")
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, BankResultScreen)
    statuses = {p.checkout_id: p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout.in_((first, second)))}
    assert statuses[second] == "processing"
    assert [p.status for p in InvoicePayment.select().where(
        InvoicePayment.checkout == first).order_by(InvoicePayment.position)] == [
        "authorizing", "pending"]
