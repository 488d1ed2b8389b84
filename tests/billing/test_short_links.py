"""Short links to the card page on the payer's phone (kiosk.phone_link_base and `paydesk
serve-links`): a link short enough for a QR code at 80x24, that leads to Stripe's page only
while Paydesk still takes its card (SQLite and PostgreSQL)."""

from __future__ import annotations

import email
import http.client
import logging
import re
from dataclasses import replace
from urllib.parse import urlsplit

import pytest
import segno

from billing.config import ConfigError, load_settings
from billing.desk import Desk
from billing.link_server import LinkServer
from billing.short_links import ALPHABET, CODE_LENGTH, code_from_path
from models import OutboundEmail, PhoneEntry
from tests.billing.conftest import TODAY, full_balances, settings_for
from tests.billing.test_phone_entry import THREE, VISA, Clock, post
from tui.widgets.qr_code import qr_lines

BASE = "https://pay.harborvale.example"
SHORT = re.compile(rf"^{re.escape(BASE)}/p/[{ALPHABET}]{{{CODE_LENGTH}}}$")
# The shape of Stripe's own card page address: the session id and a long fragment.
STRIPE_LIKE = ("https://checkout.stripe.com/c/pay/cs_live_a1" + "B2c3D4e5F6g7H8" * 4
               + "#fidkdWxOYHwnPyd1blpxYHZxWjA0" + "T2pVb1hQXWFvZ0NsVjZ8" * 12)


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def desk(demo_db, gateway, sandbox, tmp_path, clock) -> Desk:
    settings = settings_for("unused", tmp_path, sandbox.url)
    settings = replace(settings, kiosk=replace(settings.kiosk, phone_link_base=BASE))
    return Desk(settings, gateway, clock=clock)


@pytest.fixture
def dana(desk):
    return desk.sign_in_client("dana.whitfield@example.com", "demo-dana")


@pytest.fixture
def links(clock):
    server = LinkServer("127.0.0.1", 0, clock=clock).start()
    try:
        yield server
    finally:
        server.stop()


def follow(server: LinkServer, short: str, method: str = "GET") -> tuple[int, dict, str]:
    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=5)
    try:
        connection.request(method, urlsplit(short).path)
        response = connection.getresponse()
        return response.status, dict(response.getheaders()), response.read().decode()
    finally:
        connection.close()


def test_stripe_s_own_address_would_not_fit_a_qr_code_at_80x24():
    assert len(qr_lines(STRIPE_LIKE)) > 24  # why the firm's short links exist


def test_the_link_shown_is_short_and_fits_beside_the_details_at_80x24(desk, dana, sandbox):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    assert SHORT.match(link.url), link.url
    entry = PhoneEntry.get_by_id(link.entry_id)
    assert entry.url.startswith(sandbox.url) and entry.url != link.url
    assert link.url.endswith(entry.short_code)
    assert segno.make(link.url, error="l", boost_error=False).version <= 4
    assert len(qr_lines(link.url)) <= 19 and max(map(len, qr_lines(link.url))) <= 37


def test_a_pending_link_leads_to_stripe_s_page_and_nothing_else(desk, dana, links):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    status, headers, _ = follow(links, link.url)
    assert status == 302
    assert headers["Location"] == PhoneEntry.get_by_id(link.entry_id).url
    assert headers["Cache-Control"] == "no-store"
    assert headers["Referrer-Policy"] == "no-referrer"
    assert follow(links, link.url, "HEAD")[0] == 302
    # Case does not matter when typed from the screen.
    assert follow(links, link.url[:-CODE_LENGTH] + link.url[-CODE_LENGTH:].upper())[0] == 302


def test_a_link_used_once_is_closed(desk, dana, links, sandbox):
    amounts = full_balances(THREE)
    link = desk.start_phone_entry(dana, amounts)
    stripe_page = PhoneEntry.get_by_id(link.entry_id).url
    assert post(stripe_page, VISA) == 200
    assert desk.pay_phone_entry(dana, link.entry_id, amounts).succeeded
    status, headers, body = follow(links, link.url)
    assert status == 410 and "Location" not in headers
    assert "This card page is closed" in body and stripe_page not in body


def test_an_expired_or_cancelled_link_is_closed(desk, dana, links, clock):
    expired = desk.start_phone_entry(dana, full_balances(THREE[:1]))
    cancelled = desk.start_phone_entry(dana, full_balances(THREE[1:2]))
    desk.cancel_phone_entry(dana, cancelled.entry_id)
    assert follow(links, expired.url)[0] == 302
    # By the link server's clock alone, before any terminal has noticed the expiry.
    clock.now = expired.expires_at
    assert PhoneEntry.get_by_id(expired.entry_id).status == "pending"
    assert follow(links, expired.url)[0] == 410
    assert follow(links, cancelled.url)[0] == 410


@pytest.mark.parametrize("path", ["/p/2222222222", "/p/short", "/p/../../etc", "/", "/p/"])
def test_an_unknown_address_is_not_found(desk, links, path):
    status, headers, body = follow(links, "http://x" + path)
    assert status == 404 and "Location" not in headers and "No card page here" in body


def test_the_code_is_never_logged(desk, dana, links, caplog):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    code = link.url.rsplit("/", 1)[1]
    with caplog.at_level(logging.INFO, logger="billing.link_server"):
        assert follow(links, link.url)[0] == 302
    assert caplog.records, "the request was logged"
    assert all(code not in record.getMessage() for record in caplog.records)


def test_the_emailed_link_is_the_short_one(desk, dana):
    link = desk.start_phone_entry(dana, full_balances(THREE))
    desk.email_phone_link(dana, link.entry_id, "dana@example.com", "20 Oct 2026, 12:30")
    body = email.message_from_string(OutboundEmail.get().message).get_payload(
        decode=True).decode()
    assert link.url in body
    assert PhoneEntry.get_by_id(link.entry_id).url not in body


def test_without_a_link_server_the_page_s_own_address_is_shown(demo_db, gateway, sandbox,
                                                               tmp_path):
    desk = Desk(settings_for("unused", tmp_path, sandbox.url), gateway, clock=lambda: TODAY)
    dana = desk.sign_in_client("dana.whitfield@example.com", "demo-dana")
    link = desk.start_phone_entry(dana, full_balances(THREE))
    entry = PhoneEntry.get_by_id(link.entry_id)
    assert link.url == entry.url and entry.short_code is None


def test_codes_are_read_only_from_their_own_path():
    assert code_from_path("/p/abcdefghjk") == "abcdefghjk"
    assert code_from_path("/P/ABCDEFGHJK/?utm=x") == "abcdefghjk"
    for path in ("/p/abcdefghj", "/p/abcdefghjkl", "/p/abcdefgh1k", "/x/abcdefghjk", "/"):
        assert code_from_path(path) is None


@pytest.mark.parametrize("base", ["http://pay.example.com", "https://pay.example.com/?a=1",
                                  "https://", "pay.example.com", "https://firm.example/pay",
                                  "https://pay.example.com/" + "x" * 60])
def test_a_link_address_phones_cannot_use_is_refused(base):
    with pytest.raises(ConfigError, match="kiosk.phone_link_base"):
        load_settings(None, environ={"PAYDESK_KIOSK_PHONE_LINK_BASE": base})


def test_a_loopback_address_may_be_plain_http_for_trying_it_out():
    settings = load_settings(None, environ={
        "PAYDESK_KIOSK_PHONE_LINK_BASE": "http://127.0.0.1:8788"})
    assert settings.kiosk.phone_link_base == "http://127.0.0.1:8788"
