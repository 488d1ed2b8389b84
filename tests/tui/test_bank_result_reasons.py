"""The bank debits' result at 80x24: a failed debit's reason is said whole under the table
(the table says "failed", so nothing is cut at its edge), also when billing's summary leaves
it out; one failed invoice or several, in the right words."""

from __future__ import annotations

from billing.bank_values import BankCheckoutResult, BankDebitLine
from billing.config import defaults
from models.money import Money
from tests.tui.fakes import DANA, FIXED_NOW, FakeDesk, FakeServices, screen_text, settle
from tui.factory import make_app
from tui.screens.bank_result import BankResultScreen

REASON = "the bank could not find that account (ACH return R03)"


def line(id_: int, number: str, status: str, message: str | None = None) -> BankDebitLine:
    return BankDebitLine(id_, number, Money(47500, "USD"), status, f"pi_{id_}", message)


async def shown(result: BankCheckoutResult) -> str:
    app = make_app(defaults(), mode="kiosk", services=FakeServices(FakeDesk()),
                   clock=lambda: FIXED_NOW)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(BankResultScreen(DANA, (), result))
        await settle(pilot)
        return screen_text(app)


async def test_the_reason_is_said_whole_under_the_table_even_when_billing_leaves_it_out():
    result = BankCheckoutResult(1, (line(1, "INV-1001", "processing"),
                                    line(2, "INV-1004", "failed", REASON)), "Sent.")
    text = await shown(result)
    row = next(t for t in text.splitlines() if "INV-1004" in t and "$475.00" in t)
    assert row.split("$475.00")[1].strip() == "failed"
    words = " ".join(text.split())
    assert f"INV-1004 was not debited: {REASON}." in words
    assert "1 failed: that invoice can be paid again" in words


async def test_the_reason_is_not_said_twice_and_several_failures_read_right():
    said = f"INV-1004 was not debited: {REASON}. INV-1009 was not debited: {REASON}."
    result = BankCheckoutResult(1, (line(2, "INV-1004", "failed", REASON),
                                    line(3, "INV-1009", "failed", REASON)), said)
    words = " ".join((await shown(result)).split())
    assert words.count(REASON) == 2
    assert "2 failed: those invoices can be paid again" in words
