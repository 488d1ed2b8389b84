"""How the payment page copes with a big client: 2,000 invoices across 200 cases, against a
client with 5 (the demo's Dana Whitfield), over a SQLite database built through the models
and the real Desk.

Times what a terminal would see (bench/paint_probe.py): from opening the page to the first
frame that shows its first invoice and the footer total, and from a typed digit to the
frame that shows the new total. Medians of RUNS runs, each with an empty formatting cache.
Not a test: run `.venv/bin/python bench/payment_page.py`.
"""

from __future__ import annotations

import asyncio
import gc
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from paint_probe import FrameProbe, build_desk, median, ms, queries_for  # noqa: E402

from models import money  # noqa: E402
from models.money import Money, format_money  # noqa: E402
from tui.app import PaydeskApp  # noqa: E402
from tui.screens.payment_page import PaymentPageScreen  # noqa: E402
from tui.screens.payment_rows import SORTS  # noqa: E402
from tui.widgets import AmountField, InvoiceTable  # noqa: E402

RUNS = 7
DIGITS = "3917"  # typed one at a time over the whole amount: each changes the total
GOAL_FIRST_PAINT_MS = 300
GOAL_TYPED_MS = 16


def expected(desk, who, locale: str) -> tuple[str, str]:
    """(the first invoice number on the page, the footer's total) for `who`."""
    invoices = desk.payable_invoices(who)
    _, order = SORTS["case"]
    first = min(invoices, key=lambda i: order(_Row(i))).number
    total = Money(sum(i.balance.minor for i in invoices), invoices[0].currency)
    return first, f"total {format_money(total, locale)}"


class _Row:  # what SORTS' keys read
    def __init__(self, invoice) -> None:
        self.invoice = invoice


async def open_page(app, probe: FrameProbe, who, first: str,
                    total: str) -> tuple[float, float, object]:
    """Seconds from opening the page to the first frame with its first row and total, and
    the processor time the process spent meanwhile (all threads), which the other
    programs on a shared machine change less."""
    cache = getattr(money, "_formatted", None)  # absent from checkouts before the cache
    if cache is not None:
        cache.cache_clear()  # a new session formats its amounts once
    painted = probe.expect(lambda text: first in text and total in text)
    page = PaymentPageScreen(who)
    cpu, started = time.process_time(), time.perf_counter()
    app.push_screen(page)
    seconds = await probe.wait(painted) - started
    return seconds, time.process_time() - cpu, page


async def type_digits(app, pilot, probe: FrameProbe, page) -> list[float]:
    """Seconds from each typed digit to the frame showing the total it makes."""
    field = page.query_one(AmountField)
    await pilot.press("down", "down", "enter")  # to the amount field, as the payer does
    await pilot.pause()  # the footer's keys change with the focus: not part of the timing
    timings = []
    for digit in DIGITS:
        field.select_all()
        await pilot.pause()
        before = page.summary_text()

        def shows_new_total(text: str, before: str = before) -> bool:
            now = page.summary_text()
            return now != before and now in text

        painted = probe.expect(shows_new_total)
        started = time.perf_counter()
        app.simulate_key(digit)  # as the terminal would deliver it
        timings.append(await probe.wait(painted) - started)
    return timings


async def until_filled(page) -> None:
    table = page.query_one(InvoiceTable)
    while getattr(table, "filling", False) or table.row_count == 0:
        await asyncio.sleep(0.005)


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        desk, dana, big = build_desk(Path(folder))
        firm = desk.firm()
        counts = {who.client_name: queries_for(desk, who) for who in (dana, big)}
        targets = {who.client_name: expected(desk, who, firm.locale) for who in (dana, big)}
        # As `paydesk demo` runs it (tui.commands.apps): garbage collection held back until
        # the first screen is drawn, then what start-up made is frozen (tui.app).
        gc.disable()
        app = PaydeskApp(desk, mode="demo", firm=firm)
        paints: dict[str, list[float]] = {dana.client_name: [], big.client_name: []}
        cpus: dict[str, list[float]] = {dana.client_name: [], big.client_name: []}
        typed: list[float] = []
        filled: list[float] = []
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            probe = FrameProbe(app)
            for _ in range(RUNS):
                for who in (dana, big):
                    seconds, cpu, page = await open_page(app, probe, who,
                                                         *targets[who.client_name])
                    paints[who.client_name].append(seconds)
                    cpus[who.client_name].append(cpu)
                    started = time.perf_counter()
                    await until_filled(page)
                    if who is big:
                        filled.append(time.perf_counter() - started + seconds)
                        typed.extend(await type_digits(app, pilot, probe, page))
                    app.pop_screen()
                    await pilot.pause()
    report(counts, paints, cpus, typed, filled, dana.client_name, big.client_name)


def report(counts, paints, cpus, typed, filled, small: str, large: str) -> None:
    (q_small, n_small), (q_large, n_large) = counts[small], counts[large]
    print(f"payment page, {RUNS} runs, SQLite, terminal 120x40")
    print(f"queries for the page's invoices: {q_small} for {n_small} invoices, "
          f"{q_large} for {n_large} invoices "
          f"(goal: no more for {n_large}: {'met' if q_large <= q_small else 'NOT met'})")
    for name, n in ((small, n_small), (large, n_large)):
        goal = ""
        if name == large:
            met = median(paints[name]) * 1000 <= GOAL_FIRST_PAINT_MS
            goal = f" (goal <= {GOAL_FIRST_PAINT_MS} ms: {'met' if met else 'NOT met'})"
        print(f"opening to first paint, {n} invoices: median {median(paints[name]) * 1000:.0f} ms"
              f"{goal}  [{ms(paints[name])}]")
        print(f"  processor time meanwhile: median {median(cpus[name]) * 1000:.0f} ms"
              f"  [{ms(cpus[name])}]")
    print(f"opening to all {n_large} rows in the table: median {median(filled) * 1000:.0f} ms"
          f"  [{ms(filled)}]")
    met = median(typed) * 1000 <= GOAL_TYPED_MS
    print(f"typed digit to the new total painted, {n_large} rows: median "
          f"{median(typed) * 1000:.1f} ms, max {max(typed) * 1000:.1f} ms "
          f"(goal <= {GOAL_TYPED_MS} ms: {'met' if met else 'NOT met'})  [{ms(typed)}]")


if __name__ == "__main__":
    asyncio.run(main())
