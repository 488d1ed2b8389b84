"""Receipts and emails speak the firm's local time (stored UTC, shown in the firm's time
zone with Babel), carry the firm's address and contact details, and come from the firm."""

from __future__ import annotations

import datetime as dt

import pytest

from billing.config import SmtpSettings
from billing.emails import build_confirmation, parse_message, queue_confirmation
from billing.errors import BillingError
from billing.localtime import check_time_zone, firm_datetime
from billing.outbox import deliver_due
from billing.receipts import receipt_pdf, receipt_text
from models import Firm
from models.demo import FIRM_EMAIL, FIRM_NAME
from tests.billing.test_receipts import card_checkout, payments_of, pdf_text
from tui.cli import main as paydesk

LATE = dt.datetime(2026, 11, 2, 23, 30)  # naive UTC: 6:30 PM in New York, Nov 3 in Berlin


@pytest.fixture
def cli(tmp_path, monkeypatch) -> list[str]:
    """Global arguments for the command line, with no configuration of this machine's."""
    config = tmp_path / "paydesk.toml"
    config.write_text("")
    for var in ("PAYDESK_SMTP_HOST", "PAYDESK_DATABASE_URL"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("PAYDESK_OUTBOX_DIR", str(tmp_path / "outbox"))
    monkeypatch.setenv("PAYDESK_STAFF_PIN", "2468")
    return ["--config", str(config)]


def _body(message) -> str:
    return message.get_body(("plain",)).get_content()


def test_a_late_receipt_shows_the_firms_local_time_in_text_pdf_and_email(demo_db):
    assert Firm.get().time_zone == "America/New_York"
    payment = payments_of(card_checkout({"INV-1012": 47500}, at=LATE))[0]

    text = receipt_text(payment.receipt_number)
    assert "Nov 2, 2026, 6:30 PM EST" in text
    assert "23:30" not in text and "UTC" not in text

    pdf = pdf_text(receipt_pdf(payment.receipt_number))
    assert b"Nov 2, 2026, 6:30 PM EST" in pdf
    assert b"23:30" not in pdf

    message = build_confirmation(payment.checkout_id)
    body = _body(message)
    assert "on Nov 2, 2026, 6:30 PM EST" in body
    assert "23:30" not in body
    html = message.get_body(("html",)).get_content()
    assert "Nov 2, 2026, 6:30 PM EST" in html


def test_the_local_date_follows_the_zone_across_midnight(demo_db):
    Firm.update(time_zone="Europe/Berlin", locale="de_DE").execute()
    payment = payments_of(card_checkout({"INV-1012": 47500}, at=LATE))[0]
    text = receipt_text(payment.receipt_number)
    assert "03.11.2026, 00:30 CET" in text  # already the next day in Berlin


def test_firm_address_and_contact_are_on_the_pdf_and_in_the_email(demo_db):
    payment = payments_of(card_checkout({"INV-1012": 47500}))[0]
    pdf = pdf_text(receipt_pdf(payment.receipt_number))
    for part in (b"200 Harbor Street, Suite 410", b"Portland, ME 04101", rb"\(207\) 555-0142",
                 FIRM_EMAIL.encode()):
        assert part in pdf
    text = receipt_text(payment.receipt_number)
    assert "200 Harbor Street, Suite 410" in text and "(207) 555-0142" in text
    assert max(len(line) for line in text.splitlines()) <= 42

    body = _body(build_confirmation(payment.checkout_id))
    for part in ("200 Harbor Street, Suite 410", "Portland, ME 04101", "(207) 555-0142",
                 FIRM_EMAIL):
        assert part in body


def test_the_demo_email_comes_from_the_demo_firm(demo_db, tmp_path):
    checkout = card_checkout({"INV-1012": 47500})
    assert build_confirmation(checkout.id)["From"] == f"{FIRM_NAME} <{FIRM_EMAIL}>"

    queue_confirmation(checkout.id)
    report = deliver_due(SmtpSettings(), str(tmp_path))  # the demo's settings: no SMTP
    assert report.sent == 1
    [eml] = list(tmp_path.glob("*.eml"))
    delivered = parse_message(eml.read_text())
    assert delivered["From"] == f"{FIRM_NAME} <{FIRM_EMAIL}>"
    assert "localhost" not in delivered["From"]


def test_a_bad_time_zone_is_refused_naming_the_setting(demo_db, caplog):
    assert check_time_zone(" Asia/Tokyo ") == "Asia/Tokyo"
    for bad in ("Mars/Olympus_Mons", "", "EST5EDT/../../etc", "America/New York"):
        with pytest.raises(BillingError, match=r"firm\.time_zone: .* is not a time zone name"):
            check_time_zone(bad)
    # A firm row edited by hand to a bad name: the receipt is still shown (never lost over
    # how its time is shown), in UTC and saying so, and the log names the setting.
    payment = payments_of(card_checkout({"INV-1012": 47500}, at=LATE))[0]
    Firm.update(time_zone="Mars/Olympus_Mons").execute()
    assert "Nov 2, 2026, 11:30 PM UTC" in receipt_text(payment.receipt_number)
    assert "firm.time_zone: 'Mars/Olympus_Mons' is not a time zone name" in caplog.text


def test_firm_datetime_is_local_and_localised():
    assert firm_datetime(LATE, "America/New_York", "en_US") == "Nov 2, 2026, 6:30 PM EST"
    assert firm_datetime(LATE, "UTC", "en_US") == "Nov 2, 2026, 11:30 PM UTC"
    assert firm_datetime(LATE, None, "en_GB") == "2 Nov 2026, 23:30 UTC"


def test_an_admin_sets_the_time_zone_and_contact_and_a_bad_value_changes_nothing(desk):
    admin = desk.sign_in_staff("Avery Admin", "1357")
    before = Firm.get()
    for kwargs, setting in (({"time_zone": "Europe/Atlantis"}, "firm.time_zone"),
                            ({"email": "billing@", "time_zone": "Europe/Paris"}, "firm.email"),
                            ({"phone": "call us maybe"}, "firm.phone")):
        with pytest.raises(BillingError, match=setting.replace(".", r"\.")):
            desk.set_firm_details(admin, **kwargs)
        after = Firm.get()
        assert (after.time_zone, after.email, after.phone) == (
            before.time_zone, before.email, before.phone)

    info = desk.set_firm_details(admin, time_zone="Europe/Paris", phone="+33 1 23 45 67 89",
                                 address="12 rue de la Paix\n75002 Paris")
    assert info.time_zone == "Europe/Paris"
    firm = Firm.get()
    assert (firm.time_zone, firm.phone, firm.address) == (
        "Europe/Paris", "+33 1 23 45 67 89", "12 rue de la Paix\n75002 Paris")
    payment = payments_of(card_checkout({"INV-1012": 47500}, at=LATE))[0]
    text = receipt_text(payment.receipt_number)
    assert "12 rue de la Paix" in text and "Nov 3, 2026, 12:30 AM CET" in text


def test_front_desk_staff_cannot_change_the_firm_details(desk):
    front = desk.sign_in_staff("Front Desk", "2468")
    with pytest.raises(Exception, match="(?i)admin"):
        desk.set_firm_details(front, time_zone="Europe/Paris")
    assert Firm.get().time_zone == "America/New_York"


def test_cli_firm_sets_and_refuses_with_the_setting_named(demo_sqlite, sqlite_url, cli,
                                                          capsys, monkeypatch):
    monkeypatch.setenv("PAYDESK_STAFF_PIN", "1357")
    status = paydesk([*cli, "--db", sqlite_url, "firm", "--staff", "Avery Admin",
                      "--time-zone", "Mars/Base"])
    assert status == 2
    assert "firm.time_zone: 'Mars/Base' is not a time zone name" in capsys.readouterr().err
    assert Firm.get().time_zone == "America/New_York"

    status = paydesk([*cli, "--db", sqlite_url, "firm", "--staff", "Avery Admin",
                      "--time-zone", "Europe/Paris", "--address", "1 rue X",
                      "--address", "75001 Paris"])
    assert status == 0
    firm = Firm.get()
    assert (firm.time_zone, firm.address) == ("Europe/Paris", "1 rue X\n75001 Paris")


def test_cli_receipt_pdf_never_overwrites_a_file(demo_sqlite, sqlite_url, cli, tmp_path,
                                                 capsys):
    number = payments_of(card_checkout({"INV-1012": 47500}))[0].receipt_number
    target = tmp_path / "receipt.pdf"
    target.write_bytes(b"someone else's file")
    status = paydesk([*cli, "--db", sqlite_url, "receipt", number, "--pdf", str(target),
                      "--staff", "Front Desk"])
    assert status == 0
    assert target.read_bytes() == b"someone else's file"
    beside = tmp_path / "receipt-2.pdf"
    assert beside.read_bytes().startswith(b"%PDF-")
    assert str(beside) in capsys.readouterr().out


def test_an_older_demo_database_gets_the_demo_firms_details(demo_db):
    from models.demo import seed_demo

    # As migration 0006 leaves a demo firm seeded before it: UTC, no address.
    Firm.update(time_zone="UTC", address="", phone="", email="").execute()
    assert seed_demo() is False
    firm = Firm.get()
    assert (firm.time_zone, firm.email) == ("America/New_York", FIRM_EMAIL)
    assert "Portland, ME" in firm.address
