"""A live Stripe key without raw-card-data access: neither the kiosk nor the front desk
offers a typed card number, and the card reader and the payer's phone pay. The real Desk
and the demo firm run against the sandbox in live-mode emulation (a gateway in live mode:
test cards cannot be presented on the reader from Paydesk, keyed numbers are refused); the
card is tapped on the reader by the test, as a payer would, from outside Paydesk."""

from __future__ import annotations

import asyncio

import pytest
from textual.widgets import TabbedContent

from billing.config import Settings, StripeSettings
from billing.services import build_services
from gateway import GatewayOptions, StripeGateway, build_stripe_client
from gateway.sandbox import start_sandbox
from models import Client
from models.demo import DANA_EMAIL
from tests.tui.conftest import WALK_NOW
from tests.tui.fakes import screen_text, settle
from tests.tui.test_kiosk_walkthrough import dana_chooses_how_to_pay_three
from tests.tui.test_phone_entry_flow import CARD, post, until
from tui.factory import make_app
from tui.flow_values import InvoicesChosen, SelectedInvoice
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.phone_entry import PhoneEntryScreen
from tui.screens.processing import ProcessingScreen
from tui.screens.result import ResultScreen
from tui.screens.review import ReviewScreen

LIVE_KEY = "sk_live_" + "L" * 24
PAID = ("INV-1001", "INV-1004", "INV-1009")


@pytest.fixture
def sandbox():
    with start_sandbox() as running:
        yield running


@pytest.fixture
def services(demo_sqlite, sqlite_url, tmp_path, sandbox):
    # The sandbox answers test keys only; the gateway is in live mode as with LIVE_KEY.
    client = build_stripe_client(GatewayOptions("sk_test_live_emulation", api_base=sandbox.url,
                                                timeout_seconds=5.0))
    gateway = StripeGateway(client, test_mode=False, raw_card_data_access=False,
                            poll_interval=0.02)
    settings = Settings(database_url=sqlite_url, outbox_dir=str(tmp_path / "outbox"),
                        terminal="live-test", stripe=StripeSettings(api_key=LIVE_KEY))
    built = build_services(settings, clock=lambda: WALK_NOW, reconcile_at_start=False,
                           gateway=gateway)
    try:
        yield built
    finally:
        built.close()


def app_for(services, mode: str):
    app = make_app(services.settings, mode=mode, services=services, clock=lambda: WALK_NOW)
    app.cursor_blink = False
    return app


def tab_ids(screen: PaymentMethodScreen) -> list[str]:
    """The card tabs (a bank account, where the firm takes one, is not a card)."""
    return [pane.id for pane in screen.query_one(TabbedContent).query("TabPane")
            if pane.id != "method-bank"]


def tap_a_card(sandbox) -> None:
    """The payer taps a Visa on the reader (the sandbox's test helper, from outside)."""
    outside = StripeGateway(build_stripe_client(GatewayOptions("sk_test_payer",
                                                               api_base=sandbox.url)),
                            test_mode=True)
    outside.present_test_card_on_reader(sandbox.reader_id)


async def kiosk_method_screen(pilot, app) -> PaymentMethodScreen:
    return await dana_chooses_how_to_pay_three(pilot)


async def test_the_kiosk_offers_the_reader_first_and_no_typed_card(services, sandbox):
    assert services.desk.firm().test_mode is False
    app = app_for(services, "kiosk")
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await kiosk_method_screen(pilot, app)
        assert tab_ids(screen) == ["method-reader", "method-saved", "method-phone"]
        assert screen.query_one(TabbedContent).active == "method-reader"
        assert not screen.query("#card-number")
        assert "Card number" not in screen_text(app)
        await pilot.press("f5")  # the reader, highlighted first
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen) and app.screen.card.kind == "reader"
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, ProcessingScreen)
                    and sandbox.objects("setup_intent"), "the reader waiting for a card")
        # Live mode: no way to simulate a test card on the screen.
        assert not app.screen.query("#processing-present")
        await asyncio.to_thread(tap_a_card, sandbox)
        await until(pilot, lambda: isinstance(app.screen, ResultScreen), "the result")
        result = app.screen.result
        assert result.succeeded
        assert [t.invoice_number for t in result.transactions] == list(PAID)
    assert sorted(pi["status"] for pi in sandbox.objects("payment_intent")) == ["succeeded"] * 3


async def test_the_kiosk_pays_with_a_card_entered_on_the_phone(services, sandbox):
    app = app_for(services, "kiosk")
    async with app.run_test(size=(80, 24)) as pilot:
        await kiosk_method_screen(pilot, app)
        await pilot.click("#--content-tab-method-phone")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen) and app.screen.card.kind == "phone"
        app.flow.phone_poll_seconds = 0.05
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, PhoneEntryScreen)
                    and bool(app.screen.url), "the card page")
        assert await asyncio.to_thread(post, app.screen.url, CARD) == 200
        await until(pilot, lambda: app.screen.check_action("use_once", ()), "keep it?")
        await pilot.press("n")  # not kept on file: this payment only
        await until(pilot, lambda: isinstance(app.screen, ResultScreen), "the result")
        assert app.screen.result.succeeded
        assert [t.invoice_number for t in app.screen.result.transactions] == list(PAID)
    assert len(sandbox.objects("payment_intent")) == 3


async def test_the_front_desk_offers_no_typed_card_and_the_phone_pays(services, sandbox):
    desk = services.desk
    staff = desk.sign_in_staff("Front Desk", "2468")
    dana = desk.payer_for_client(staff, Client.get(Client.email == DANA_EMAIL).id)
    selection = tuple(SelectedInvoice(i, i.balance) for i in desk.payable_invoices(dana)
                      if i.number in PAID)
    app = app_for(services, "desk")
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(pilot)
        app.flow.handle(InvoicesChosen(dana, selection))
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, PaymentMethodScreen)
        # The desk keeps its tabs, but for the typed card.
        assert tab_ids(screen) == ["method-reader", "method-saved", "method-phone"]
        assert not screen.query("#card-number")
        await pilot.click("#--content-tab-method-phone")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        app.flow.phone_poll_seconds = 0.05
        await pilot.press("f5")
        await until(pilot, lambda: isinstance(app.screen, PhoneEntryScreen)
                    and bool(app.screen.url), "the card page")
        assert await asyncio.to_thread(post, app.screen.url, CARD) == 200
        await until(pilot, lambda: app.screen.check_action("use_once", ()), "keep it?")
        await pilot.press("n")  # not kept on file: this payment only
        await until(pilot, lambda: isinstance(app.screen, ResultScreen), "the result")
        await settle(pilot)
        assert app.screen.result.succeeded
    assert len(sandbox.objects("payment_intent")) == 3


async def test_with_raw_card_access_the_desk_offers_the_typed_card_again(services):
    app = make_app(services.settings, mode="desk", services=services, clock=lambda: WALK_NOW)
    assert app.card_entry_ways == ("reader", "phone")
    from dataclasses import replace

    raw = replace(services.settings, stripe=replace(services.settings.stripe,
                                                    raw_card_data_access=True))
    assert make_app(raw, mode="desk", services=services).card_entry_ways == (
        "keyed", "reader", "phone")
    assert make_app(raw, mode="kiosk", services=services).card_entry_ways == (
        "reader", "phone")
