"""The card entered on the payer's phone, in a real browser: the kiosk (the real Desk, the
demo firm, the Stripe sandbox, 80x24) shows the QR code and link, headless Chromium opens
the link and a card is typed into the sandbox's hosted page key by key, and the terminal
moves on by itself. A declined card charges nothing; an expired link says so and offers a
new one. Last, the real `paydesk kiosk` under a pty, against a sandbox in a process of its
own: the card number typed on the page is nowhere in Paydesk's output, files or log."""

from __future__ import annotations

import asyncio
import datetime as dt
import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from textual.widgets import Static

from billing.config import Settings
from billing.services import build_services
from models import Checkout, InvoicePayment, PhoneEntry
from models.demo import DANA_EMAIL
from tests.tui.conftest import WALK_NOW
from tests.tui.fakes import screen_text
from tests.tui.test_kiosk_walkthrough import kiosk_app
from tests.tui.test_phone_entry_flow import (
    DECLINED_WORDS,
    PAID,
    info_column,
    to_phone_entry,
    until,
    words,
)
from tests.tui.test_qr_code import decode, modules_from_text
from tests.web.chromium import Chromium, chromium_path
from tests.web.pty_screen import (
    COLUMNS,
    ROWS,
    Terminal,
    link_on_screen,
    qr_on_screen,
    screen_lines,
)
from tests.web.test_serve_web import free_port
from tui.screens.phone_entry import PhoneEntryScreen
from tui.screens.result import ResultScreen
from tui.screens.review import ReviewScreen
from tui.widgets.qr_code import QrCode

ROOT = Path(__file__).resolve().parents[2]
DECLINED = "4000000000000002"
# The marker: a test card that succeeds, typed only on the phone's page.
MARKER = "5555555555554444"


@pytest.fixture
def chromium() -> str:
    found = chromium_path()
    if found is None:
        pytest.fail("Chromium is missing: run scripts/ensure-chromium.sh (make test does)")
    return found


@pytest.fixture
def services(demo_sqlite, sqlite_url, tmp_path):
    settings = Settings(database_url=sqlite_url, outbox_dir=str(tmp_path / "outbox"),
                        terminal="kiosk-test")
    built = build_services(settings, clock=lambda: WALK_NOW, reconcile_at_start=False)
    try:
        yield built
    finally:
        built.close()


async def enter_card(browser: Chromium, url: str, number: str) -> None:
    """Open the link and type the card as a person would: click a field, type, next."""
    await browser.goto(url)
    await browser.wait_for("document.readyState === 'complete' && !!document.querySelector"
                           "('#number')", "the card form")
    for field, text in (("#number", number), ("#expiry", "12/34"), ("#cvc", "123"),
                        ("#postal_code", "10001")):
        await browser.click(field)
        await browser.type_text(text)
    await browser.click("button[type=submit]")


PAGE_TEXT = "document.readyState === 'complete' && document.body && document.body.innerText"


def intents(services) -> list[dict]:
    return services.sandbox.objects("payment_intent")


async def test_a_card_typed_in_the_browser_pays_three_invoices(services, chromium, tmp_path):
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_phone_entry(pilot, app)
        shown = str(screen.query_one("#phone-link", Static).render())
        assert shown.startswith(services.sandbox.url + "/pay/cs_test_")
        assert "3 transactions will be charged" in screen_text(app)
        drawn = str(screen.query_one("#phone-qr", QrCode).render()).splitlines()
        assert decode(modules_from_text(drawn)) == [shown]
        async with Chromium(chromium, tmp_path / "profile", 412, 915) as browser:
            await browser.goto(shown)
            # Stripe's setup-mode page asks nothing about keeping the card: neither does this.
            assert await browser.wait_for(
                "document.readyState === 'complete' && !!document.querySelector('#number')"
                " && !document.querySelector('input[type=checkbox]')", "a form with no box")
            await enter_card(browser, shown, "4242 4242 4242 4242")
            # The kiosk asks, once the card is saved; nothing is charged before the answer.
            state = screen.query_one("#phone-state", Static)
            await until(pilot, lambda: "Keep this card on file" in str(state.render()),
                        "the question whether to keep the card")
            assert intents(services) == []
            await pilot.press("y")
            await until(pilot, lambda: isinstance(app.screen, ResultScreen), "the result")
        result = app.screen.result
        assert result.succeeded
        assert [t.invoice_number for t in result.transactions] == list(PAID)
    entry = PhoneEntry.get()
    assert entry.status == "used"
    assert Checkout.get_by_id(entry.checkout_id).card_on_file == "kept"
    captured = list(InvoicePayment.select().join(Checkout).where(
        (Checkout.id == entry.checkout_id) & (InvoicePayment.status == "captured"))
        .order_by(InvoicePayment.position))
    assert [p.invoice.number for p in captured] == list(PAID)
    at_stripe = {pi["id"]: pi for pi in intents(services)}
    assert sorted(at_stripe) == sorted(p.stripe_payment_intent_id for p in captured)
    for payment in captured:
        pi = at_stripe[payment.stripe_payment_intent_id]
        assert pi["status"] == "succeeded"
        assert pi["amount_received"] == payment.amount_minor


async def test_a_card_declined_in_the_browser_charges_nothing(services, chromium, tmp_path,
                                                             monkeypatch):
    looks = []
    real = services.desk.phone_entry_status

    def look(payer, entry_id):
        looks.append(status := real(payer, entry_id))
        return status

    monkeypatch.setattr(services.desk, "phone_entry_status", look)
    payments_before = InvoicePayment.select().count()
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_phone_entry(pilot, app)
        async with Chromium(chromium, tmp_path / "profile", 412, 915) as browser:
            await enter_card(browser, screen.url, DECLINED)
            said = await browser.wait_for(
                "document.readyState === 'complete' && "
                "document.querySelector('[role=alert]')?.innerText", "the decline")
            assert said == "Your card was declined."
            assert await browser.evaluate("document.querySelector('#number').value") == ""
        # The terminal says why, in Paydesk's words, and keeps waiting for another card.
        state = screen.query_one("#phone-state", Static)
        await until(pilot, lambda: "declined on the phone" in str(state.render()),
                    "the decline on the terminal")
        assert words(str(state.render())) == DECLINED_WORDS
        assert DECLINED_WORDS in info_column(screen_text(app))
        seen = len(looks)  # the terminal looks at the page again and keeps waiting
        await until(pilot, lambda: len(looks) >= seen + 3, "more looks at the page")
        assert {status.status for status in looks} == {"pending"}
        assert app.screen is screen and bool(screen.query("#phone-qr"))
        assert screen_text(app).count("INV-") == 3
        await pilot.press("escape")
        await until(pilot, lambda: isinstance(app.screen, ReviewScreen), "the review")
        await until(pilot, lambda: PhoneEntry.get().status == "canceled", "the page closed")
    assert intents(services) == []
    assert InvoicePayment.select().count() == payments_before
    assert PhoneEntry.get().checkout_id is None


async def test_an_expired_link_in_the_browser_offers_a_new_one(services, chromium, tmp_path):
    # 35 minutes pass for Stripe (Paydesk measures the page's expires_at by Stripe's time);
    # Paydesk's own link clock stays, so it is Stripe's page that expires first.
    app = kiosk_app(services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_phone_entry(pilot, app)
        first = screen.url
        services.sandbox.advance_clock(35 * 60)  # past the page's expires_at at Stripe
        await until(pilot, lambda: screen._expired, "the link expired")
        words = " ".join(screen_text(app).split())
        assert "This link has expired: nothing was charged. Press N for a new link" in words
        assert not screen.query("#phone-qr")
        async with Chromium(chromium, tmp_path / "profile", 412, 915) as browser:
            await browser.goto(first)
            text = await browser.wait_for(PAGE_TEXT, "the page")
            assert "This link has expired and accepts no card" in text
            assert await browser.evaluate("document.querySelector('form')") is None
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, PhoneEntryScreen)
                    and app.screen is not screen and bool(app.screen.query("#phone-qr")),
                    "a new link")
        second = str(app.screen.query_one("#phone-link", Static).render())
        assert second != first and second.startswith(services.sandbox.url + "/pay/cs_test_")
        drawn = str(app.screen.query_one("#phone-qr", QrCode).render()).splitlines()
        assert decode(modules_from_text(drawn)) == [second]
        assert [e.status for e in PhoneEntry.select().order_by(PhoneEntry.id)] == \
            ["expired", "pending"]
    assert intents(services) == []


def test_a_link_opens_when_the_sandbox_clock_is_ahead(services):
    services.sandbox.advance_clock(35 * 60)
    desk = services.desk
    dana = desk.sign_in_client(DANA_EMAIL, "demo-dana")
    amounts = {i.invoice_id: i.balance for i in desk.payable_invoices(dana) if i.number in PAID}
    link = desk.start_phone_entry(dana, amounts)
    assert link.url.startswith(services.sandbox.url + "/pay/cs_test_")
    # Stripe's page lives 31 minutes by Stripe's clock; Paydesk's link 30 by its own.
    session = services.sandbox.objects("checkout.session")[0]
    assert 31 * 60 - 5 <= session["expires_at"] - session["created"] <= 31 * 60
    assert link.expires_at == WALK_NOW + dt.timedelta(minutes=30)


# -- point 5: the real `paydesk` under a pty, the sandbox in a process of its own ------------

@pytest.fixture
def sandbox_process(tmp_path) -> Iterator[str]:
    """`paydesk sandbox` in a process of its own: the card typed on the page reaches it,
    never Paydesk."""
    port = free_port()
    log = (tmp_path / "sandbox.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "tui.cli", "sandbox", "--port", str(port)],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT,
                            start_new_session=True)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                with socket.create_connection(("127.0.0.1", port), timeout=1):
                    break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sandbox did not start: "
                                       + (tmp_path / "sandbox.log").read_text()) from None
                time.sleep(0.05)
        yield url
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        log.close()


# Paydesk's own log: every logger of the process at DEBUG (the Stripe SDK's request lines
# and bodies too) into a file, then the command line as `paydesk` runs it.
LOGGED_MAIN = (
    "import logging, os, sys\n"
    "logging.basicConfig(filename=os.environ['PAYDESK_TEST_LOG'], level=logging.DEBUG,\n"
    "                    format='%(asctime)s %(name)s %(levelname)s %(message)s')\n"
    "from tui.cli import main\n"
    "sys.exit(main(sys.argv[1:]))\n"
)
F2, F5, DOWN, RIGHT, SHIFT_TAB = "\x1bOQ", "\x1b[15~", "\x1b[B", "\x1b[C", "\x1b[Z"


def sandbox_get(base: str, path: str) -> dict:
    request = urllib.request.Request(f"{base}{path}",  # noqa: S310 - the loopback sandbox
                                     headers={"Authorization": "Bearer sk_test_paydesk_demo"})
    with urllib.request.urlopen(request, timeout=5) as response:  # noqa: S310
        return json.loads(response.read())


async def phone_screen(terminal: Terminal) -> str:
    """Wait until the phone screen is drawn whole: its link, and a QR code that a phone's
    camera reads as that same link. Returns the link."""
    deadline = time.monotonic() + 20
    while True:
        lines = screen_lines(bytes(terminal.stream))
        link = link_on_screen(lines)
        if link and "Waiting for the card" in "\n".join(lines):
            try:
                if decode(modules_from_text(qr_on_screen(lines))) == [link]:
                    return link
            except ValueError:  # no code drawn yet
                pass
        if time.monotonic() > deadline or terminal.proc.poll() is not None:
            raise AssertionError("the link and its QR code were never drawn:\n"
                                 + "\n".join(lines))
        await asyncio.to_thread(terminal.read, 0.1)


async def test_no_card_number_passes_through_paydesk(sandbox_process, chromium, tmp_path):
    home = tmp_path / "paydesk"  # everything Paydesk writes: database, outbox, log
    log = home / "paydesk.log"
    home.mkdir()
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("TEXTUAL", "PAYDESK_", "STRIPE_"))}
    env.update(TERM="xterm-256color", COLUMNS=str(COLUMNS), LINES=str(ROWS),
               XDG_DATA_HOME=str(home / "data"), XDG_CONFIG_HOME=str(home / "config"),
               XDG_CACHE_HOME=str(home / "cache"), TMPDIR=str(home),
               PAYDESK_OUTBOX_DIR=str(home / "outbox"), PAYDESK_TEST_LOG=str(log),
               PAYDESK_STRIPE_API_BASE=sandbox_process)
    terminal = Terminal([sys.executable, "-c", LOGGED_MAIN, "demo", "--app", "kiosk",
                         "--db", str(home / "paydesk.db")], env, ROOT)
    try:
        await terminal.wait_for("Sign in")
        terminal.press(F2)
        await terminal.wait_for("Email")
        # Typed as a person types: each field drawn before the next key (a burst of text and
        # a Tab binding can be applied out of order).
        mark = terminal.press("dana.whitfield@example.com")
        await terminal.wait_for("dana.whitfield@example.com", since=mark)
        mark = terminal.press("\t")
        await terminal.wait_for_output(mark)
        mark = terminal.press("demo-dana")
        await terminal.wait_for("•" * len("demo-dana"), since=mark)
        mark = terminal.press("\r")
        await terminal.wait_for("5 invoices ticked", since=mark)
        mark = terminal.press(DOWN, DOWN, DOWN, " ", DOWN, " ")  # untick INV-1012, INV-1021
        await terminal.wait_for("3 invoices ticked", since=mark)
        mark = terminal.press("c")
        await terminal.wait_for("Payment method", since=mark)
        terminal.press(SHIFT_TAB)  # to the tabs, then along them to "On my phone"
        for _ in range(6):
            mark = terminal.press(RIGHT)
            try:
                await terminal.wait_for("QR code is shown", since=mark, timeout=2)
                break
            except AssertionError:
                continue
        else:
            raise AssertionError("no 'On my phone' tab:\n" + terminal.text()[-2000:])
        mark = terminal.press(F5)
        # Pay works once the statement lines are in (the balances checked again first).
        await terminal.wait_for("HARBORVALE* INV-1009", since=mark)
        terminal.press(F5)
        link = await phone_screen(terminal)
        assert link.startswith(sandbox_process + "/pay/cs_test_")
        mark = len(terminal.stream)
        async with Chromium(chromium, tmp_path / "profile", 412, 915) as browser:
            await enter_card(browser, link, " ".join(re.findall("....", MARKER)))
            # Keep the card on file? Asked on the kiosk once it is saved: no, this time.
            await terminal.wait_for("this payment only", since=mark, timeout=30)
            mark = terminal.press("n")
            await terminal.wait_for("Payment complete", since=mark, timeout=30)
        # The receipt email is in the outbox once the screen says it was sent.
        await terminal.wait_for("A confirmation email was sent", since=mark)
    finally:
        terminal.close()  # a kiosk has no quit key: it is stopped (SIGTERM)

    # The card was used: three PaymentIntents, at the sandbox, with the marker card.
    intents_at_stripe = sandbox_get(sandbox_process, "/v1/payment_intents?limit=10")["data"]
    assert sorted(pi["status"] for pi in intents_at_stripe) == ["succeeded"] * 3
    method = sandbox_get(sandbox_process,
                         f"/v1/payment_methods/{intents_at_stripe[0]['payment_method']}")
    assert method["card"]["last4"] == MARKER[-4:]

    # Nowhere in what Paydesk's process drew, wrote or logged: the number, whole or spaced,
    # or its first twelve digits (the last four are allowed).
    files = [p for p in home.rglob("*") if p.is_file()]
    assert log in files and (home / "paydesk.db") in files
    assert log.stat().st_size > 0
    places = {"the pty output": bytes(terminal.stream),
              "the pty text": terminal.text().encode()}
    places.update({str(p.relative_to(home)): p.read_bytes() for p in files})
    forms = [MARKER, " ".join(re.findall("....", MARKER)), "-".join(re.findall("....", MARKER)),
             MARKER[:12]]
    for where, content in places.items():
        squeezed = re.sub(rb"[\s-]", b"", content)
        for form in forms:
            assert form.encode() not in content, f"{form} in {where}"
        assert MARKER[:12].encode() not in squeezed, f"the card's digits in {where}"
    # Its last four are what Paydesk keeps and shows of it: the search looked where it should.
    assert MARKER[-4:].encode() in (home / "paydesk.db").read_bytes() + bytes(terminal.stream)
