"""The card reader's prompt at the kiosk, on the real Desk, the demo firm and the sandbox's
simulated reader: it shows every invoice's amount and the total; Escape stops the reader
and nothing is charged; a reader left waiting stops by itself when the time is up."""

from __future__ import annotations

import functools

import pytest

from billing import checkout as engine
from billing.values import CardChoice
from models.demo import DANA_EMAIL
from tests.tui.fakes import screen_text, settle
from tests.tui.test_kiosk_walkthrough import kiosk_app
from tests.tui.test_phone_entry_flow import until
from tests.tui.test_snapshots_client import (
    DANA,
    MID_PAYMENT,
    READER,
    SELECTION,
    HeldDesk,
    make,
)
from tui.flow_values import SelectedInvoice
from tui.screens.processing import ProcessingScreen
from tui.screens.result import ResultScreen

PAID = {"INV-1001": "$1,250.00", "INV-1004": "$530.50", "INV-1012": "$475.00"}


def the_reader(services) -> dict:
    [reader] = services.sandbox.objects("terminal.reader")
    return reader


def waiting(services) -> bool:
    return (the_reader(services).get("action") or {}).get("status") == "in_progress"


@pytest.fixture
def reader_payment(kiosk_services):
    """Dana, three invoices (their whole balances) and the sandbox's reader."""
    desk = kiosk_services.desk
    dana = desk.sign_in_client(DANA_EMAIL, "demo-dana")
    selection = tuple(SelectedInvoice(i, i.balance) for i in desk.payable_invoices(dana)
                      if i.number in PAID)
    reader_id, label = desk.readers()[0]
    card = CardChoice(kind="reader", reader_id=reader_id, label=f"card on {label}")
    return dana, selection, card


async def test_the_prompt_shows_each_amount_and_the_total_and_escape_cancels(
        kiosk_services, reader_payment):
    dana, selection, card = reader_payment
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ProcessingScreen(dana, selection, card))
        await until(pilot, lambda: waiting(kiosk_services), "the reader waiting for the card")
        # The footer shows the cancel key once it has repainted with the prompt.
        await until(pilot, lambda: "esc Cancel" in screen_text(app), "the cancel key")
        text = " ".join(screen_text(app).split())
        assert "Present the card on the reader" in text
        for number, amount in PAID.items():
            assert f"{number} {amount}" in text
        assert "Paying 3 invoices · total $2,255.50" in text
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ResultScreen), "the result")
        await settle(pilot)
        result = app.screen.result
        assert not result.succeeded
        assert "canceled" in result.message
        assert "Payment not made" in screen_text(app)
    action = the_reader(kiosk_services)["action"]
    assert (action["status"], action["failure_code"]) == ("failed", "canceled")
    assert kiosk_services.sandbox.objects("payment_intent") == []


async def test_a_reader_left_waiting_stops_when_the_time_is_up(kiosk_services, reader_payment,
                                                               monkeypatch):
    # The reader waits 0.5 seconds here instead of a minute.
    monkeypatch.setattr(engine, "run_checkout",
                        functools.partial(engine.run_checkout, reader_timeout=0.5))
    dana, selection, card = reader_payment
    app = kiosk_app(kiosk_services)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.push_screen(ProcessingScreen(dana, selection, card))
        await until(pilot, lambda: waiting(kiosk_services), "the reader waiting for the card")
        await until(pilot, lambda: isinstance(app.screen, ResultScreen), "the result")
        await settle(pilot)
        result = app.screen.result
        assert not result.succeeded
        assert "No card was presented to the reader in time" in result.message
    action = the_reader(kiosk_services)["action"]
    assert (action["status"], action["failure_code"]) == ("failed", "canceled")
    assert kiosk_services.sandbox.objects("payment_intent") == []


async def test_escape_cancels_only_while_the_reader_waits():
    """Once the card is read and the invoices are being authorized, Escape is not offered
    and does not reach the reader."""
    for progress, offered in (((), True), (MID_PAYMENT, False)):
        desk = HeldDesk(progress=progress)
        app = make(desk=desk)
        try:
            async with app.run_test(size=(100, 30)) as pilot:
                await settle(pilot)
                app.push_screen(ProcessingScreen(DANA, SELECTION, READER))
                await until(pilot, desk.reported.is_set, "the payment under way")
                for _ in range(5):
                    await pilot.pause()
                assert ("esc Cancel" in screen_text(app)) is offered
                await pilot.press("escape")
                await pilot.pause()
                assert getattr(desk, "reader_cancelled", None) == (
                    READER.reader_id if offered else None)
                desk.release.set()
        finally:
            desk.release.set()
