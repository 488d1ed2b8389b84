"""Snapshots of the bank debit screens at 80x24 and 120x40, on the real Desk over the demo
firm (a SQLite file of the test's own, the in-process Stripe sandbox, the walk-throughs'
fixed clock), no blinking cursor: the bank-account tab with both numbers typed (masked), the
online (WEB) authorization at the kiosk, the telephone (TEL) script at the front desk with
its confirmation, the debits pending after confirming, a debit that failed, the payment
page's "bank payment pending" rows, and the front desk's payments list. The account's
microdeposit screen (tui/screens/bank_verify.py) is not here: the debits are confirmed
through billing, as that screen would, then their result shown.

tests/billing/test_bank_numbers_never_kept.py reads every snapshot for the numbers typed."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.bank_settlement import reason_in_words
from billing.bank_values import BankCheckoutResult, BankDebitLine
from billing.event_sync import read_events
from models import Checkout, InvoicePayment
from models.money import Money
from tests.billing.bank_support import DELAY, FAILS, pay_three
from tests.tui.fakes import screen_text, settle, type_text
from tests.tui.test_bank_debit_flow import ACCOUNT, ROUTING, type_account
from tests.tui.test_desk_walkthrough import desk_app, open_client, sign_in
from tests.tui.test_kiosk_walkthrough import go_to_row, kiosk_app
from tui.screens.bank_result import BankResultScreen
from tui.screens.client_sign_in import ClientSignInScreen
from tui.screens.payment_method import PaymentMethodScreen
from tui.screens.payment_page import PaymentPageScreen

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((120, 40), id="120x40")]
DANA_EMAIL, DANA_PASSWORD = "dana.whitfield@example.com", "demo-dana"
THREE = ("INV-1001", "INV-1004", "INV-1009")
# When the debits of these snapshots were made (naive UTC, the day of the fixed clock).
MADE_AT = dt.datetime(2026, 10, 20, 16, 5, 0)


@pytest.fixture
def kiosk(kiosk_services):
    kiosk_services.sandbox.configure_bank_debits(settlement_delay=DELAY)
    return kiosk_services


@pytest.fixture
def desk(desk_services):
    desk_services.sandbox.configure_bank_debits(settlement_delay=DELAY)
    return desk_services


def dana_of(services):
    return services.desk.sign_in_client(DANA_EMAIL, DANA_PASSWORD)


def at_fixed_times() -> None:
    """The debits made by a snapshot's set-up, as if made at MADE_AT (the list shows when)."""
    Checkout.update(created_at=MADE_AT, updated_at=MADE_AT).where(
        (Checkout.method == "bank_debit") & (Checkout.terminal != "demo-seed")).execute()
    InvoicePayment.update(completed_at=MADE_AT).where(
        InvoicePayment.completed_at.is_null(False)
        & (InvoicePayment.payment_method_type == "us_bank_account")).execute()


async def until(pilot, condition, what: str) -> None:
    """Wait for `condition` (the app's workers and messages run between looks)."""
    for _ in range(400):
        if condition():
            return
        await pilot.app.workers.wait_for_complete()
        await pilot.pause(0.02)
    raise AssertionError(f"{what} did not happen: {screen_text(pilot.app)}")


async def dana_on_her_page(pilot) -> PaymentPageScreen:
    """Dana signs in at the kiosk (the first sign-in of a run also loads the payment flow:
    wait for her page, not for a fixed number of pauses)."""
    await settle(pilot)
    await pilot.click("#sign-in")
    await until(pilot, lambda: isinstance(pilot.app.screen, ClientSignInScreen), "the sign-in")
    await type_text(pilot, DANA_EMAIL)
    await pilot.press("enter")
    await type_text(pilot, DANA_PASSWORD)
    await pilot.press("enter")
    await until(pilot, lambda: isinstance(pilot.app.screen, PaymentPageScreen)
                and pilot.app.screen.query_one("#payment-table").row_count, "Dana's page")
    await settle(pilot)
    return pilot.app.screen


# --- the kiosk: the account typed, then the online authorization ----------------------


async def bank_tab_typed(pilot) -> None:
    """Dana keeps three invoices ticked, chooses "Bank account" and types both numbers."""
    page = await dana_on_her_page(pilot)
    for number in ("INV-1012", "INV-1021"):
        await go_to_row(pilot, page, number)
        await pilot.press("space")
    await settle(pilot)
    await pilot.press("c")
    await until(pilot, lambda: isinstance(pilot.app.screen, PaymentMethodScreen), "the methods")
    await pilot.click("#--content-tab-method-bank")
    await settle(pilot)
    await type_account(pilot, pilot.app.screen, ROUTING, ACCOUNT)


async def web_authorization(pilot) -> None:
    await bank_tab_typed(pilot)
    for _ in range(2):  # the review, then the authorization
        await pilot.press("f5")
        await settle(pilot)


async def web_authorization_read_and_agreed(pilot) -> None:
    await web_authorization(pilot)
    await pilot.press("end")  # the scroll has the focus: to the end of the text
    pilot.app.screen.query_one("#bank-auth-agree").focus()
    await pilot.press("space")
    await settle(pilot)


KIOSK_STEPS = {
    "bank_account_typed": bank_tab_typed,
    "web_authorization": web_authorization,
    "web_authorization_agreed": web_authorization_read_and_agreed,
}


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("name", list(KIOSK_STEPS))
def test_kiosk_bank_screen(snap_compare, kiosk, name, size):
    assert snap_compare(kiosk_app(kiosk), terminal_size=size, run_before=KIOSK_STEPS[name])


# --- the front desk: the telephone script, confirmed by staff --------------------------


async def tel_script_confirmed(pilot) -> None:
    await sign_in(pilot, "Front Desk", "2468")
    page = await open_client(pilot, "Dana")
    for number in ("INV-1012", "INV-1021"):  # three of the five stay ticked
        await go_to_row(pilot, page, number)
        await pilot.press("space")
    await settle(pilot)
    await pilot.press("c")
    await settle(pilot)
    await pilot.click("#--content-tab-method-bank")
    await settle(pilot)
    await type_account(pilot, pilot.app.screen, ROUTING, ACCOUNT)
    for _ in range(2):
        await pilot.press("f5")
        await settle(pilot)
    pilot.app.screen.query_one("#bank-auth-agree").focus()
    await pilot.press("space")
    await settle(pilot)


@pytest.mark.parametrize("size", SIZES)
def test_front_desk_tel_script_confirmed(snap_compare, desk, size):
    assert snap_compare(desk_app(desk), terminal_size=size, run_before=tel_script_confirmed)


# --- after confirming: the debits pending, or one failed -------------------------------


def result_shown(result: BankCheckoutResult, payer):
    async def run_before(pilot) -> None:
        await settle(pilot)
        pilot.app.push_screen(BankResultScreen(payer, (), result))
        await settle(pilot)
    return run_before


@pytest.mark.parametrize("size", SIZES)
def test_three_debits_pending_after_confirming(snap_compare, kiosk, size):
    dana = dana_of(kiosk)
    _amounts, _waiting, result = pay_three(kiosk.desk, dana, kiosk.sandbox)
    assert [d.status for d in result.debits] == ["processing"] * 3
    assert snap_compare(kiosk_app(kiosk), terminal_size=size, run_before=result_shown(result, dana))


def usd(minor: int) -> Money:
    return Money(minor, "USD")


# One debit refused when it was sent (the others go on): Stripe's "no_account", in the words
# billing gives it, and billing's summary of such a checkout (bank_checkout.result_of).
NO_ACCOUNT = reason_in_words("no_account")
ONE_FAILED = BankCheckoutResult(41, (
    BankDebitLine(101, "INV-1001", usd(125000), "processing", "pi_bank_1"),
    BankDebitLine(102, "INV-1004", usd(47500), "failed", "pi_bank_2", NO_ACCOUNT),
    BankDebitLine(103, "INV-1009", usd(9525), "processing", "pi_bank_3"),
), "2 bank debits started from the account ending 1116: each settles on its own in a few "
   f"business days, and one can fail while the others succeed. INV-1004 was not debited: "
   f"{NO_ACCOUNT}. The other debits were not undone.")
ALL_FAILED = BankCheckoutResult(42, (
    BankDebitLine(104, "INV-1012", usd(60000), "failed", "pi_bank_4", NO_ACCOUNT),
), f"INV-1012 was not debited: {NO_ACCOUNT}.")


@pytest.mark.parametrize("size", SIZES)
@pytest.mark.parametrize("result", [pytest.param(ONE_FAILED, id="one_failed"),
                                    pytest.param(ALL_FAILED, id="all_failed")])
def test_a_failed_debit_in_words(snap_compare, kiosk, result, size):
    assert snap_compare(kiosk_app(kiosk), terminal_size=size,
                        run_before=result_shown(result, dana_of(kiosk)))


# --- later: the payment page and the front desk's payments list ------------------------


@pytest.mark.parametrize("size", SIZES)
def test_payment_page_bank_payment_pending_rows(snap_compare, kiosk, size):
    pay_three(kiosk.desk, dana_of(kiosk), kiosk.sandbox)

    async def run_before(pilot) -> None:
        await dana_on_her_page(pilot)
    assert snap_compare(kiosk_app(kiosk), terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", SIZES)
def test_front_desk_payments_list_with_bank_debits(snap_compare, desk, size):
    """INV-1001 by bank debit, pending; INV-1004 by bank debit, returned (no account)."""
    dana = dana_of(desk)
    pay_three(desk.desk, dana, desk.sandbox, numbers=("INV-1004",), account=FAILS)
    desk.sandbox.advance_clock(DELAY)
    read_events(desk.gateway)
    pay_three(desk.desk, dana, desk.sandbox, numbers=("INV-1001",))
    at_fixed_times()

    async def run_before(pilot) -> None:
        await sign_in(pilot, "Front Desk", "2468")
        await pilot.press("f2")
        await settle(pilot)
        await pilot.press("down")  # INV-1004's debit, returned: its reason below
        await settle(pilot)
    assert snap_compare(desk_app(desk), terminal_size=size, run_before=run_before)

