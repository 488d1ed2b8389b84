"""How the payment page copes with a big client: 2,000 invoices across 200 cases.

Prints the time to first paint (the table filled and drawn) and the time for a typed
amount to show in the footer total. Not a test: run `.venv/bin/python bench/payment_page.py`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from billing.values import InstalmentDue, PayableInvoice  # noqa: E402
from models.money import Money  # noqa: E402
from tests.tui.fakes import DANA, FIRM, FakeDesk  # noqa: E402
from tui.app import PaydeskApp  # noqa: E402
from tui.screens.payment_page import PaymentPageScreen  # noqa: E402

INVOICES, CASES = 2000, 200


def big_client() -> list[PayableInvoice]:
    invoices = []
    start = dt.date(2025, 1, 1)
    for n in range(INVOICES):
        case = n % CASES
        total = 5000 + (n * 7919) % 500000
        plan = None
        if n % 10 == 0:
            plan = InstalmentDue(Money(total // 4, "USD"), start + dt.timedelta(days=60), 1, 4,
                                 overdue=n % 20 == 0)
        invoices.append(PayableInvoice(
            invoice_id=10_000 + n, number=f"INV-{20000 + n}", client_id=1,
            case_number=f"BIG-{case:04d}", case_title=f"Matter number {case}",
            issue_date=start + dt.timedelta(days=n % 300),
            due_date=start + dt.timedelta(days=30 + n % 300),
            total=Money(total, "USD"), paid=Money(0, "USD"), instalment_due=plan,
        ))
    return invoices


async def main() -> None:
    desk = FakeDesk(invoices=tuple(big_client()))
    app = PaydeskApp(desk, mode="demo", firm=FIRM)
    async with app.run_test(size=(120, 40)) as pilot:
        await pilot.pause()
        started = time.perf_counter()
        page = PaymentPageScreen(DANA)
        await app.push_screen(page)
        while page.query_one("#payment-table").row_count < INVOICES:
            await asyncio.sleep(0.001)
        await pilot.pause()  # one refresh: the table is drawn
        first_paint = time.perf_counter() - started
        print(f"{INVOICES} invoices across {CASES} cases")
        print(f"time to first paint: {first_paint * 1000:.0f} ms")
        print(f"footer: {page.summary_text()}")

        await pilot.press("down", "down", "down")
        await pilot.press("enter")
        await pilot.pause()
        to_total, to_paint = [], []
        for digit in "12345":
            before = page.summary_text()
            started = time.perf_counter()
            app.simulate_key(digit)  # as the terminal would deliver it
            while page.summary_text() == before:
                await asyncio.sleep(0)
            to_total.append(time.perf_counter() - started)
            await pilot.pause()  # the next frame is drawn
            to_paint.append(time.perf_counter() - started)
        print(f"footer: {page.summary_text()}")
        for name, timings in (("typed amount in the total", to_total),
                              ("... and drawn on screen", to_paint)):
            median = sorted(timings)[len(timings) // 2]
            print(f"{name}: " + ", ".join(f"{t * 1000:.1f}" for t in timings)
                  + f" ms (median {median * 1000:.1f} ms)")
        await pilot.press("escape", "s")
        started = time.perf_counter()
        await pilot.pause()
        print(f"re-sort of {INVOICES} rows: {(time.perf_counter() - started) * 1000:.0f} ms")


if __name__ == "__main__":
    asyncio.run(main())
