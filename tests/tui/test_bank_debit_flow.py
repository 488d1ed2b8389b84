"""Bank debits walked on the real Desk, the demo firm and the Stripe sandbox, at 80x24: Dana
pays three invoices from her bank account at the kiosk (authorization shown in full and
confirmed, the deposit's code, three pending debits); staff at the front desk read the
script and must confirm the client agreed; a bad routing number is refused on the spot; the
account number is never on screen whole."""

from __future__ import annotations

import pytest
from textual.widgets import Button, Input, Static

from billing.config import Settings
from billing.services import build_services
from models import Checkout, InvoicePayment
from models.bank_debits import BankAuthorization
from tests.tui.conftest import WALK_NOW
from tests.tui.fakes import screen_text, settle, type_text
from tests.tui.test_desk_walkthrough import desk_app, open_client, sign_in
from tests.tui.test_kiosk_walkthrough import (
    dana_chooses_how_to_pay_three,
    dana_signs_in,
    go_to_row,
    kiosk_app,
)
from tui.screens.bank_authorization import BankAuthorizationScreen
from tui.screens.bank_result import BankResultScreen
from tui.screens.bank_verify import BankVerifyScreen
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import PaymentPageScreen
from tui.screens.review import ReviewScreen

ROUTING = "110000000"
ACCOUNT = "000123456789"  # Stripe's test account that succeeds
PAID = ("INV-1001", "INV-1004", "INV-1009")


@pytest.fixture
def services(demo_sqlite, sqlite_url, tmp_path):
    settings = Settings(database_url=sqlite_url, outbox_dir=str(tmp_path / "outbox"),
                        terminal="kiosk-test")
    built = build_services(settings, clock=lambda: WALK_NOW, reconcile_at_start=False)
    built.sandbox.configure_bank_debits(settlement_delay=3600)
    try:
        yield built
    finally:
        built.close()


def bank_rows() -> list[InvoicePayment]:
    return list(InvoicePayment.select().where(
        InvoicePayment.payment_method_type == "us_bank_account").order_by(InvoicePayment.id))


def seeded() -> int:
    """The demo firm of the tests has no bank debits of its own."""
    return 0


async def to_bank_tab(pilot, app) -> PaymentMethodScreen:
    """Dana keeps three invoices ticked and chooses "Bank account"."""
    await dana_chooses_how_to_pay_three(pilot)
    await pilot.click("#--content-tab-method-bank")
    await settle(pilot)
    return app.screen


async def type_account(pilot, screen, routing: str, account: str) -> None:
    screen.query_one("#bank-routing", Input).focus()
    await type_text(pilot, routing)
    screen.query_one("#bank-account", Input).focus()
    await type_text(pilot, account)
    await settle(pilot)


def assert_no_full_account(app) -> None:
    text = screen_text(app)
    assert ACCOUNT not in text
    assert ACCOUNT[:8] not in text  # nothing but the last four digits
    for field in app.screen.query("#bank-account").results(Input):
        assert ACCOUNT[:5] not in field.value


async def test_dana_pays_three_invoices_by_bank_debit_at_the_kiosk(services):
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_bank_tab(pilot, app)
        await type_account(pilot, screen, ROUTING, ACCOUNT)
        assert screen.query_one("#bank-account", Input).value == "••••••••6789"
        assert_no_full_account(app)
        await pilot.press("f5")
        await settle(pilot)

        review = app.screen
        assert isinstance(review, ReviewScreen) and review.card.kind == "bank"
        assert [s.invoice.number for s in review.selection] == list(PAID)
        text = " ".join(screen_text(app).split())  # as read, whatever the line breaks
        assert "settles on its own in a few business days" in text
        assert "no all-or-nothing" in text
        assert_no_full_account(app)
        await pilot.press("f5")
        await settle(pilot)

        auth = app.screen
        assert isinstance(auth, BankAuthorizationScreen) and auth.kind == "WEB"
        shown = str(auth.query_one("#bank-auth-text", Static).render())
        for number in PAID:
            assert number in shown
        assert "revoke" in shown.lower()
        assert shown == auth.text  # the whole text, as billing wrote it
        # Pay needs the explicit agreement first.
        assert auth.query_one("#bank-auth-pay", Button).disabled
        await pilot.press("f5")
        await settle(pilot)
        assert app.screen is auth
        assert len(bank_rows()) == seeded()
        auth.query_one("#bank-auth-agree").focus()
        await pilot.press("space")
        await settle(pilot)
        assert not auth.query_one("#bank-auth-pay", Button).disabled
        await pilot.press("f5")
        await settle(pilot)

        verify = app.screen
        assert isinstance(verify, BankVerifyScreen)
        assert "SM11AA" in screen_text(app)  # test mode's hint
        statuses = [p.status for p in bank_rows()]
        await type_text(pilot, "SM99ZZ")
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is verify
        error = str(verify.query_one("#bank-verify-error", Static).render())
        assert error and "Checking" not in error
        assert [p.status for p in bank_rows()] == statuses  # a wrong code changes nothing

        await type_text(pilot, "SM11AA")
        await pilot.press("enter")
        await settle(pilot)

        result = app.screen
        assert isinstance(result, BankResultScreen)
        text = screen_text(app)
        assert text.count("bank payment pending") >= 3
        for number in PAID:
            assert number in text
        assert_no_full_account(app)
    mine = [p for p in bank_rows() if p.invoice.number in PAID]
    assert [p.status for p in mine] == ["processing"] * 3
    assert len({p.stripe_payment_intent_id for p in mine}) == 3
    authorization = BankAuthorization.get(BankAuthorization.checkout == mine[0].checkout_id)
    assert authorization.kind == "WEB" and authorization.text == auth.text
    assert authorization.last4 == "6789"


async def test_a_bad_routing_number_is_refused_on_the_spot_and_nothing_changes(services):
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        checkouts = Checkout.select().count()
        screen = await to_bank_tab(pilot, app)
        await type_account(pilot, screen, "110000001", ACCOUNT)
        said = str(screen.query_one("#bank-routing-ok", Static).render())
        assert "not valid" in said
        await pilot.press("f5")
        await settle(pilot)
        assert app.screen is screen
        assert "routing number is not valid" in str(
            screen.query_one("#bank-error", Static).render())
        assert app.focused is screen.query_one("#bank-routing")
        assert_no_full_account(app)
    assert Checkout.select().count() == checkouts
    assert len(bank_rows()) == seeded()


async def test_at_the_front_desk_staff_read_the_script_and_confirm_the_client_agreed(
        desk_services):
    desk_services.sandbox.configure_bank_debits(settlement_delay=3600)
    app = desk_app(desk_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "Front Desk", "2468")
        page = await open_client(pilot, "Dana")
        for number in ("INV-1004", "INV-1009", "INV-1012", "INV-1021"):
            await go_to_row(pilot, page, number)
            await pilot.press("space")
        await settle(pilot)
        await pilot.press("c")
        await settle(pilot)
        await pilot.click("#--content-tab-method-bank")
        await settle(pilot)
        await type_account(pilot, app.screen, ROUTING, ACCOUNT)
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, ReviewScreen)
        await pilot.press("f5")
        await settle(pilot)

        auth = app.screen
        assert isinstance(auth, BankAuthorizationScreen) and auth.kind == "TEL"
        text = " ".join(screen_text(app).split())
        assert "Read this aloud to the client" in text
        assert "the client agreed on the call" in text
        shown = str(auth.query_one("#bank-auth-text", Static).render())
        assert "INV-1001" in shown and shown == auth.text
        await pilot.press("f5")  # without the staff's confirmation: nothing happens
        await settle(pilot)
        assert app.screen is auth
        assert len(bank_rows()) == seeded()
        auth.query_one("#bank-auth-agree").focus()
        await pilot.press("space")
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, BankVerifyScreen | BankResultScreen)
    authorization = BankAuthorization.select().where(BankAuthorization.kind == "TEL").get()
    assert authorization.text == auth.text
    assert "confirmed that the client agreed" in authorization.confirmation


async def test_later_keeps_the_invoices_held_and_debits_nothing(services):
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_bank_tab(pilot, app)
        await type_account(pilot, screen, ROUTING, ACCOUNT)
        await pilot.press("f5")
        await settle(pilot)
        await pilot.press("f5")
        await settle(pilot)
        app.screen.query_one("#bank-auth-agree").focus()
        await pilot.press("space")
        await pilot.press("f5")
        await settle(pilot)
        assert isinstance(app.screen, BankVerifyScreen)
        assert "within 10 days" in " ".join(screen_text(app).split())
        await pilot.press("f9")
        await settle(pilot)
        assert not isinstance(app.screen, BankVerifyScreen)
    mine = [p for p in bank_rows() if p.invoice.number in PAID]
    assert len(mine) == 3
    assert not {p.status for p in mine} & {"processing", "captured"}  # nothing debited
    dana = services.desk.sign_in_client("dana.whitfield@example.com", "demo-dana")
    listed = {i.number for i in services.desk.payable_invoices(dana)}
    assert not listed & set(PAID)  # held: nobody can pay them twice


async def test_no_bank_tab_when_the_firm_has_bank_debits_off(services):
    from models import Firm

    Firm.update(bank_debits_enabled=False).execute()
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await dana_signs_in(pilot)
        await pilot.press("c")
        await settle(pilot)
        assert isinstance(app.screen, PaymentMethodScreen)
        assert not app.screen.query("#method-bank")
        assert "Bank account" not in screen_text(app)


async def test_the_front_desk_sees_a_bank_payment_pending_on_the_clients_page(desk_services):
    from models.demo import add_demo_bank_debits

    add_demo_bank_debits()  # the demo app's: Nora's debit pending, Theo's failed
    app = desk_app(desk_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "Front Desk", "2468")
        await type_text(pilot, "Nora")
        await settle(pilot)
        await pilot.press("down")
        await pilot.press("enter")
        await settle(pilot)
        page = app.screen
        assert isinstance(page, PaymentPageScreen)
        text = " ".join(screen_text(app).split())
        assert "INV-2001 · $1,800.00 · bank payment pending" in text
        assert not page._rows  # held: nothing of it is payable again
    # Theo's debit failed: his invoice is payable again, and no longer pending.
    from billing.values import StaffSession
    from models import Client, Staff

    staff = Staff.get(Staff.name == "Front Desk")
    session = StaffSession(staff.id, staff.name, staff.role)
    theo = desk_services.desk.payer_for_client(
        session, Client.get(Client.name == "Theo Marsh").id)
    assert [i.number for i in desk_services.desk.payable_invoices(theo)] == ["INV-2002"]
    assert desk_services.desk.pending_bank_payments(theo) == []


async def test_admin_turns_bank_debits_off_and_it_is_audited(desk_services):
    from models import Firm
    from models.records import AuditEntry
    from tui.screens.desk_settings import DeskSettingsScreen

    app = desk_app(desk_services)
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "Avery Admin", "1357")
        await pilot.press("f6")
        await settle(pilot)
        assert isinstance(app.screen, DeskSettingsScreen)
        await pilot.press("b")
        await settle(pilot)
        status = str(app.screen.query_one("#desk-settings-status", Static).render())
        assert "Bank debits are now off" in status
        assert app.firm.bank_debits_enabled is False
    assert Firm.get().bank_debits_enabled is False
    assert AuditEntry.select().where(
        AuditEntry.details.contains("bank_debits_enabled=False")).count() == 1
