"""The card entered on the payer's phone, walked at the kiosk on the real Desk, the demo
firm and the Stripe sandbox: the QR code and link are shown, the sandbox's card page is
completed over HTTP as a phone would, and the screen moves on by itself to three
transactions; a declined card charges nothing; an expired link says so and offers a new one."""

from __future__ import annotations

import asyncio
import datetime as dt
import email
import urllib.error
import urllib.parse
import urllib.request

import pytest
from textual.widgets import Static

from billing.config import Settings
from billing.services import build_services
from models import Checkout, Client, InvoicePayment, OutboundEmail, PhoneEntry
from models.demo import DANA_EMAIL
from tests.tui.conftest import WALK_NOW
from tests.tui.fakes import screen_text, settle
from tests.tui.test_kiosk_walkthrough import (
    dana_chooses_how_to_pay_three,
    kiosk_app,
)
from tests.tui.test_qr_code import decode, modules_from_text
from tui.flow_values import SelectedInvoice
from tui.screens.phone_entry import PhoneEntryScreen
from tui.screens.result import ResultScreen
from tui.screens.review import ReviewScreen
from tui.widgets.qr_code import QrCode

CARD = {"number": "4242424242424242", "expiry": "12/34", "cvc": "123", "postal_code": "10001"}
PAID = ("INV-1001", "INV-1004", "INV-1009")


class Clock:
    def __init__(self) -> None:
        self.now = WALK_NOW

    def __call__(self) -> dt.datetime:
        return self.now


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def services(demo_sqlite, sqlite_url, tmp_path, clock):
    settings = Settings(database_url=sqlite_url, outbox_dir=str(tmp_path / "outbox"),
                        terminal="kiosk-test")
    built = build_services(settings, clock=clock, reconcile_at_start=False)
    try:
        yield built
    finally:
        built.close()


def post(url: str, fields: dict[str, str]) -> int:
    request = urllib.request.Request(  # noqa: S310 - the loopback sandbox
        url, data=urllib.parse.urlencode(fields).encode(), method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


async def until(pilot, condition, what: str, tries: int = 200) -> None:
    """Wait for `condition` (the polling worker never completes, so no settle here)."""
    for _ in range(tries):
        if condition():
            return
        await pilot.pause(0.05)
    raise AssertionError(f"never: {what} (on {pilot.app.screen})")


async def to_phone_entry(pilot, app, shown: str = "#phone-qr") -> PhoneEntryScreen:
    """Dana ticks three invoices, chooses "On my phone", reviews and presses Pay; returns
    once the phone screen shows `shown` (the QR code)."""
    await dana_chooses_how_to_pay_three(pilot)
    await pilot.click("#--content-tab-method-phone")
    await settle(pilot)
    await pilot.press("f5")
    await settle(pilot)
    review = app.screen
    assert isinstance(review, ReviewScreen) and review.card.kind == "phone"
    assert [s.invoice.number for s in review.selection] == list(PAID)
    app.flow.phone_poll_seconds = 0.05
    await pilot.press("f5")
    await until(pilot, lambda: isinstance(app.screen, PhoneEntryScreen)
                and bool(app.screen.query(shown)), f"the phone screen's {shown}")
    return app.screen


def intents(services) -> list[dict]:
    return services.sandbox.objects("payment_intent")


KEEP_QUESTION = ("Your Visa •••• 4242 is saved. Keep this card on file for future payments? "
                 "Press Y for yes, or N to use it for this payment only.")


@pytest.mark.parametrize(("key", "on_file"), [("y", "kept"), ("n", "released")])
async def test_a_card_saved_on_the_phone_pays_three_invoices(services, key, on_file):
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_phone_entry(pilot, app)
        text = screen_text(app)
        assert screen.url.startswith(services.sandbox.url + "/pay/cs_test_")
        assert str(screen.query_one("#phone-link", Static).render()) == screen.url
        assert "3 transactions will be charged" in text
        for number in PAID:
            assert number in text
        assert "The link works for 30:00 more." in text
        qr = screen.query_one("#phone-qr", QrCode)
        drawn = str(qr.render()).splitlines()
        assert decode(modules_from_text(drawn)) == [screen.url]
        assert await asyncio.to_thread(post, screen.url, CARD) == 200
        # The page cannot ask whether to keep the card: the kiosk does, before paying.
        state = screen.query_one("#phone-state", Static)
        await until(pilot, lambda: "Keep this card on file" in str(state.render()),
                    "the question whether to keep the card")
        assert words(str(state.render())) == KEEP_QUESTION
        assert intents(services) == []  # nothing is charged before the answer
        await pilot.press(key)
        await until(pilot, lambda: isinstance(app.screen, ResultScreen), "the result")
        result = app.screen.result
        assert result.succeeded
        assert [t.invoice_number for t in result.transactions] == list(PAID)
    assert len(intents(services)) == 3
    assert {pi["status"] for pi in intents(services)} == {"succeeded"}
    entry = PhoneEntry.get()
    assert entry.status == "used"
    assert Checkout.get_by_id(entry.checkout_id).card_on_file == on_file
    captured = InvoicePayment.select().join(Checkout).where(
        (Checkout.id == entry.checkout_id) & (InvoicePayment.status == "captured"))
    assert sorted(p.invoice.number for p in captured) == list(PAID)


DECLINED_WORDS = ("The card ending 0002 was declined on the phone. The card was declined. "
                  "Please use another card or call the card's issuer. Nothing was charged. "
                  "You can try another card on the same page.")


def words(text: str) -> str:
    return " ".join(text.split())


def info_column(text: str) -> str:
    """The words of the column beside the QR code (from where "The card ending" starts),
    line after line, as a person reads them on the screen."""
    lines = text.splitlines()
    start = next(line.index("The card ending") for line in lines if "The card ending" in line)
    return words(" ".join(line[start:] for line in lines))


async def test_a_declined_card_charges_nothing_and_the_screen_says_why(services, monkeypatch):
    looks = []
    real = services.desk.phone_entry_status

    def look(payer, entry_id):
        looks.append(status := real(payer, entry_id))
        return status

    monkeypatch.setattr(services.desk, "phone_entry_status", look)
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_phone_entry(pilot, app)
        state = screen.query_one("#phone-state", Static)
        assert "Waiting for the card" in str(state.render())
        declined = {**CARD, "number": "4000000000000002"}
        assert await asyncio.to_thread(post, screen.url, declined) == 402  # said on the phone
        await until(pilot, lambda: "declined on the phone" in str(state.render()),
                    "the decline on the terminal")
        assert words(str(state.render())) == DECLINED_WORDS
        # Drawn whole at 80x24 (once the screen has repainted after the update).
        await until(pilot, lambda: words(DECLINED_WORDS) in info_column(screen_text(app)),
                    "the decline drawn whole in the info column")
        assert state.has_class("-declined")
        seen = len(looks)  # the terminal keeps watching the page, which is still open
        await until(pilot, lambda: len(looks) >= seen + 3, "more looks at the page")
        assert {s.status for s in looks[seen:]} == {"pending"}
        assert app.screen is screen and bool(screen.query("#phone-qr"))
        assert screen_text(app).count("INV-") == 3
        assert intents(services) == []
        # Another card on the same page: the terminal moves on and charges it.
        assert await asyncio.to_thread(post, screen.url, CARD) == 200
        await until(pilot, lambda: "Keep this card on file" in str(state.render()),
                    "the question whether to keep the card")
        assert not state.has_class("-declined")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, ResultScreen), "the result")
        assert app.screen.result.succeeded
    assert len(intents(services)) == 3
    [used] = {pi["payment_method"] for pi in intents(services)}  # the second card, only
    [card] = [pm for pm in services.sandbox.objects("payment_method") if pm["id"] == used]
    assert card["card"]["last4"] == "4242"
    assert PhoneEntry.get().status == "used"


async def test_escape_instead_of_an_answer_charges_nothing_and_releases_the_card(services):
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_phone_entry(pilot, app)
        assert await asyncio.to_thread(post, screen.url, CARD) == 200
        state = screen.query_one("#phone-state", Static)
        await until(pilot, lambda: "Keep this card on file" in str(state.render()),
                    "the question whether to keep the card")
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review")
        await until(pilot, lambda: not [pm for pm in services.sandbox.objects(
            "payment_method") if pm["customer"]], "the card taken off the customer")
    assert intents(services) == [] and PhoneEntry.get().status == "canceled"


async def test_a_declined_card_then_escape_charges_nothing(services):
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_phone_entry(pilot, app)
        state = screen.query_one("#phone-state", Static)
        funds = {**CARD, "number": "4000000000009995"}
        assert await asyncio.to_thread(post, screen.url, funds) == 402
        await until(pilot, lambda: "declined on the phone" in str(state.render()),
                    "the decline on the terminal")
        assert ("The card ending 9995 was declined on the phone. The card was declined: the "
                "account does not have enough funds. Nothing was charged.") in \
            words(str(state.render()))
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review")
        await until(pilot, lambda: PhoneEntry.get().status == "canceled", "the page closed")
    assert intents(services) == [] and PhoneEntry.get().checkout_id is None
    assert await asyncio.to_thread(post, screen.url, CARD) != 200  # closed: no card now


async def test_an_expired_link_says_so_and_a_new_one_is_offered(services, clock):
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_phone_entry(pilot, app)
        first = screen.url
        clock.now = WALK_NOW + dt.timedelta(minutes=30)
        await until(pilot, lambda: screen._expired, "the link expired")
        words = " ".join(screen_text(app).split())
        assert "This link has expired: nothing was charged. Press N for a new link" in words
        assert not screen.query("#phone-qr")
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PhoneEntryScreen)
                    and app.screen is not screen and bool(app.screen.query("#phone-qr")),
                    "a new link")
        assert app.screen.url != first
    assert intents(services) == []
    assert [e.status for e in PhoneEntry.select().order_by(PhoneEntry.id)][0] == "expired"


async def test_the_front_desk_emails_the_link_to_the_client(services):
    desk = services.desk
    staff = desk.sign_in_staff("Front Desk", "2468")
    dana = desk.payer_for_client(staff, Client.get(Client.email == DANA_EMAIL).id)
    selection = tuple(SelectedInvoice(i, i.balance) for i in desk.payable_invoices(dana)
                      if i.number in PAID)
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(PhoneEntryScreen(dana, selection, poll_seconds=0.05))
        await until(pilot, lambda: bool(app.screen.query("#phone-qr")), "the QR code")
        url = app.screen.url
        await pilot.press("e")
        await until(pilot, lambda: OutboundEmail.select().count() == 1, "the email queued")
        await pilot.press("escape")
        await until(pilot, lambda: PhoneEntry.get().status == "canceled", "the page closed")
    queued = OutboundEmail.get()
    assert queued.recipient == DANA_EMAIL
    body = email.message_from_string(queued.message).get_payload(decode=True).decode()
    assert url in body and all(number in body for number in PAID)


async def test_a_client_cannot_email_the_link_from_the_kiosk(services):
    desk = services.desk
    dana = desk.sign_in_client(DANA_EMAIL, "demo-dana")
    selection = tuple(SelectedInvoice(i, i.balance) for i in desk.payable_invoices(dana)
                      if i.number in PAID)
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(PhoneEntryScreen(dana, selection, poll_seconds=0.05))
        await until(pilot, lambda: bool(app.screen.query("#phone-qr")), "the QR code")
        await pilot.press("e")
        for _ in range(5):
            await pilot.pause(0.05)
        assert "Email the link" not in screen_text(app)
    assert OutboundEmail.select().count() == 0


async def test_at_the_front_desk_staff_confirm_the_payer_agreed(services):
    desk = services.desk
    staff = desk.sign_in_staff("Front Desk", "2468")
    dana = desk.payer_for_client(staff, Client.get(Client.email == DANA_EMAIL).id)
    selection = tuple(SelectedInvoice(i, i.balance) for i in desk.payable_invoices(dana)
                      if i.number in PAID)
    app = kiosk_app(services)
    answers = []
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(pilot)
        app.push_screen(PhoneEntryScreen(dana, selection, poll_seconds=0.05), answers.append)
        await until(pilot, lambda: bool(app.screen.query("#phone-qr")), "the QR code")
        assert await asyncio.to_thread(post, app.screen.url, CARD) == 200
        state = app.screen.query_one("#phone-state", Static)
        await until(pilot, lambda: "payer agreed" in str(state.render()), "the staff's question")
        assert ("The Visa •••• 4242 is saved. Y: the payer agreed to keep this card on file "
                "for future payments. N: they did not (this payment only).") == words(
            str(state.render()))
        # The footer drops the email key once it has repainted with the question.
        await until(pilot, lambda: "Email the link" not in screen_text(app),
                    "the footer without the email key")
        await pilot.press("y")
        await until(pilot, lambda: bool(answers), "the screen's answer")
    [saved] = answers
    assert saved.card.kind == "phone" and saved.card.keep is True
    assert intents(services) == []  # paid by the processing screen that follows
