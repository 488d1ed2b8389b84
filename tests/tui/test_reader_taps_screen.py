"""The processing screen when the card on the reader cannot be kept: it says how many taps
the payment needs, then which invoice, and how much, the reader is waiting for."""

from __future__ import annotations

from textual.widgets import Static

from billing.reader_taps import taps_needed
from billing.values import ProgressEvent
from tests.tui.test_snapshots_client import DANA, READER, SELECTION, HeldDesk, make, settle
from tui.screens.processing import ProcessingScreen


class TappingDesk(HeldDesk):
    """pay() reports the given events (as the engine does for a wallet tap), then waits."""

    def __init__(self, events: tuple[ProgressEvent, ...]) -> None:
        super().__init__(progress=())
        self.events = events

    def pay(self, payer, amounts, card, on_progress=None):
        for event in self.events:
            on_progress(event)
        return super().pay(payer, amounts, card, on_progress)


async def _reader_text(events: tuple[ProgressEvent, ...]) -> str:
    desk = TappingDesk(events)
    app = make(desk=desk)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await settle(pilot)
            app.push_screen(ProcessingScreen(DANA, SELECTION, READER))
            for _ in range(100):
                if desk.reported.is_set():
                    break
                await pilot.pause(0.05)
            for _ in range(5):
                await pilot.pause()
            text = str(app.screen.query_one("#processing-reader", Static).render())
            desk.release.set()
            return text
    finally:
        desk.release.set()


async def test_the_screen_says_how_many_taps_then_which_invoice_and_amount():
    plan = ProgressEvent("", "taps", taps_needed(4))
    tap = ProgressEvent("INV-1004", "tap", "Tap the card on the reader for INV-1004 (2 of 4)")
    text = await _reader_text((plan, tap))
    assert "This card or phone pays one invoice per tap: tap it once for each invoice, 4 taps." \
        in text
    assert "Tap the card on the reader for INV-1004, $100.00 (2 of 4)" in text


async def test_a_card_the_reader_keeps_asks_for_one_presentation_only():
    text = await _reader_text(())
    assert text == "Present the card on the reader: Front desk reader"


async def test_the_review_warns_a_card_on_the_reader_may_need_a_tap_per_invoice():
    from tui.screens.review import ReviewScreen

    app = make()
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(pilot)
        app.push_screen(ReviewScreen(DANA, SELECTION, READER))
        await settle(pilot)
        text = str(app.screen.query_one("#review-count", Static).render())
    assert "tapped once for each invoice: 4 taps." in text
