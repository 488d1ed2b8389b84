"""At a kiosk and over SSH a saved PDF would stay on the server, where the payer cannot
reach it and the next session could: the result screen offers "Email me the receipt"
(queued through the outbox) instead of a file path. Where files are saved, two saves of
the same receipt make two files: an existing file is never overwritten."""

from __future__ import annotations

import dataclasses

import pytest
from textual.widgets import Button, Input

from billing.receipts import write_new_file
from models import OutboundEmail
from tests.tui.conftest import WALK_NOW
from tests.tui.fakes import keyed_kiosk, screen_text, settle, type_text
from tests.tui.test_code_payer_receipt import open_code
from tests.tui.test_stale_balances import to_review, wait_for
from tui.factory import make_app
from tui.screens.result import ResultScreen


def _app(services, *, mode: str, terminal: str):
    # The payment is made with a typed card: a kiosk set to take one.
    settings = dataclasses.replace(keyed_kiosk(services.settings), terminal=terminal)
    app = make_app(settings, mode=mode, services=services, clock=lambda: WALK_NOW)
    app.cursor_blink = False
    return app


async def _paid_by_code(pilot, email: str) -> ResultScreen:
    await open_code(pilot)
    await to_review(pilot)
    await type_text(pilot, email)
    await pilot.press("enter")
    await settle(pilot)
    await pilot.press("f5")
    result = await wait_for(pilot, ResultScreen)
    assert result.result.succeeded
    return result


def _told(app) -> str:
    return "\n".join(str(n.message) for n in app._notifications)


async def _wait_until(pilot, check, what: str, tries: int = 100):
    for _ in range(tries):
        await settle(pilot)
        if check():
            return
    raise AssertionError(f"never happened: {what}")


@pytest.mark.parametrize(("mode", "terminal"), [("kiosk", "kiosk-test"),
                                                ("demo", "ssh:10.0.0.7")])
async def test_kiosk_and_ssh_offer_email_me_the_receipt_instead_of_a_path(
        kiosk_services, tmp_path, mode, terminal):
    app = _app(kiosk_services, mode=mode, terminal=terminal)
    app.receipt_dir = str(tmp_path / "server-side")
    async with app.run_test(size=(100, 30)) as pilot:
        result = await _paid_by_code(pilot, "sam@example.net")
        shown = screen_text(app)
        assert "Email me the receipt" in shown
        assert "Save PDF" not in shown and str(tmp_path) not in shown
        assert not result.query("#result-save-path") and not result.query("#result-save")
        assert result.query_one("#result-email-to", Input).value == "sam@example.net"
        before = OutboundEmail.select().count()

        result.query_one("#result-email", Button).press()
        await _wait_until(pilot, lambda: OutboundEmail.select().count() == before + 1,
                          "the receipt email is queued")
        await _wait_until(pilot, lambda: "on its way to sam@example.net" in _told(app),
                          "the payer is told where it went")
    reference = result.result.transactions[0].reference
    sent = OutboundEmail.select().order_by(OutboundEmail.id.desc()).first()
    assert sent.recipient == "sam@example.net" and reference in sent.subject
    assert f"receipt-{reference}.pdf" in sent.message
    assert "Dana" not in sent.message  # a code holder's receipt never names the client
    assert not (tmp_path / "server-side").exists()  # nothing written on the server


async def test_a_bad_address_is_refused_and_nothing_is_queued(kiosk_services):
    app = _app(kiosk_services, mode="kiosk", terminal="kiosk-test")
    async with app.run_test(size=(100, 30)) as pilot:
        result = await _paid_by_code(pilot, "sam@example.net")
        before = OutboundEmail.select().count()
        field = result.query_one("#result-email-to", Input)
        field.value = "sam@example"
        result.query_one("#result-email", Button).press()
        await _wait_until(pilot, lambda: "not an email address" in _told(app),
                          "the reason is shown")
        assert OutboundEmail.select().count() == before


async def test_a_local_terminal_saves_and_two_saves_make_two_files(kiosk_services, tmp_path):
    app = _app(kiosk_services, mode="demo", terminal="front-office-3")
    app.receipt_dir = str(tmp_path)
    async with app.run_test(size=(100, 30)) as pilot:
        result = await _paid_by_code(pilot, "sam@example.net")
        assert "Save PDF" in screen_text(app) and not result.query("#result-email")
        reference = result.result.transactions[0].reference
        for count in (1, 2):
            result.query_one("#result-save", Button).press()
            await _wait_until(pilot, lambda n=count: len(list(tmp_path.glob("*.pdf"))) == n,
                              f"{count} saved file(s)")
    names = sorted(p.name for p in tmp_path.glob("*.pdf"))
    assert names == [f"receipt-{reference}-2.pdf", f"receipt-{reference}.pdf"]
    assert all(p.read_bytes().startswith(b"%PDF") for p in tmp_path.glob("*.pdf"))


def test_write_new_file_never_overwrites(tmp_path):
    target = tmp_path / "receipt-R-000017.pdf"
    target.write_bytes(b"another session's receipt")
    first = write_new_file(target, b"mine")
    second = write_new_file(target, b"mine again")
    assert target.read_bytes() == b"another session's receipt"
    assert (first.name, second.name) == ("receipt-R-000017-2.pdf", "receipt-R-000017-3.pdf")
    assert first.read_bytes() == b"mine" and second.read_bytes() == b"mine again"
