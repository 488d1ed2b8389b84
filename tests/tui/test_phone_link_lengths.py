"""The link on the "pay on your phone" screen at 80x24: the firm's short link as a QR code
that decodes to it, and, without short links, Stripe's long address said plainly instead
of a code too large for the screen (which would be cut off and read as nothing)."""

from __future__ import annotations

import dataclasses

import pytest
from textual.widgets import Static

from billing.config import KioskSettings, Settings
from billing.services import build_services
from tests.billing.test_short_links import BASE, SHORT, STRIPE_LIKE
from tests.tui.fakes import screen_text
from tests.tui.test_kiosk_walkthrough import kiosk_app
from tests.tui.test_phone_entry_flow import Clock, to_phone_entry
from tests.tui.test_qr_code import decode, modules_from_text
from tui.screens.phone_entry import LINK_TOO_LONG, QR_TOO_LONG
from tui.widgets.qr_code import QrCode


def services_for(sqlite_url, tmp_path, kiosk: KioskSettings):
    settings = Settings(database_url=sqlite_url, outbox_dir=str(tmp_path / "outbox"),
                        terminal="kiosk-test", kiosk=kiosk)
    return build_services(settings, clock=Clock(), reconcile_at_start=False)


@pytest.fixture
def short_services(demo_sqlite, sqlite_url, tmp_path):
    built = services_for(sqlite_url, tmp_path, KioskSettings(phone_link_base=BASE))
    try:
        yield built
    finally:
        built.close()


@pytest.fixture
def plain_services(demo_sqlite, sqlite_url, tmp_path):
    built = services_for(sqlite_url, tmp_path, KioskSettings())
    try:
        yield built
    finally:
        built.close()


async def test_the_short_link_is_the_qr_code_at_80x24(short_services):
    app = kiosk_app(short_services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_phone_entry(pilot, app)
        assert SHORT.match(screen.url), screen.url
        assert str(screen.query_one("#phone-link", Static).render()) == screen.url
        drawn = str(screen.query_one("#phone-qr", QrCode).render()).splitlines()
        assert decode(modules_from_text(drawn)) == [screen.url]
        # The whole code is on the screen, not cut off by its edges.
        assert screen.query_one("#phone-qr", QrCode).region.bottom <= 23


async def test_a_link_too_long_for_a_code_is_said_instead(plain_services, monkeypatch):
    desk = plain_services.desk
    real = desk.start_phone_entry
    monkeypatch.setattr(desk, "start_phone_entry", lambda payer, amounts: dataclasses.replace(
        real(payer, amounts), url=STRIPE_LIKE))
    app = kiosk_app(plain_services)
    async with app.run_test(size=(80, 24)) as pilot:
        screen = await to_phone_entry(pilot, app, shown="#phone-qr-too-long")
        assert not screen.query("#phone-qr")
        assert screen.url == STRIPE_LIKE
        note = screen.query_one("#phone-qr-too-long", Static)
        assert str(note.render()) == QR_TOO_LONG
        # Shown on one line, not spread over the screen: what is charged stays in view.
        link = screen.query_one("#phone-link", Static)
        assert link.size.height == 1 and str(link.render()).startswith(STRIPE_LIKE[:30])
        text = screen_text(app)
        assert str(screen.query_one("#phone-lead", Static).render()) == LINK_TOO_LONG
        assert "Total  $4,180.50" in text
        assert "Waiting for the card to be entered on the phone" in " ".join(text.split())
