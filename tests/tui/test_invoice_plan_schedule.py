"""The invoice details (`d` on the payment page) show the payment plan of INV-1009: each
instalment's due date, amount, what is paid of it, and which one is due now, on the real
Desk over the demo firm."""

from __future__ import annotations

import datetime as dt
import re

from babel.dates import format_date

from models import Invoice, PaymentPlan, PlanInstalment
from models.queries import plan_schedule
from tests.tui.conftest import WALK_NOW
from tests.tui.fakes import screen_text, settle
from tests.tui.test_kiosk_walkthrough import dana_signs_in, go_to_row, kiosk_app
from tests.tui.test_stale_balances import pay_elsewhere_for_dana
from tui.screens.invoice_details import InvoiceDetailsScreen

ROW = re.compile(r"^\s*(\d) of (\d)\s+(\w{3} \d{1,2}, \d{4})\s+(\$[\d,.]+)\s+(\$[\d,.]+)\s+(.+?)\s*$")


def schedule_on_screen(app) -> list[tuple[str, ...]]:
    return [m.groups() for line in screen_text(app).splitlines() if (m := ROW.match(line))]


def demo_due_dates() -> list[str]:
    return [format_date(due, "medium", locale="en_US") for due in demo_dues()]


def demo_dues() -> list[dt.date]:
    inv = Invoice.get(Invoice.number == "INV-1009")
    plan = PaymentPlan.get(PaymentPlan.invoice == inv)
    return [i.due_date for i in PlanInstalment.select().where(PlanInstalment.plan == plan)
            .order_by(PlanInstalment.sequence)]


def status_now(due: str, first_unpaid: bool) -> str:
    """" · overdue" for an unpaid instalment due before the walk-through's day, else
    " · due now" for the first one not paid in full."""
    overdue = demo_dues()[demo_due_dates().index(due)] < WALK_NOW.date()
    return " · overdue" if overdue else (" · due now" if first_unpaid else "")


async def open_details(pilot) -> InvoiceDetailsScreen:
    page = await dana_signs_in(pilot)
    await go_to_row(pilot, page, "INV-1009")
    await pilot.press("d")
    for _ in range(50):
        await settle(pilot)
        if isinstance(pilot.app.screen, InvoiceDetailsScreen) and schedule_on_screen(pilot.app):
            return pilot.app.screen
    raise AssertionError(f"no schedule on the details: {screen_text(pilot.app)}")


async def test_inv_1009_details_show_every_instalment_unpaid(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_details(pilot)
        dues = demo_due_dates()
        assert len(dues) == 4
        assert "Payment plan: 4 instalments" in screen_text(app)
        assert schedule_on_screen(app) == [
            (str(n), "4", due, "$600.00", "$0.00", "Unpaid" + status_now(due, n == 1))
            for n, due in enumerate(dues, 1)
        ]


async def test_a_partial_payment_shows_paid_part_paid_and_unpaid(kiosk_services):
    pay_elsewhere_for_dana(kiosk_services, "INV-1009", 70000)  # $700.00 of 4 x $600.00
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await open_details(pilot)
        dues = demo_due_dates()
        assert schedule_on_screen(app) == [
            ("1", "4", dues[0], "$600.00", "$600.00", "Paid"),
            ("2", "4", dues[1], "$600.00", "$100.00",
             "Part paid, $500.00 left" + status_now(dues[1], True)),
            ("3", "4", dues[2], "$600.00", "$0.00", "Unpaid" + status_now(dues[2], False)),
            ("4", "4", dues[3], "$600.00", "$0.00", "Unpaid" + status_now(dues[3], False)),
        ]


async def test_an_invoice_without_a_plan_shows_no_plan(kiosk_services):
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        page = await dana_signs_in(pilot)
        await go_to_row(pilot, page, "INV-1001")
        await pilot.press("d")
        for _ in range(50):
            await settle(pilot)
            if (isinstance(app.screen, InvoiceDetailsScreen)
                    and app.screen.query_one("#details-lines").row_count):
                break  # the details have arrived
        else:
            raise AssertionError("the details never arrived")
        assert "Payment plan" not in screen_text(app)
        assert schedule_on_screen(app) == []


def test_the_plan_in_full_has_nothing_due(kiosk_services):
    inv = Invoice.get(Invoice.number == "INV-1009")
    today = WALK_NOW.date()
    paid_all = plan_schedule(inv.id, paid_minor=inv.total_minor, currency="USD", today=today)
    assert [i.state for i in paid_all] == ["paid"] * 4
    assert not any(i.due_now or i.overdue for i in paid_all)
    # Paid exactly to the end of an instalment: the next one is due now, not part paid.
    two = plan_schedule(inv.id, paid_minor=120000, currency="USD", today=today)
    assert [(i.state, i.due_now) for i in two] == [
        ("paid", False), ("paid", False), ("unpaid", True), ("unpaid", False)]
