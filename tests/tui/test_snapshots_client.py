"""Snapshots of the client and kiosk screens at 80x24 and 120x40: the demo firm's values
(tests/tui/fakes.py), a fixed clock, fixed ids, no blinking cursor."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from billing.config import defaults
from billing.values import CardChoice
from tests.tui.fakes import (
    DANA,
    DANA_BY_CODE,
    DANA_INVOICES,
    FIRM,
    FIXED_NOW,
    FakeDesk,
    FakeServices,
    keyed_kiosk,
    usd,
)
from tui.app import PaydeskApp
from tui.factory import make_app
from tui.screens import processing
from tui.screens.client_sign_in import ClientSignInScreen
from tui.screens.invoice_details import InvoiceDetailsScreen
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import PaymentPageScreen, SelectedInvoice
from tui.screens.processing import ProcessingScreen
from tui.screens.result import ResultScreen
from tui.screens.review import ReviewScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
VISA = CardChoice(kind="saved", payment_method_id="pm_saved_visa", label="Visa •••• 4242")
SELECTION = (
    SelectedInvoice(DANA_INVOICES[0], usd(125000)),
    SelectedInvoice(DANA_INVOICES[1], usd(10000)),
    SelectedInvoice(DANA_INVOICES[3], usd(47500)),
    SelectedInvoice(DANA_INVOICES[4], usd(9525)),
)


READER = CardChoice(kind="reader", reader_id="tmr_FRONTDESK1", label="card on Front desk reader")
MID_PAYMENT = (("INV-1001", "captured"), ("INV-1004", "authorized"), ("INV-1012", "authorizing"))


class HeldDesk(FakeDesk):
    """pay() reports `progress`, then waits: the processing screen is caught mid-payment
    (or, with no progress, waiting for the card on the reader)."""

    def __init__(self, progress=MID_PAYMENT) -> None:
        super().__init__()
        self.progress = progress
        self.release = threading.Event()
        self.reported = threading.Event()

    def pay(self, payer, amounts, card, on_progress=None):
        for number, status in self.progress:
            on_progress(self._event(number, status))
        self.reported.set()
        self.release.wait(10)
        return super().pay(payer, amounts, card)

    @staticmethod
    def _event(number, status):
        from billing.values import ProgressEvent

        return ProgressEvent(number, status)


def make(mode: str = "kiosk", desk=None, *, demo_sign_ins: bool = False) -> PaydeskApp:
    """The app as production builds it (tui.factory.make_app), over a stand-in desk."""
    # A kiosk that takes a typed card too, first, as the front desk does (the kiosk's
    # default, the reader first: tests/tui/test_snapshots_card_entry.py).
    app = make_app(keyed_kiosk(defaults()), mode=mode, services=FakeServices(desk or FakeDesk()),
                   clock=lambda: FIXED_NOW, demo_sign_ins=demo_sign_ins)
    assert app.firm == FIRM
    app.cursor_blink = False
    app.receipt_dir = "/receipts"  # the same path on every machine
    return app


async def settle(pilot) -> None:
    for _ in range(2):
        await pilot.pause()
        await pilot.app.workers.wait_for_complete()
    await pilot.pause()


def push(screen_factory, *keys: str):
    async def run_before(pilot) -> None:
        await pilot.pause()
        await settle(pilot)
        pilot.app.push_screen(screen_factory())
        await settle(pilot)
        for key in keys:
            await pilot.press(key)
            await pilot.pause()
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_welcome(snap_compare, size):
    assert snap_compare(make(), terminal_size=size, run_before=push(lambda: _noop()))


@pytest.mark.parametrize("size", SIZES)
def test_welcome_demo_with_bad_code(snap_compare, size):
    async def run_before(pilot):
        await pilot.pause()
        await settle(pilot)
        await pilot.click("#payment-code")
        for key in "NOPE":
            await pilot.press(key)
        await pilot.press("enter")
        await settle(pilot)

    assert snap_compare(make("demo", demo_sign_ins=True), terminal_size=size,
                        run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_client_sign_in(snap_compare, size):
    assert snap_compare(make("demo", demo_sign_ins=True), terminal_size=size,
                        run_before=push(ClientSignInScreen, *"dana@example.com", "enter"))


@pytest.mark.parametrize("size", SIZES)
def test_payment_page(snap_compare, size):
    assert snap_compare(make(), terminal_size=size,
                        run_before=push(lambda: PaymentPageScreen(DANA), "down", "down"))


@pytest.mark.parametrize("size", SIZES)
def test_payment_page_with_a_bad_amount(snap_compare, size):
    # INV-1009 unticked, INV-1004 set above its balance: marked on its row with the reason.
    keys = ("down", "down", "space", "up", "enter", *"600", "enter")
    assert snap_compare(make(), terminal_size=size,
                        run_before=push(lambda: PaymentPageScreen(DANA), *keys))


@pytest.mark.parametrize("size", SIZES)
def test_payment_page_for_a_code(snap_compare, size):
    assert snap_compare(make(), terminal_size=size,
                        run_before=push(lambda: PaymentPageScreen(DANA_BY_CODE)))


@pytest.mark.parametrize("size", SIZES)
def test_invoice_details(snap_compare, size):
    assert snap_compare(make(), terminal_size=size,
                        run_before=push(lambda: InvoiceDetailsScreen(DANA, DANA_INVOICES[1])))


@pytest.mark.parametrize("size", SIZES)
def test_payment_method_after_the_number(snap_compare, size):
    keys = (*"4242424242424242", "enter", *"1230")
    assert snap_compare(make(), terminal_size=size,
                        run_before=push(lambda: PaymentMethodScreen(DANA, SELECTION), *keys))


def method_tab(tab: str):
    """run_before: the payment method screen with one of its tabs clicked."""
    async def run_before(pilot):
        await pilot.pause()
        await settle(pilot)
        pilot.app.push_screen(PaymentMethodScreen(DANA, SELECTION))
        await settle(pilot)
        await pilot.click(f"#--content-tab-{tab}")
        await settle(pilot)

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_payment_method_keyed_card(snap_compare, size):
    assert snap_compare(make(), terminal_size=size, run_before=method_tab("method-keyed"))


@pytest.mark.parametrize("size", SIZES)
def test_payment_method_saved_cards(snap_compare, size):
    assert snap_compare(make(), terminal_size=size, run_before=method_tab("method-saved"))


@pytest.mark.parametrize("size", SIZES)
def test_payment_method_card_reader(snap_compare, size):
    assert snap_compare(make(), terminal_size=size, run_before=method_tab("method-reader"))


@pytest.mark.parametrize("size", SIZES)
def test_review(snap_compare, size):
    assert snap_compare(make(), terminal_size=size,
                        run_before=push(lambda: ReviewScreen(DANA, SELECTION, VISA)))


def caught_processing(desk: HeldDesk, card: CardChoice):
    """run_before: the processing screen once the held payment has reported. The payment
    is let go when the screen goes, so the test does not wait for it."""

    class Held(ProcessingScreen):
        CSS_PATH = Path(processing.__file__).with_name("processing.tcss")

        def on_unmount(self) -> None:
            desk.release.set()

    async def run_before(pilot):
        await pilot.pause()
        await settle(pilot)
        pilot.app.push_screen(Held(DANA, SELECTION, card))
        for _ in range(100):
            if desk.reported.is_set():
                break
            await pilot.pause(0.05)
        for _ in range(5):
            await pilot.pause()

    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_processing(snap_compare, size):
    desk = HeldDesk()
    try:
        assert snap_compare(make(desk=desk), terminal_size=size,
                            run_before=caught_processing(desk, VISA))
    finally:
        desk.release.set()


@pytest.mark.parametrize("size", SIZES)
def test_processing_on_a_card_reader(snap_compare, size):
    # "Present the card on the reader: X", with the test-mode way to simulate a test card.
    desk = HeldDesk(progress=())
    try:
        assert snap_compare(make(desk=desk), terminal_size=size,
                            run_before=caught_processing(desk, READER))
    finally:
        desk.release.set()


@pytest.mark.parametrize("size", SIZES)
def test_result_success(snap_compare, size):
    result = FakeDesk().pay(DANA, {s.invoice.invoice_id: s.amount for s in SELECTION}, VISA)
    assert snap_compare(make("demo"), terminal_size=size,
                        run_before=push(lambda: ResultScreen(DANA, result, SELECTION), "v"))


@pytest.mark.parametrize("size", SIZES)
def test_result_declined(snap_compare, size):
    from gateway.cards import KeyedCard

    card = CardChoice(kind="keyed", keyed=KeyedCard("4000000000000002", 12, 2030, "123", "94107"),
                      label="Visa •••• 0002")
    result = FakeDesk().pay(DANA, {s.invoice.invoice_id: s.amount for s in SELECTION}, card)
    assert snap_compare(make(), terminal_size=size,
                        run_before=push(lambda: ResultScreen(DANA, result, SELECTION)))


@pytest.mark.parametrize("size", SIZES)
def test_help(snap_compare, size):
    assert snap_compare(make(), terminal_size=size,
                        run_before=push(lambda: PaymentPageScreen(DANA), "f1"))


def _noop():
    from textual.screen import Screen

    class Nothing(Screen):
        def on_mount(self) -> None:
            self.dismiss()

    return Nothing()
