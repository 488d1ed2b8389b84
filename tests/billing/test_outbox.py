"""Outbox delivery against a real SMTP server on loopback (aiosmtpd), and as .eml files.

Issue 4, point 6: the email arrives, with the right transactions and attachments (over
STARTTLS with login), and an SMTP outage delays it without losing it.
"""

from __future__ import annotations

import datetime as dt
import email
import email.policy
import ipaddress
import socket
import ssl
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from billing.config import SmtpSettings
from billing.emails import queue_confirmation
from billing.errors import BillingError
from billing.outbox import MAX_DELAY, _claim, backoff, deliver_due
from models import OutboundEmail, database
from tests.billing.test_receipts import card_checkout, payments_of, pdf_text
from tui.cli import main as paydesk

T0 = dt.datetime(2026, 11, 2, 15, 0, 0)
USER, PASSWORD = "paydesk", "s3cret-Pa55"  # noqa: S105 - the test server's login
SENDER = "Harbor & Vale LLP <payments@harborvale.test>"


# --- the SMTP server ---------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: tuple[str, ...]
    content: bytes
    tls: bool
    authenticated: bool

    @property
    def message(self):
        return email.message_from_bytes(self.content, policy=email.policy.default)


class Inbox:
    """An aiosmtpd handler that keeps what it receives."""

    def __init__(self, delay: float = 0.0) -> None:
        self.received: list[Received] = []
        self.delay = delay
        self._lock = threading.Lock()

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd's name
        if self.delay:
            time.sleep(self.delay)  # hold the session, so two deliveries overlap
        with self._lock:
            self.received.append(Received(
                envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content),
                tls=session.ssl is not None, authenticated=bool(session.authenticated),
            ))
        return "250 OK: queued"


def authenticator(server, session, envelope, mechanism, auth_data):
    ok = (isinstance(auth_data, LoginPassword) and auth_data.login == USER.encode()
          and auth_data.password == PASSWORD.encode())
    return AuthResult(success=ok, handled=False)  # handled=False: aiosmtpd answers 535


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1: (certificate, key) PEM files."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name)
        .public_key(key.public_key()).serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1)).not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(
            [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), critical=False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption()))
    return cert_path, key_path


@pytest.fixture
def client_tls(certificate) -> ssl.SSLContext:
    """What Paydesk trusts in these tests: the test server's certificate only (verified)."""
    return ssl.create_default_context(cafile=str(certificate[0]))


class SmtpServer:
    """Start and stop an aiosmtpd server on one fixed loopback port."""

    def __init__(self, certificate, inbox: Inbox) -> None:
        self.port = free_port()
        self.inbox = inbox
        self.certificate = certificate
        self.controller: Controller | None = None

    def start(self) -> None:
        server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        server_tls.load_cert_chain(*map(str, self.certificate))
        self.controller = Controller(
            self.inbox, hostname="127.0.0.1", port=self.port, tls_context=server_tls,
            require_starttls=True, auth_required=True, auth_require_tls=True,
            authenticator=authenticator,
        )
        self.controller.start()

    def stop(self) -> None:
        if self.controller is not None:
            self.controller.stop()
            self.controller = None

    def settings(self, **changes) -> SmtpSettings:
        base = SmtpSettings(host="127.0.0.1", port=self.port, username=USER, password=PASSWORD,
                            starttls=True, sender=SENDER)
        return replace(base, **changes)


@pytest.fixture
def smtp_server(certificate):
    server = SmtpServer(certificate, Inbox())
    yield server
    server.stop()


def queued_email(amounts: dict[str, int] | None = None, **checkout) -> OutboundEmail:
    """A checkout of captured card payments and its queued confirmation, due at T0."""
    paid = card_checkout(amounts or {"INV-1001": 125000, "INV-1012": 47500, "INV-1021": 9525},
                         **checkout)
    row = queue_confirmation(paid.id)
    OutboundEmail.update(next_attempt_at=T0).where(OutboundEmail.id == row.id).execute()
    return OutboundEmail.get_by_id(row.id)


# --- point 6 -----------------------------------------------------------------------------


def test_email_arrives_over_starttls_with_login_listing_every_transaction_and_receipt(
    demo_db, smtp_server, client_tls, tmp_path
):
    row = queued_email()
    payments = payments_of(row.checkout)
    smtp_server.start()

    report = deliver_due(smtp_server.settings(), str(tmp_path / "outbox"), now=T0,
                         ssl_context=client_tls)

    assert (report.sent, report.failed, report.still_queued) == (1, 0, 0)
    [received] = smtp_server.inbox.received
    assert received.tls and received.authenticated
    assert received.mail_from == "payments@harborvale.test"
    assert received.rcpt_tos == ("dana.whitfield@example.com",)
    message = received.message
    assert message["Subject"] == "Harbor & Vale LLP: payment received (3 transactions)"
    assert message["From"] == SENDER
    text = message.get_body(preferencelist=("plain",)).get_content()
    html = message.get_body(preferencelist=("html",)).get_content()
    for body in (text, html):
        assert "3 separate transactions will appear on your statement" in body
        for payment in payments:
            assert payment.invoice.number in body
            assert payment.stripe_payment_intent_id in body
            assert payment.receipt_number in body
        assert body.count("Visa •••• 4242") == 3
    attachments = list(message.iter_attachments())
    assert [a.get_filename() for a in attachments] == [
        f"receipt-{p.receipt_number}.pdf" for p in payments]
    for attachment, payment in zip(attachments, payments, strict=True):
        assert attachment.get_content_type() == "application/pdf"
        assert payment.receipt_number.encode() in pdf_text(attachment.get_content())
    sent = OutboundEmail.get_by_id(row.id)
    assert sent.status == "sent" and sent.sent_at == T0 and sent.last_error is None
    assert not (tmp_path / "outbox").exists()  # SMTP configured: no .eml files


def test_smtp_outage_delays_the_email_without_losing_it(
    demo_db, smtp_server, client_tls, tmp_path
):
    row = queued_email()
    settings = smtp_server.settings()

    # Nothing listens on the port: connection refused.
    down = deliver_due(settings, str(tmp_path), now=T0, ssl_context=client_tls)

    assert (down.sent, down.failed, down.still_queued) == (0, 1, 1)
    assert "refused" in down.errors[0].lower()
    waiting = OutboundEmail.get_by_id(row.id)
    assert waiting.status == "queued"
    assert waiting.attempts == 1
    assert waiting.next_attempt_at == T0 + dt.timedelta(seconds=30)
    assert "refused" in waiting.last_error.lower()
    assert waiting.message == row.message  # kept whole

    smtp_server.start()
    # Back up, but the back-off has not passed: nothing is sent yet.
    early = deliver_due(settings, str(tmp_path), now=T0 + dt.timedelta(seconds=29),
                        ssl_context=client_tls)
    assert (early.sent, early.failed, early.still_queued) == (0, 0, 1)
    assert smtp_server.inbox.received == []

    later = deliver_due(settings, str(tmp_path), now=T0 + dt.timedelta(seconds=31),
                        ssl_context=client_tls)
    again = deliver_due(settings, str(tmp_path), now=T0 + dt.timedelta(hours=3),
                        ssl_context=client_tls)

    assert (later.sent, later.failed, later.still_queued) == (1, 0, 0)
    assert again.sent == 0
    assert len(smtp_server.inbox.received) == 1  # exactly once
    arrived = smtp_server.inbox.received[0].message
    assert arrived["Message-ID"] == email.message_from_string(row.message)["Message-ID"]
    assert len(list(arrived.iter_attachments())) == 3
    delivered = OutboundEmail.get_by_id(row.id)
    assert delivered.status == "sent" and delivered.attempts == 2
    assert delivered.sent_at == T0 + dt.timedelta(seconds=31)


# --- failures and back-off ---------------------------------------------------------------


def test_backoff_doubles_from_30_seconds_and_stops_at_an_hour():
    assert [backoff(n).total_seconds() for n in range(1, 6)] == [30, 60, 120, 240, 480]
    assert backoff(8) == MAX_DELAY == dt.timedelta(hours=1)
    assert backoff(10_000) == MAX_DELAY


def test_repeated_failures_back_off_further_each_time(demo_sqlite, tmp_path):
    row = queued_email()
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False, sender=SENDER)
    now = T0
    for attempt, wait in enumerate((30, 60, 120, 240), start=1):
        report = deliver_due(settings, str(tmp_path), now=now)
        assert report.failed == 1
        current = OutboundEmail.get_by_id(row.id)
        assert current.attempts == attempt
        assert current.next_attempt_at == now + dt.timedelta(seconds=wait)
        now = current.next_attempt_at
    assert OutboundEmail.get_by_id(row.id).status == "queued"


def test_a_rejected_login_keeps_the_email_and_never_records_the_password(
    demo_sqlite, smtp_server, client_tls, tmp_path
):
    row = queued_email()
    smtp_server.start()
    wrong = "wrong-Pa55word-123"  # noqa: S105

    report = deliver_due(smtp_server.settings(password=wrong), str(tmp_path), now=T0,
                         ssl_context=client_tls)

    assert report.failed == 1 and report.sent == 0
    current = OutboundEmail.get_by_id(row.id)
    assert current.status == "queued" and current.attempts == 1
    assert "Authentication" in current.last_error
    assert wrong not in current.last_error and wrong not in " ".join(report.errors)
    assert smtp_server.inbox.received == []


def test_an_untrusted_certificate_is_refused_not_ignored(demo_sqlite, smtp_server, tmp_path):
    row = queued_email()
    smtp_server.start()

    # The system's trust store does not know the self-signed test certificate.
    report = deliver_due(smtp_server.settings(), str(tmp_path), now=T0)

    assert report.failed == 1
    assert "CERTIFICATE_VERIFY_FAILED" in OutboundEmail.get_by_id(row.id).last_error
    assert smtp_server.inbox.received == []


def test_an_outage_stops_the_run_and_leaves_the_other_emails_untouched(demo_sqlite, tmp_path):
    first = queued_email({"INV-1001": 1000})
    second = queued_email({"INV-1012": 1000})
    settings = SmtpSettings(host="127.0.0.1", port=free_port(), starttls=False)

    report = deliver_due(settings, str(tmp_path), now=T0)

    assert (report.sent, report.failed, report.still_queued) == (0, 1, 2)
    assert OutboundEmail.get_by_id(first.id).attempts == 1
    untouched = OutboundEmail.get_by_id(second.id)
    assert untouched.attempts == 0 and untouched.next_attempt_at == T0


# --- two deliverers at once --------------------------------------------------------------


def test_an_email_claimed_by_another_run_is_not_sent_again(demo_db, tmp_path):
    row = queued_email()
    assert _claim(row.id, T0) is not None  # another process is sending it right now
    assert _claim(row.id, T0) is None  # ... so nobody else can claim it

    report = deliver_due(SmtpSettings(), str(tmp_path / "outbox"), now=T0)

    assert report.sent == 0 and report.still_queued == 1
    assert not (tmp_path / "outbox").exists()
    # If that process died, the email is due again once its claim lapses.
    late = deliver_due(SmtpSettings(), str(tmp_path / "outbox"), now=T0 + dt.timedelta(hours=1))
    assert late.sent == 1


def test_two_deliverers_at_once_send_each_email_exactly_once(
    demo_db, database_url, certificate, client_tls, tmp_path
):
    from models import bind, open_database

    rows = [queued_email({number: 1000}) for number in
            ("INV-1001", "INV-1004", "INV-1009", "INV-1012", "INV-1021")]
    server = SmtpServer(certificate, Inbox(delay=0.05))
    server.start()
    database.close()
    try:
        results, failures = [], []
        barrier = threading.Barrier(2)

        def deliverer():
            try:
                barrier.wait()
                results.append(deliver_due(server.settings(), str(tmp_path), now=T0,
                                           ssl_context=client_tls))
            except Exception as exc:  # noqa: BLE001 - reported below
                failures.append(exc)
            finally:
                database.close()

        threads = [threading.Thread(target=deliverer) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    finally:
        server.stop()
        bind(open_database(database_url))

    assert failures == []
    assert sum(r.sent for r in results) == 5
    ids = [r.message["Message-ID"] for r in server.inbox.received]
    assert len(ids) == 5 and len(set(ids)) == 5
    assert OutboundEmail.select().where(OutboundEmail.status == "sent").count() == len(rows)


def test_delivering_inside_a_transaction_is_refused(demo_sqlite, tmp_path):
    queued_email()
    with database.atomic(), pytest.raises(BillingError, match="after the payment"):
        deliver_due(SmtpSettings(), str(tmp_path), now=T0)


# --- .eml files --------------------------------------------------------------------------


def test_eml_files_are_written_when_smtp_is_not_configured(demo_db, tmp_path):
    row = queued_email()
    outbox = tmp_path / "outbox"

    report = deliver_due(SmtpSettings(sender=SENDER), str(outbox), now=T0)

    assert (report.sent, report.failed, report.still_queued) == (1, 0, 0)
    [path] = list(outbox.iterdir())
    assert path.name == f"{row.id:06d}-dana.whitfield_at_example.com.eml"
    message = email.message_from_bytes(path.read_bytes(), policy=email.policy.default)
    assert message["To"] == "dana.whitfield@example.com"
    assert message["From"] == SENDER
    assert message["Subject"] == row.subject
    assert len(list(message.iter_attachments())) == 3
    assert OutboundEmail.get_by_id(row.id).status == "sent"
    # Sent emails are not written again.
    assert deliver_due(SmtpSettings(), str(outbox), now=T0 + dt.timedelta(days=1)).sent == 0
    assert len(list(outbox.iterdir())) == 1


def test_an_unwritable_outbox_folder_keeps_the_email_queued(demo_sqlite, tmp_path):
    row = queued_email()
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the folder should be")

    report = deliver_due(SmtpSettings(), str(blocker / "outbox"), now=T0)

    assert report.failed == 1
    current = OutboundEmail.get_by_id(row.id)
    assert current.status == "queued" and current.attempts == 1 and current.last_error


# --- command line ------------------------------------------------------------------------


def test_cli_outbox_send_writes_eml_files_and_summarises(
    demo_sqlite, sqlite_url, tmp_path, monkeypatch, capsys
):
    queued_email()
    OutboundEmail.update(next_attempt_at=dt.datetime(2000, 1, 1)).execute()
    config = tmp_path / "paydesk.toml"
    config.write_text("")
    outbox = tmp_path / "cli-outbox"
    monkeypatch.delenv("PAYDESK_SMTP_HOST", raising=False)
    monkeypatch.setenv("PAYDESK_OUTBOX_DIR", str(outbox))

    status = paydesk(["--config", str(config), "--db", sqlite_url, "outbox", "send"])

    out = capsys.readouterr().out
    assert status == 0
    assert "sent 1, failed 0, still queued 0" in out and str(outbox) in out
    assert len(list(outbox.glob("*.eml"))) == 1


def test_cli_outbox_send_reports_an_outage_and_exits_non_zero(
    demo_sqlite, sqlite_url, tmp_path, monkeypatch, capsys
):
    queued_email()
    OutboundEmail.update(next_attempt_at=dt.datetime(2000, 1, 1)).execute()
    config = tmp_path / "paydesk.toml"
    config.write_text(f'[smtp]\nhost = "127.0.0.1"\nport = {free_port()}\nstarttls = false\n')

    status = paydesk(["--config", str(config), "outbox", "send", "--db", sqlite_url])

    captured = capsys.readouterr()
    assert status != 0
    assert "sent 0, failed 1, still queued 1" in captured.out
    assert "refused" in captured.err.lower() and "retried" in captured.err
