"""How long a typed digit takes to show in the payment page's footer total, 2,000 invoices
on the page: while the rows after the first screenful are still being added, and once they
all are. Timed to the frame that shows the new total (bench/paint_probe.py), medians of
RUNS page openings. Not a test: run `.venv/bin/python bench/typing_latency.py`.
"""

from __future__ import annotations

import asyncio
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from paint_probe import FrameProbe, build_desk, median, ms  # noqa: E402
from payment_page import GOAL_TYPED_MS, expected, open_page, until_filled  # noqa: E402

from tui.app import PaydeskApp  # noqa: E402
from tui.widgets import AmountField, InvoiceTable  # noqa: E402

RUNS = 5
DIGITS = "391739"


async def type_and_time(app, pilot, probe: FrameProbe, page, *, settle: bool) -> list[float]:
    """Each digit typed over the whole amount; seconds to the frame with the new total.
    Without `settle` nothing waits between digits (the rows keep being added)."""
    field = page.query_one(AmountField)
    timings = []
    for digit in DIGITS:
        field.select_all()
        if settle:
            await pilot.pause()
        before = page.summary_text()

        def shows_new_total(text: str, before: str = before) -> bool:
            now = page.summary_text()
            return now != before and now in text

        painted = probe.expect(shows_new_total)
        started = time.perf_counter()
        app.simulate_key(digit)
        timings.append(await probe.wait(painted) - started)
    return timings


async def main() -> None:
    with tempfile.TemporaryDirectory() as folder:
        desk, _, big = build_desk(Path(folder))
        firm = desk.firm()
        target = expected(desk, big, firm.locale)
        app = PaydeskApp(desk, mode="demo", firm=firm)
        filling, filled, still_filling = [], [], 0
        async with app.run_test(size=(120, 40)) as pilot:
            await pilot.pause()
            probe = FrameProbe(app)
            for _ in range(RUNS):
                _, _, page = await open_page(app, probe, big, *target)
                table = page.query_one(InvoiceTable)
                page.set_focus(page.query_one(AmountField))  # at once: no waiting
                filling.extend(await type_and_time(app, pilot, probe, page, settle=False))
                still_filling += getattr(table, "filling", False)
                await until_filled(page)
                await pilot.pause()
                filled.extend(await type_and_time(app, pilot, probe, page, settle=True))
                app.pop_screen()
                await pilot.pause()
    print(f"typed digit to the new total painted, 2000 invoices, {RUNS} runs "
          f"(goal <= {GOAL_TYPED_MS} ms)")
    print(f"while rows are being added: median {median(filling) * 1000:.1f} ms, max "
          f"{max(filling) * 1000:.1f} ms (rows still being added after the last digit in "
          f"{still_filling} of {RUNS} runs)  [{ms(filling)}]")
    print(f"all rows in the table: median {median(filled) * 1000:.1f} ms, max "
          f"{max(filled) * 1000:.1f} ms  [{ms(filled)}]")


if __name__ == "__main__":
    asyncio.run(main())
