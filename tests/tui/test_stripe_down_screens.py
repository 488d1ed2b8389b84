"""A gateway failure reaches the screens as the error's sentence, never as an exception or
the catch-all message: the payment method screen over the real Desk with Stripe
unreachable, and a raw gateway error out of a worker."""

from __future__ import annotations

import socket

from billing.config import Settings, StripeSettings
from billing.values import CardChoice
from gateway.errors import OutcomeUnknown
from models import Client
from tests.tui.conftest import WALK_NOW
from tests.tui.fakes import DANA, FakeDesk, settle
from tests.tui.test_snapshots_client import SELECTION, make
from tui.app import UNEXPECTED_ERROR
from tui.factory import make_app
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import SelectedInvoice
from tui.screens.processing import ProcessingScreen

DANA_EMAIL = "dana.whitfield@example.com"


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def notifications(app) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_the_card_choices_say_stripe_did_not_answer(demo_sqlite, sqlite_url, tmp_path):
    from billing.services import build_services

    settings = Settings(database_url=sqlite_url, outbox_dir=str(tmp_path / "outbox"),
                        terminal="kiosk-test",
                        stripe=StripeSettings(api_key="sk_test_down", api_base=closed_port_url(),
                                              max_network_retries=0, timeout_seconds=5))
    Client.update(stripe_customer_id="cus_dana").where(Client.email == DANA_EMAIL).execute()
    services = build_services(settings, clock=lambda: WALK_NOW, reconcile_at_start=False)
    try:
        desk = services.desk
        payer = desk.sign_in_client(DANA_EMAIL, "demo-dana")
        [first, *_] = desk.payable_invoices(payer)
        app = make_app(settings, mode="kiosk", services=services, clock=lambda: WALK_NOW)
        async with app.run_test(size=(120, 40)) as pilot:
            await app.push_screen(PaymentMethodScreen(
                payer, (SelectedInvoice(first, first.balance),)))
            await settle(pilot)
            screen = app.screen
            saved = screen.query_one("#saved-cards").get_option_at_index(0)
            readers = screen.query_one("#readers").get_option_at_index(0)
            assert str(saved.prompt).startswith(
                "The client's saved cards could not be read: Stripe did not answer.")
            assert str(readers.prompt).startswith(
                "The card readers could not be listed: Stripe did not answer.")
            assert saved.disabled and readers.disabled
            assert UNEXPECTED_ERROR not in notifications(app)
    finally:
        services.close()


class GatewayDownDesk(FakeDesk):
    """A DeskApi whose pay lets a gateway error through untranslated."""

    def pay(self, payer, amounts, card, on_progress=None):
        raise OutcomeUnknown("We could not get an answer from the card processor.")


async def test_a_raw_gateway_error_from_a_worker_is_shown_as_its_message():
    app = make(desk=GatewayDownDesk())
    card = CardChoice(kind="saved", payment_method_id="pm_saved_visa", label="Visa 4242")
    async with app.run_test(size=(120, 40)) as pilot:
        await app.push_screen(PaymentMethodScreen(DANA, SELECTION))
        await settle(pilot)
        await app.push_screen(ProcessingScreen(DANA, SELECTION, card))
        await settle(pilot)
        assert "We could not get an answer from the card processor." in notifications(app)
        assert UNEXPECTED_ERROR not in notifications(app)
        # Nothing was charged: the processing screen goes back to the card choice.
        assert isinstance(app.screen, PaymentMethodScreen)
